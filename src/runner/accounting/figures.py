"""What the ledger records and shows: one LLM call (`LedgerCall`) and the figures derived from
the calls (`Figures`, per subagent, per query, per model, per session).

Figures are frozen snapshots: the ledger computes them once, on the session driver's loop, and
hands them along with the runner events; the stdout writer, the tree's spans, metrics and the
trace view only read them. Nothing else sums or prices calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from runner.accounting.pricing import CallCost, usd
from runner.accounting.usage import Usage

Thread = str | None
"""None for the main agent, else the id of the Agent tool call that started a subagent."""
CostSource = Literal["price", "reported_share", "unpriced"]
CallOrigin = Literal["stream", "transcript", "remainder", "cli"]
"""Where a call's figures come from: the SDK stream, a subagent's transcript, Claude Code's
per-model totals less every call seen (a call it did not stream), or the CLI's own span of a
call the stream never shows (RUNNER_CLI_TELEMETRY)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerCall:
    """One LLM call of the session, final: its usage, model, exact price and owner."""

    key: int = 0
    """The call's number in the session (1-based; 0 before it is recorded)."""
    query: int
    """The 1-based index of the query it belongs to."""
    thread: Thread
    message_id: str | None
    model: str | None
    usage: Usage
    cost: CallCost | None = None
    cost_source: CostSource = "unpriced"
    origin: CallOrigin = "stream"
    context_window: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    stop_reason: str | None = None

    @property
    def observed(self) -> bool:
        """False for a call Claude Code made but did not stream (a compaction's summary)."""
        return self.origin in ("stream", "transcript")

    @property
    def cost_usd(self) -> float:
        return self.cost.total if self.cost is not None else 0.0

    @property
    def cache_savings_usd(self) -> float:
        return self.cost.cache_savings if self.cost is not None else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """What a set of calls spent: their count, usage, exact cost and cache savings."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    cache_savings_usd: float = 0.0

    @classmethod
    def of(cls, calls: list[LedgerCall]) -> Figures:
        usage = Usage()
        for call in calls:
            usage = usage + call.usage
        return cls(
            calls=len(calls),
            usage=usage,
            cost_usd=usd(sum(c.cost_usd for c in calls)),
            cache_savings_usd=usd(sum(c.cache_savings_usd for c in calls)),
        )

    @property
    def cache_hit_ratio(self) -> float:
        total = self.usage.total_input_tokens
        return self.usage.cache_read_input_tokens / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The stdout schema's names."""
        u = self.usage
        return {
            "calls": self.calls,
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cache_read_input_tokens": u.cache_read_input_tokens,
            "cache_creation_input_tokens": u.cache_creation_input_tokens,
            "cost_usd": round(self.cost_usd, 12),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SubagentFigures:
    thread: str
    """The Agent tool call that started it."""
    parent: Thread
    """The subagent that started it (its thread), None for the main agent: its figures
    include those of the subagents it started."""
    agent_type: str
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        out = {"type": self.agent_type, "tool_use_id": self.thread, **self.figures.as_dict()}
        if self.parent is not None:
            out["parent_tool_use_id"] = self.parent
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFigures:
    model: str
    figures: Figures
    context_window: int | None = None
    reported_cost_usd: float | None = None
    """Claude Code's cumulative figure for the model, when it reported one (a check)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures.as_dict(),
            "context_window": self.context_window,
            "reported_cost_usd": None
            if self.reported_cost_usd is None
            else round(self.reported_cost_usd, 12),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerFigures:
    """The figures of a query, or of the session so far."""

    total: Figures = field(default_factory=Figures)
    subagents: tuple[SubagentFigures, ...] = ()
    models: tuple[ModelFigures, ...] = ()
    reported_cost_usd: float | None = None
    """Claude Code's figure for the same calls (per query: the growth of its cumulative one)."""
    cost_difference_usd: float | None = None
    """Reported minus priced, when they differ (beyond rounding)."""

    def models_dict(self) -> dict[str, dict[str, Any]]:
        return {m.model: m.as_dict() for m in self.models}
