"""`claude-runner view FILE`: a session's tree from its saved stdout event log.

The log holds queries (user_message → result, with usage, cost, cache hit ratio and the
subagents' subtotals), tool calls (tool_use → tool_result, nested under the subagent tool that
started them), compactions, and the per-model breakdown at the end; per-LLM-call detail (context
utilization) lives in the trace, not the log. Rendering is deterministic for the same file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from io import StringIO
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree


def load(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Events from JSON lines; lines that are not JSON objects (log noise) are skipped."""
    events = []
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "type" in event:
            events.append(event)
    return events


def _t(event: dict[str, Any]) -> float:
    try:
        return datetime.fromisoformat(str(event.get("ts"))).timestamp()
    except ValueError:
        return 0.0


def _tokens(usage: dict[str, Any] | None) -> str:
    if not usage:
        return ""
    total_in = sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    )
    return f"  {total_in}→{int(usage.get('output_tokens') or 0)} tok"


def _cost(value: Any) -> str:
    return f"  ${float(value):.6f}" if isinstance(value, (int, float)) and value > 0 else ""


def _cache(usage: dict[str, Any] | None) -> str:
    if not usage:
        return ""
    total = sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    )
    read = int(usage.get("cache_read_input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    return f"  cache {read / total:.0%}" if total and (read or written) else ""


def _subagent(figures: dict[str, Any]) -> str:
    usage = {k: figures.get(k) for k in figures if k.endswith("_tokens")}
    return (
        f"subagent {escape(str(figures.get('type')))}  {figures.get('calls', 0)} calls"
        f"{_tokens(usage)}{_cost(figures.get('cost_usd'))}"
    )


def render(events: list[dict[str, Any]], *, width: int = 100, color: bool = False) -> str:
    start = next((e for e in events if e["type"] == "session_start"), None)
    end = next((e for e in events if e["type"] == "session_end"), None)
    session = (start or end or {}).get("session_id", "?")
    label = f"[bold]agentic-session[/bold] {escape(str(session))}"
    if start and end:
        label += f"  {_t(end) - _t(start):.2f}s"
    if end:
        label += _tokens(end.get("usage")) + _cost(end.get("total_cost_usd"))
        label += _cache(end.get("usage"))
        if end.get("compactions"):
            label += f"  {end['compactions']} compactions"
        status = end.get("status")
        label += f"  {'✓' if status == 'success' else '✗ ' + str(status)}"
    tree = Tree(label)
    query_nodes: dict[int, Tree] = {}
    query_start: dict[int, float] = {}
    tool_nodes: dict[str, Tree] = {}
    tool_start: dict[str, float] = {}
    tool_name: dict[str, str] = {}
    for event in events:
        kind, index = event["type"], event.get("query")
        if kind == "user_message" and isinstance(index, int):
            query_nodes[index] = tree.add(f"[bold]query {index}[/bold]")
            query_start[index] = _t(event)
        elif kind == "tool_use":
            parent = tool_nodes.get(str(event.get("parent_tool_use_id")))
            owner = parent or query_nodes.get(index or 0) or tree
            tool_id = str(event.get("id"))
            tool_name[tool_id] = str(event.get("name"))
            tool_start[tool_id] = _t(event)
            tool_nodes[tool_id] = owner.add(f"tool {escape(tool_name[tool_id])}")
        elif kind == "tool_result":
            tool_id = str(event.get("tool_use_id"))
            node = tool_nodes.get(tool_id)
            if node is not None:
                took = _t(event) - tool_start.get(tool_id, _t(event))
                mark = "  [red]✗ error[/red]" if event.get("is_error") else ""
                node.label = f"tool {escape(tool_name.get(tool_id, '?'))}  {took:.2f}s{mark}"
        elif kind == "result" and isinstance(index, int) and index in query_nodes:
            took = _t(event) - query_start.get(index, _t(event))
            mark = (
                f"  [red]✗ {escape(str(event.get('error_type')))}[/red]"
                if event.get("is_error")
                else ""
            )
            query_nodes[index].label = (
                f"[bold]query {index}[/bold]  {took:.2f}s  {event.get('num_turns', 0)} turns"
                f"{_tokens(event.get('usage'))}{_cost(event.get('total_cost_usd'))}"
                f"{_cache(event.get('usage'))}{mark}"
            )
            for figures in event.get("subagents") or []:
                query_nodes[index].add(_subagent(figures))
        elif kind == "compaction":
            owner = query_nodes.get(index or 0) or tree
            owner.add(
                f"compaction ({escape(str(event.get('trigger')))})  "
                f"{event.get('pre_tokens')}→{event.get('post_tokens')} tok"
            )
    for model, figures in sorted(((end or {}).get("models") or {}).items()):
        tree.add(f"model {escape(model)}{_tokens(figures)}{_cost(figures.get('cost_usd'))}")
    out = StringIO()
    Console(file=out, width=width, force_terminal=color, no_color=not color, highlight=False).print(
        tree
    )
    return out.getvalue()
