"""Per-subagent and per-model figures for the stdout `result` and `session_end` events.

Fed the same runner events as telemetry (subagent calls come from their transcripts, through
the event adapter); prices are looked up only when a figure is written (a query's end), so the
agent loop never waits for the price database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.events import SubagentCall, SubagentStarted
from runner.types import Usage


@dataclass
class SubagentFigures:
    agent_type: str
    calls: list[tuple[str | None, Usage]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from runner import pricing

        usage = Usage()
        cost = 0.0
        for model, call_usage in self.calls:
            usage = usage + call_usage
            priced = pricing.price(model, call_usage)
            cost += priced.total if priced is not None else 0.0
        return {
            "type": self.agent_type,
            "calls": len(self.calls),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cost_usd": round(cost, 12),
        }


class SubagentRollup:
    """Subagents of the running query, and of the whole session."""

    def __init__(self) -> None:
        self._types: dict[str, str] = {}
        self._query: dict[str, SubagentFigures] = {}
        self._session: list[dict[str, Any]] = []

    def started(self, event: SubagentStarted) -> None:
        self._types[event.agent_id] = event.agent_type or "subagent"

    def call(self, event: SubagentCall) -> None:
        figures = self._query.get(event.agent_id)
        if figures is None:
            figures = SubagentFigures(self._types.get(event.agent_id, "subagent"))
            self._query[event.agent_id] = figures
        figures.calls.append((event.model, event.usage))

    def end_query(self) -> list[dict[str, Any]]:
        """This query's subagents (and remember them for the session)."""
        done = [figures.as_dict() for figures in self._query.values()]
        self._query.clear()
        self._session.extend(done)
        return done

    def session(self) -> list[dict[str, Any]]:
        return list(self._session)


def model_breakdown(model_usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Claude Code's cumulative per-model figures, in the stdout schema's names."""
    out: dict[str, dict[str, Any]] = {}
    for model, raw in model_usage.items():
        if not isinstance(raw, dict):
            continue

        def count(key: str, figures: dict[str, Any] = raw) -> int:
            value = figures.get(key)
            return value if isinstance(value, int) else 0

        cost = raw.get("costUSD")
        out[model] = {
            "input_tokens": count("inputTokens"),
            "output_tokens": count("outputTokens"),
            "cache_read_input_tokens": count("cacheReadInputTokens"),
            "cache_creation_input_tokens": count("cacheCreationInputTokens"),
            "cost_usd": float(cost) if isinstance(cost, int | float) else None,
            "context_window": raw.get("contextWindow"),
        }
    return out
