"""Exact per-call prices from a maintained source; Claude Code's reported figure is the check.

Prices come from `genai-prices` (pydantic's maintained price database: every Claude model, the
1-hour cache-write price, long-context tiers, context windows), as a snapshot in
`price_data.json` (scripts/update-prices writes it; a test fails when it and the locked
genai-prices disagree). Weighed against a hand table: the database knows models a table would
miss (the CLI already names newer ones) and is updated with each release. Read as a snapshot,
not imported: importing genai-prices costs ~0.2 s of CPU in every session, the snapshot ~1 ms.

Each call is priced from its own usage:
    uncached input × input + output × output + cache reads × cache_read
    + 5-minute writes × cache_write + 1-hour writes × cache_write_1h
at the tier its total input (cache included) falls in, as the database bills them. A model the
database does not know has no price: the ledger (runner.ledger.ledger) then holds its calls to the
query's end and shares Claude Code's reported figure.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from runner.accounting.usage import Usage

log = logging.getLogger("runner")

_PREFIXES = re.compile(r"^(?:.*/)?(?:(?:us|eu|apac|global)\.)?(?:anthropic\.)?")
_SUFFIXES = re.compile(r"(?:\[[^\]]*\]|@\d+|-v\d+:\d+)$")
SNAPSHOT = Path(__file__).with_name("price_data.json")
_N = TypeVar("_N", int, float)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens, after the tier is chosen."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float


@dataclass(frozen=True, slots=True)
class ModelPrice:
    model_id: str
    """The price database's id for the model."""
    context_window: int | None
    base: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()
    """(total input tokens above which, rates) in ascending order: a cliff, as Anthropic bills."""

    def rates(self, total_input_tokens: int) -> Rates:
        chosen = self.base
        for start, rates in self.tiers:
            if total_input_tokens > start:
                chosen = rates
        return chosen


USD_DIGITS = 12
"""Every derived dollar figure is rounded once, where it is made, to this many decimals: float
noise such as 0.000065999999999999999 then reads as 6.6e-05 in Langfuse, MLflow and stdout."""


def usd(value: float) -> float:
    """A dollar figure as it is stored and shown everywhere."""
    return round(value, USD_DIGITS)


@dataclass(frozen=True, slots=True)
class CallCost:
    """A call's cost in USD, by usage kind (the keys Langfuse's Claude prices use)."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    cache_write_1h: float = 0.0
    unsplit: float = 0.0
    """A share of a reported figure, known only as a total."""
    cache_savings: float = 0.0
    """What prompt caching saved on this call: its cached tokens (read and written) at the
    uncached input price, less what they cost. Negative when writes cost more than they saved.
    Not part of `total`."""

    @property
    def total(self) -> float:
        return usd(
            self.input
            + self.output
            + self.cache_read
            + self.cache_write
            + self.cache_write_1h
            + self.unsplit
        )

    def by_kind(self) -> dict[str, float]:
        """USD by price kind (the keys of `runner.accounting.usage.Usage.by_kind`)."""
        return {
            "input": self.input,
            "output": self.output,
            "cache_read": self.cache_read,
            "cache_write": self.cache_write,
            "cache_write_1h": self.cache_write_1h,
        }

    def details(self) -> dict[str, float]:
        """Langfuse's `cost_details`: its usage keys (`LANGFUSE_USAGE_KEYS`), then `total`."""
        if self.unsplit:
            return {"total": self.total}
        out = langfuse_keys(self.by_kind())
        out["total"] = self.total
        return out


LANGFUSE_USAGE_KEYS = {
    "input": "input",
    "output": "output",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation_input_tokens",
    "cache_write_1h": "cache_creation_1h_input_tokens",
}
"""Price kinds → the usage/cost keys Langfuse's Claude prices use (5-minute writes as
`cache_creation_input_tokens`; 1-hour writes apart, present only when there are any)."""


def langfuse_keys(by_kind: dict[str, _N]) -> dict[str, _N]:
    """Usage or cost by kind in Langfuse's keys (the 1-hour kind only when non-zero)."""
    return {
        LANGFUSE_USAGE_KEYS[kind]: value
        for kind, value in by_kind.items()
        if kind != "cache_write_1h" or value
    }


def canonical(model: str) -> str:
    """`us.anthropic.claude-sonnet-4-5-20250929-v1:0`, `claude-sonnet-4-5@20250929` and
    `claude-sonnet-4-5[1m]` → the Anthropic API's name."""
    name = _PREFIXES.sub("", model.strip().lower())
    return _SUFFIXES.sub("", name)


def load() -> None:
    """Read the price snapshot now (~1 ms), so the first priced call does not."""
    try:
        _snapshot()
    except (OSError, ValueError, KeyError):  # prices are then unknown, never fatal
        log.debug("the price snapshot could not be read", exc_info=True)


@lru_cache(maxsize=1)
def _snapshot() -> list[dict[str, Any]]:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    models: list[dict[str, Any]] = data["models"]
    return models


def _matches(clause: dict[str, Any], name: str) -> bool:
    """genai-prices' match rules (or / and / equals / starts_with / ends_with / contains /
    regex), first model that matches wins, as the database applies them."""
    if "or" in clause:
        return any(_matches(c, name) for c in clause["or"])
    if "and" in clause:
        return all(_matches(c, name) for c in clause["and"])
    if "equals" in clause:
        return name == str(clause["equals"]).lower()
    if "starts_with" in clause:
        return name.startswith(str(clause["starts_with"]).lower())
    if "ends_with" in clause:
        return name.endswith(str(clause["ends_with"]).lower())
    if "contains" in clause:
        return str(clause["contains"]).lower() in name
    if "regex" in clause:
        return re.search(str(clause["regex"]), name) is not None
    return False


@lru_cache(maxsize=64)
def model_price(model: str | None) -> ModelPrice | None:
    """The price of a model id, None when the database does not know it."""
    if not model:
        return None
    name = canonical(model)
    try:
        models = _snapshot()
    except (OSError, ValueError, KeyError):
        log.debug("the price snapshot could not be read", exc_info=True)
        return None
    for entry in models:
        if _matches(entry["match"], name):
            return _model_price(entry["id"], entry.get("context_window"), entry["prices"])
    return None


def _model_price(model_id: str, window: int | None, prices: dict[str, Any]) -> ModelPrice | None:
    if prices.get("input") is None or prices.get("output") is None:
        return None
    starts = sorted({start for p in prices.values() if p for start, _ in p["tiers"]})

    def rates(threshold: int | None) -> Rates:
        def at(key: str) -> float | None:
            value = prices.get(key)
            if value is None:
                return None
            chosen = float(value["base"])
            for start, tier_price in value["tiers"]:
                if threshold is not None and threshold >= start:
                    chosen = float(tier_price)
            return chosen

        base_input = at("input") or 0.0
        read, write, write_1h = at("cache_read"), at("cache_write"), at("cache_write_1h")
        # As the database prices them: a model without cache prices (no caching) bills cache
        # tokens as input; one without a 1-hour price bills 1-hour writes as writes.
        write = base_input if write is None else write
        return Rates(
            input=base_input,
            output=at("output") or 0.0,
            cache_read=base_input if read is None else read,
            cache_write=write,
            cache_write_1h=write if write_1h is None else write_1h,
        )

    return ModelPrice(
        model_id=model_id,
        context_window=window,
        base=rates(None),
        tiers=tuple((start, rates(start)) for start in starts),
    )


def price(model: str | None, usage: Usage) -> CallCost | None:
    """The exact cost of one call, None when the model has no known price."""
    found = model_price(model)
    if found is None:
        return None
    rates = found.rates(usage.total_input_tokens)
    cache_read = usage.cache_read_input_tokens * rates.cache_read / 1e6
    cache_write = usage.cache_creation_5m_input_tokens * rates.cache_write / 1e6
    cache_write_1h = usage.cache_creation_1h_input_tokens * rates.cache_write_1h / 1e6
    cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    return CallCost(
        input=usd(usage.input_tokens * rates.input / 1e6),
        output=usd(usage.output_tokens * rates.output / 1e6),
        cache_read=usd(cache_read),
        cache_write=usd(cache_write),
        cache_write_1h=usd(cache_write_1h),
        cache_savings=usd(cached * rates.input / 1e6 - (cache_read + cache_write + cache_write_1h)),
    )


LONG_CONTEXT_SUFFIX = "[1m]"
"""Claude Code's marker for a model run with the 1M-token context window."""


def context_window(model: str | None) -> int | None:
    """The model's context window in tokens, from the price database (None: unknown)."""
    if not model:
        return None
    if model.strip().lower().endswith(LONG_CONTEXT_SUFFIX):
        return 1_000_000
    found = model_price(model)
    return found.context_window if found is not None else None


TOKEN_WEIGHTS = Rates(input=1.0, output=5.0, cache_read=0.1, cache_write=1.25, cache_write_1h=2.0)
"""Claude's price ratios, to share a reported figure among calls that have no price."""


def weight(usage: Usage) -> float:
    w = TOKEN_WEIGHTS
    return (
        usage.input_tokens * w.input
        + usage.output_tokens * w.output
        + usage.cache_read_input_tokens * w.cache_read
        + usage.cache_creation_5m_input_tokens * w.cache_write
        + usage.cache_creation_1h_input_tokens * w.cache_write_1h
    )


def share(amount: float, usages: list[Usage]) -> list[float]:
    """`amount` split by token weight; the parts add up to it exactly."""
    if not usages:
        return []
    weights = [weight(u) for u in usages]
    total = sum(weights)
    if total <= 0:
        return [0.0] * (len(usages) - 1) + [amount]
    parts = [amount * w / total for w in weights]
    parts[-1] = amount - sum(parts[:-1])
    return [max(0.0, p) for p in parts]
