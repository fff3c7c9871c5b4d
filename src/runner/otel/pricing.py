"""Per-call cost: one price table, then reconciliation to the cost Claude Code reports.

Claude Code reports cost per query (cumulative `total_cost_usd`; the driver takes differences),
not per LLM call. Each call's share is priced from the table below, then all shares of a query are
scaled so they add up to the reported figure exactly. For a model the table does not know, the
reported cost is shared by token weight (Claude's price ratios: output 5x input, cache write
1.25x, cache read 0.1x), so the sum still matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.types import Usage


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1e6


# Anthropic list prices (5-minute cache writes). Longest prefix wins.
PRICES: dict[str, Price] = {
    "claude-opus-4-7": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-6": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-1": Price(15.0, 75.0, 18.75, 1.50),
    "claude-opus-4": Price(15.0, 75.0, 18.75, 1.50),
    "claude-3-opus": Price(15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-4": Price(3.0, 15.0, 3.75, 0.30),
    "claude-3-7-sonnet": Price(3.0, 15.0, 3.75, 0.30),
    "claude-3-5-sonnet": Price(3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4": Price(1.0, 5.0, 1.25, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.0, 1.0, 0.08),
    "claude-3-haiku": Price(0.25, 1.25, 0.30, 0.03),
}
_WEIGHTS = Price(1.0, 5.0, 1.25, 0.10)


def price_for(model: str | None) -> Price | None:
    """The table's price for a model id (provider prefixes like `us.anthropic.` are ignored)."""
    if not model:
        return None
    name = model.lower().rsplit("/", 1)[-1]
    name = name.split("anthropic.", 1)[-1]
    best = None
    for prefix in PRICES:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return PRICES[best] if best else None


@dataclass(frozen=True)
class CallCost:
    cost_usd: float
    source: str
    """reconciled | reported_share | price_table"""


def reconcile(calls: Sequence[tuple[str | None, Usage]], reported: float | None) -> list[CallCost]:
    """Cost of each (model, usage) call; they sum to `reported` (within float rounding) when
    it is given."""
    priced = [price_for(model) for model, _ in calls]
    table = [p.cost(u) if p else None for p, (_, u) in zip(priced, calls, strict=True)]
    if reported is None:
        return [CallCost(c or 0.0, "price_table") for c in table]
    if not calls:
        return []
    if all(c is not None for c in table) and sum(c for c in table if c) > 0:
        weights = [c or 0.0 for c in table]
        source = "reconciled"
    else:
        weights = [_WEIGHTS.cost(u) for _, u in calls]
        source = "reported_share"
    total = sum(weights)
    if total <= 0:
        # No tokens anywhere: put the whole figure on the last call rather than lose it.
        return [CallCost(0.0, source)] * (len(calls) - 1) + [CallCost(reported, source)]
    shares = [reported * w / total for w in weights]
    shares[-1] = reported - sum(shares[:-1])  # exact sum, whatever the rounding
    return [CallCost(max(0.0, s), source) for s in shares]
