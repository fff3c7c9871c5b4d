"""The attribute layer's parts: usage, figures, context, cache and time values shared by the
span kinds of runner.otel.attributes.spans (pure functions, None values left out)."""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry.util.types import AttributeValue

from runner.accounting.figures import Figures, LedgerFigures
from runner.accounting.usage import Usage
from runner.otel.attributes import semconv as sc
from runner.otel.tree.nodes import ChatNode, Node, SessionNode

Attributes = dict[str, AttributeValue]


def gen_ai_usage(usage: Usage) -> Attributes:
    """GenAI usage: input INCLUDES cache tokens (the conventions' definition)."""
    return {
        sc.GEN_AI_USAGE_INPUT_TOKENS: usage.total_input_tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cache_read_input_tokens,
        sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: usage.cache_creation_input_tokens,
    }


def totals(figures: Figures) -> Attributes:
    """A query's, subagent's or session's totals (the ledger's), under the product's names:
    no backend reads them as usage or cost, so nothing is counted twice."""
    usage = figures.usage
    prefix = sc.AGENTIC_SESSION_USAGE_PREFIX
    return {
        sc.AGENTIC_SESSION_LLM_CALLS: figures.calls,
        sc.AGENTIC_SESSION_COST_USD: float(figures.cost_usd),
        f"{prefix}input_tokens": usage.total_input_tokens,
        f"{prefix}output_tokens": usage.output_tokens,
        f"{prefix}cache_read.input_tokens": usage.cache_read_input_tokens,
        f"{prefix}cache_write.input_tokens": usage.cache_creation_input_tokens,
        **cache(usage, figures.cache_savings_usd),
    }


def ledger_totals(figures: LedgerFigures | None) -> Attributes:
    if figures is None:
        return {}
    out = totals(figures.total)
    if figures.reported_cost_usd is not None:
        out[sc.AGENTIC_SESSION_COST_REPORTED_USD] = float(figures.reported_cost_usd)
    if figures.cost_difference_usd is not None:
        out[sc.AGENTIC_SESSION_COST_DIFFERENCE_USD] = figures.cost_difference_usd
    return out


def context(chat: ChatNode) -> Attributes:
    used = chat.usage.total_input_tokens
    out: Attributes = {sc.AGENTIC_SESSION_CONTEXT_INPUT_TOKENS: used}
    window = chat.call.context_window if chat.call else None
    if window:
        out[sc.AGENTIC_SESSION_CONTEXT_WINDOW] = window
        out[sc.AGENTIC_SESSION_CONTEXT_UTILIZATION] = used / window
    return out


def context_utilization(chat: ChatNode) -> float | None:
    window = chat.call.context_window if chat.call else None
    return chat.usage.total_input_tokens / window if window else None


def cache(usage: Usage, savings_usd: float | None) -> Attributes:
    total = usage.total_input_tokens
    out: Attributes = {
        sc.AGENTIC_SESSION_CACHE_HIT_RATIO: usage.cache_read_input_tokens / total if total else 0.0
    }
    if savings_usd is not None:
        out[sc.AGENTIC_SESSION_CACHE_SAVINGS_USD] = float(savings_usd)
    return out


LANGFUSE_METADATA = frozenset(
    {
        sc.AGENTIC_SESSION_STATUS,
        sc.AGENTIC_SESSION_EXIT_CODE,
        sc.AGENTIC_SESSION_NUM_TURNS,
        sc.AGENTIC_SESSION_QUERY_INDEX,
        sc.AGENTIC_SESSION_LLM_CALLS,
        sc.AGENTIC_SESSION_COST_USD,
        sc.AGENTIC_SESSION_COST_REPORTED_USD,
        sc.AGENTIC_SESSION_COST_DIFFERENCE_USD,
        sc.AGENTIC_SESSION_COMPACTIONS,
        sc.AGENTIC_SESSION_CACHE_SAVINGS_USD,
        sc.AGENTIC_SESSION_COST_SOURCE,
        sc.AGENTIC_SESSION_CALL_OBSERVED,
        sc.AGENTIC_SESSION_CONTEXT_UTILIZATION,
        sc.AGENTIC_SESSION_CALL_ORIGIN,
        sc.AGENTIC_SESSION_CALL_SOURCE,
        sc.AGENTIC_SESSION_TOOL_DECISION,
    }
)
"""The runner's facts Langfuse shows as metadata keys of their own on both paths (its OTel
ingestion drops every other attribute of spans in its SDK's scope, TELEMETRY_MODE=langfuse-sdk):
status and the ledger's figures (Langfuse's own views cover tokens), how each call was priced.
Ids and paths stay out: links, not filters."""


def langfuse_metadata(node: Node, out: Attributes) -> Attributes:
    """`out` plus each fact of LANGFUSE_METADATA again as `langfuse.trace.metadata.<key>` on the
    session span (the trace's metadata) or `langfuse.observation.metadata.<key>` elsewhere,
    `<key>` being the name after `agentic_session.`, the value as it is (Langfuse stores it as
    text: 0.5 → "0.5"). Keys already in `out` win."""
    prefix = (
        sc.LANGFUSE_TRACE_METADATA_PREFIX
        if isinstance(node, SessionNode)
        else sc.LANGFUSE_OBSERVATION_METADATA_PREFIX
    )
    mirrored = {
        prefix + key.removeprefix(sc.AGENTIC_SESSION_PREFIX): value
        for key, value in out.items()
        if key in LANGFUSE_METADATA
    }
    return {**mirrored, **out}


def present(values: dict[str, AttributeValue | None]) -> Attributes:
    return {k: v for k, v in values.items() if v is not None}


def iso8601(at_ns: int) -> str:
    return datetime.fromtimestamp(at_ns / 1e9, UTC).isoformat(timespec="microseconds")


def session_of(node: Node) -> SessionNode | None:
    current: Node | None = node
    while current is not None and not isinstance(current, SessionNode):
        current = current.parent
    return current
