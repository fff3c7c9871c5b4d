"""The ledger's views: pure functions from recorded calls to figures (per subagent, per model, a
query's or the session's). runner.ledger.ledger holds the state; these only read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.accounting import pricing
from runner.accounting.figures import (
    Figures,
    LedgerCall,
    LedgerFigures,
    ModelFigures,
    SubagentFigures,
    Thread,
)
from runner.accounting.usage import ModelUsage, Usage
from runner.events.types import QueryResult

COST_TOLERANCE_USD = 1e-9


@dataclass(slots=True)
class Owners:
    """Which subagent each thread is: the thread that started it and its type."""

    parent: dict[str, Thread] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def lineage(self, thread: str) -> set[Thread]:
        """The thread and every subagent it started, transitively."""
        family: set[Thread] = {thread}
        grew = True
        while grew:
            grew = False
            for child, parent in self.parent.items():
                if parent in family and child not in family:
                    family.add(child)
                    grew = True
        return family

    def subagent(self, thread: str, calls: list[LedgerCall]) -> SubagentFigures:
        """A subagent's figures over `calls`: its own and those of the subagents it started."""
        family = self.lineage(thread)
        return SubagentFigures(
            thread=thread,
            parent=self.parent.get(thread),
            agent_type=self.types.get(thread, "subagent"),
            figures=Figures.of([c for c in calls if c.thread in family]),
        )


def figures(
    calls: list[LedgerCall],
    *,
    owners: Owners,
    reported: float | None,
    windows: dict[str, int],
    reported_models: dict[str, ModelUsage],
) -> LedgerFigures:
    """The figures of a set of calls (a query's, the session's), with Claude Code's reported
    figure beside them and the difference when they differ beyond rounding."""
    total = Figures.of(calls)
    difference = None
    if reported is not None:
        gap = reported - total.cost_usd
        if abs(gap) > max(COST_TOLERANCE_USD, reported * 1e-9):
            difference = pricing.usd(gap)
    threads = list(dict.fromkeys(c.thread for c in calls if c.thread is not None))
    by_model: dict[str, list[LedgerCall]] = {}
    for call in calls:
        by_model.setdefault(call.model or "unknown", []).append(call)
    return LedgerFigures(
        total=total,
        subagents=tuple(owners.subagent(t, calls) for t in threads),
        models=tuple(
            ModelFigures(
                model=model,
                figures=Figures.of(model_calls),
                context_window=windows.get(model) or pricing.context_window(model),
                reported_cost_usd=reported_models[model].cost_usd
                if model in reported_models
                else None,
            )
            for model, model_calls in by_model.items()
        ),
        reported_cost_usd=reported,
        cost_difference_usd=difference,
    )


def unexplained(
    result: QueryResult | None, before: dict[str, ModelUsage], seen: list[Usage]
) -> Usage:
    """Claude Code's per-model growth over a query (its cumulative figures now, less `before`),
    less every call seen: what it spent on calls nobody showed. Zero when nothing is unseen or
    the figures do not line up."""
    if result is None or not result.model_usage:
        return Usage()
    grown = Usage()
    for model, reported in result.model_usage.items():
        grown = grown + reported.usage - (before[model].usage if model in before else Usage())
    return (grown - sum(seen, Usage())).clamped()
