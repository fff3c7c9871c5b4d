"""Token counts: one call's `Usage`, and Claude Code's per-model figures (`ModelUsage`).

A leaf module (it imports nothing of the runner): events, prices, the ledger and the session's
outcome all build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Token counts as Anthropic reports them: `input_tokens` EXCLUDES cache tokens.

    `cache_creation_input_tokens` counts all cache writes; `cache_creation_1h_input_tokens` is
    the part written with the 1-hour TTL (priced 2x input, against 1.25x for 5 minutes), from
    the usage's `cache_creation.ephemeral_1h_input_tokens` breakdown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Usage:
        raw = raw if isinstance(raw, dict) else {}
        breakdown = raw.get("cache_creation")
        one_hour = _count(breakdown, "ephemeral_1h_input_tokens")
        creation = _count(raw, "cache_creation_input_tokens")
        return cls(
            input_tokens=_count(raw, "input_tokens"),
            output_tokens=_count(raw, "output_tokens"),
            cache_read_input_tokens=_count(raw, "cache_read_input_tokens"),
            cache_creation_input_tokens=creation,
            cache_creation_1h_input_tokens=min(one_hour, creation),
        )

    def merged(self, delta: object) -> Usage:
        """With the counts a `message_delta` reports (final output; on some APIs, input)."""
        if not isinstance(delta, dict):
            return self
        update = {k: v for k, v in delta.items() if isinstance(v, int) and not isinstance(v, bool)}
        if not update:
            return self
        merged: dict[str, Any] = {**self.as_dict(), **update}
        if "cache_creation" not in merged and self.cache_creation_1h_input_tokens:
            merged["cache_creation"] = {
                "ephemeral_1h_input_tokens": self.cache_creation_1h_input_tokens
            }
        return Usage.from_dict(merged)

    def _combine(self, other: Usage, sign: int) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + sign * other.input_tokens,
            output_tokens=self.output_tokens + sign * other.output_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens
            + sign * other.cache_read_input_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens
            + sign * other.cache_creation_input_tokens,
            cache_creation_1h_input_tokens=self.cache_creation_1h_input_tokens
            + sign * other.cache_creation_1h_input_tokens,
        )

    def __add__(self, other: Usage) -> Usage:
        return self._combine(other, 1)

    def __sub__(self, other: Usage) -> Usage:
        return self._combine(other, -1)

    @property
    def cache_creation_5m_input_tokens(self) -> int:
        return self.cache_creation_input_tokens - self.cache_creation_1h_input_tokens

    @property
    def total_input_tokens(self) -> int:
        """Input including cache reads and writes (the OTel GenAI definition)."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def clamped(self) -> Usage:
        """Each count at least 0 (a difference of totals that do not line up kind by kind)."""
        one_hour = max(0, self.cache_creation_1h_input_tokens)
        return Usage(
            input_tokens=max(0, self.input_tokens),
            output_tokens=max(0, self.output_tokens),
            cache_read_input_tokens=max(0, self.cache_read_input_tokens),
            cache_creation_input_tokens=max(0, self.cache_creation_input_tokens, one_hour),
            cache_creation_1h_input_tokens=one_hour,
        )

    def by_kind(self) -> dict[str, int]:
        """Counts by price kind (the keys of `runner.accounting.pricing.CallCost.by_kind`):
        uncached input,
        output, cache reads, 5-minute and 1-hour cache writes."""
        return {
            "input": self.input_tokens,
            "output": self.output_tokens,
            "cache_read": self.cache_read_input_tokens,
            "cache_write": self.cache_creation_5m_input_tokens,
            "cache_write_1h": self.cache_creation_1h_input_tokens,
        }

    def as_dict(self) -> dict[str, int]:
        """Anthropic's names (the stdout schema's)."""
        out = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }
        if self.cache_creation_1h_input_tokens:
            out["cache_creation_1h_input_tokens"] = self.cache_creation_1h_input_tokens
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelUsage:
    """One model's entry of Claude Code's `model_usage` (cumulative for the client session)."""

    usage: Usage
    cost_usd: float | None = None
    """Claude Code's own figure for the model (a check, never a source of ours)."""
    context_window: int | None = None

    @classmethod
    def from_dict(cls, raw: object) -> ModelUsage:
        """Claude Code's camelCase entry."""
        figures = raw if isinstance(raw, dict) else {}
        usage = Usage.from_dict(
            {
                "input_tokens": figures.get("inputTokens"),
                "output_tokens": figures.get("outputTokens"),
                "cache_read_input_tokens": figures.get("cacheReadInputTokens"),
                "cache_creation_input_tokens": figures.get("cacheCreationInputTokens"),
                "cache_creation": {
                    "ephemeral_1h_input_tokens": figures.get("cacheCreationEphemeral1hInputTokens")
                },
            }
        )
        cost = figures.get("costUSD")
        window = figures.get("contextWindow")
        return cls(
            usage=usage,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            context_window=window if isinstance(window, int) and window > 0 else None,
        )


def model_usage_from(raw: object) -> dict[str, ModelUsage]:
    """A ResultMessage's `model_usage`, typed (entries that are not objects are skipped)."""
    if not isinstance(raw, dict):
        return {}
    return {str(m): ModelUsage.from_dict(v) for m, v in raw.items() if isinstance(v, dict)}


def _count(raw: object, key: str) -> int:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
