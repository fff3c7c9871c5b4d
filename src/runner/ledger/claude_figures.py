"""Claude Code's own figures as the ledger checks against them: its cumulative cost and
per-model usage at each query's end, and what grew since the last, less what a resumed run's
earlier runs had already reported (the baseline: runner.accounting.reported). The ledger's
calls are the figures; these are only their check, and the source of the one call the stream
never showed (`remainder`)."""

from __future__ import annotations

from dataclasses import replace

from runner.accounting import pricing
from runner.accounting.reported import ReportedTotals
from runner.accounting.usage import ModelUsage, Usage


class ClaudeFigures:
    def __init__(self, baseline: ReportedTotals | None = None) -> None:
        self.baseline = baseline or ReportedTotals()
        """Claude Code's cumulative figures before this run (a resumed session's earlier runs)."""
        self.models: dict[str, ModelUsage] = dict(self.baseline.models)
        """Cumulative per-model figures at the last query's end (at first, the baseline's)."""
        self.cost: float | None = None
        """Cumulative cost at the last query's end (None: never reported)."""

    def cost_growth(self, total_cost_usd: float | None) -> float | None:
        """This query's share of the cumulative cost (and it becomes the last known)."""
        if total_cost_usd is None:
            return None
        before = self.baseline.cost_usd if self.cost is None else self.cost
        self.cost = total_cost_usd
        return pricing.usd(max(0.0, total_cost_usd - before))

    def models_grew(self, now: dict[str, ModelUsage]) -> dict[str, Usage]:
        """Per model, the usage that grew since the last query's end (now the last known)."""
        before, self.models = self.models, dict(now)
        return {m: f.usage - (before[m].usage if m in before else Usage()) for m, f in now.items()}

    def run_models(self) -> dict[str, ModelUsage]:
        """Per-model figures since this run started (less the baseline's)."""
        base = self.baseline.models
        out: dict[str, ModelUsage] = {}
        for model, now in self.models.items():
            earlier = base.get(model)
            if earlier is None:
                out[model] = now
                continue
            cost = now.cost_usd
            if cost is not None and earlier.cost_usd is not None:
                cost = pricing.usd(max(0.0, cost - earlier.cost_usd))
            out[model] = replace(now, usage=(now.usage - earlier.usage).clamped(), cost_usd=cost)
        return out

    def run_cost(self) -> float | None:
        """This run's cost as Claude Code reports it: cumulative less the baseline."""
        if self.cost is None:
            return None
        return pricing.usd(max(0.0, self.cost - self.baseline.cost_usd))
