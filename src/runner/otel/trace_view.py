"""A compact tree of a session's trace for a person at a terminal: names, durations, tokens,
cost, errors. Deterministic for the same spans (children ordered by start time)."""

from __future__ import annotations

from collections.abc import Iterable
from io import StringIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from rich.console import Console
from rich.tree import Tree

from runner.otel.attributes import semconv as sc


def _label(span: ReadableSpan) -> str:
    a = span.attributes or {}
    duration = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    parts = [f"[bold]{span.name}[/bold]", f"{duration:.2f}s"]
    prefix = sc.AGENTIC_SESSION_USAGE_PREFIX  # totals of a query, subagent or session
    tokens_in = a.get(sc.GEN_AI_USAGE_INPUT_TOKENS, a.get(f"{prefix}input_tokens"))
    tokens_out = a.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS, a.get(f"{prefix}output_tokens"))
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0}→{tokens_out or 0} tok")
    cost = a.get(sc.GEN_AI_USAGE_COST, a.get(sc.AGENTIC_SESSION_COST_USD))
    if isinstance(cost, float) and cost > 0:
        parts.append(f"${cost:.6f}")
    utilization = a.get(sc.AGENTIC_SESSION_CONTEXT_UTILIZATION)
    if isinstance(utilization, float):
        parts.append(f"ctx {utilization:.0%}")
    hit = a.get(sc.AGENTIC_SESSION_CACHE_HIT_RATIO)
    if isinstance(hit, float) and (tokens_in or a.get(sc.AGENTIC_SESSION_LLM_CALLS)):
        parts.append(f"cache {hit:.0%}")
    if span.name == sc.COMPACTION_SPAN:
        parts.append(
            f"{a.get(sc.AGENTIC_SESSION_COMPACTION_TRIGGER)} "
            f"{a.get(sc.AGENTIC_SESSION_COMPACTION_PRE_TOKENS)}→"
            f"{a.get(sc.AGENTIC_SESSION_COMPACTION_POST_TOKENS)} tok"
        )
    compactions = a.get(sc.AGENTIC_SESSION_COMPACTIONS)
    if isinstance(compactions, int) and compactions:
        parts.append(f"{compactions} compactions")
    if span.status.status_code == StatusCode.ERROR:
        parts.append(f"[red]✗ {a.get(sc.ERROR_TYPE, 'error')}[/red]")
    return "  ".join(parts)


def render(spans: Iterable[ReadableSpan], *, width: int = 100, color: bool = True) -> str:
    """The span tree as text (roots first; a span whose parent is missing is a root)."""
    spans = sorted(spans, key=lambda s: (s.start_time or 0, s.name))
    ids = {s.context.span_id for s in spans}
    children: dict[int, list[ReadableSpan]] = {}
    roots: list[ReadableSpan] = []
    for span in spans:
        parent = span.parent.span_id if span.parent else None
        if parent is None or parent not in ids:
            roots.append(span)
        else:
            children.setdefault(parent, []).append(span)
    out = StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    for root in roots:
        console.print(_tree(root, children))
    return out.getvalue()


def _tree(root: ReadableSpan, children: dict[int, list[ReadableSpan]]) -> Tree:
    tree = Tree(_label(root))

    def add(span: ReadableSpan, node: Tree) -> None:
        for child in children.get(span.context.span_id, []):
            add(child, node.add(_label(child)))

    add(root, tree)
    return tree
