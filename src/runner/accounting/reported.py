"""Claude Code's cumulative figures at a point in time (`ReportedTotals`): what a resumed run
starts from.

On a resumed session Claude Code's `ResultMessage.total_cost_usd`, `model_usage` and
`duration_api_ms` continue from the conversation's earlier runs (measured, docs/resume.md): the
CLI restores them from the last `cost-state` record of the transcript it resumes. The ledger
takes these totals off before it compares its calls with Claude Code's figure or books a
`remainder` for per-model growth it did not see. A leaf module, like runner.accounting.usage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.accounting.usage import ModelUsage, model_usage_from


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedTotals:
    """Claude Code's cumulative cost, per-model figures and API time (zero: a fresh start)."""

    cost_usd: float = 0.0
    models: dict[str, ModelUsage] = field(default_factory=dict)
    api_duration_ms: int = 0

    @classmethod
    def from_cost_state(cls, record: dict[str, Any]) -> ReportedTotals:
        """From a transcript's `cost-state` record (`totalCostUSD`, `modelUsage`,
        `totalAPIDuration`; Claude Code's camelCase)."""
        cost = record.get("totalCostUSD")
        api = record.get("totalAPIDuration")
        return cls(
            cost_usd=float(cost) if isinstance(cost, int | float) and cost > 0 else 0.0,
            models=model_usage_from(record.get("modelUsage")),
            api_duration_ms=int(api) if isinstance(api, int | float) and api > 0 else 0,
        )

    @classmethod
    def from_dict(cls, raw: object) -> ReportedTotals:
        """From the runner's own record (`as_dict`)."""
        data = raw if isinstance(raw, dict) else {}
        return cls.from_cost_state(
            {
                "totalCostUSD": data.get("total_cost_usd"),
                "modelUsage": data.get("model_usage"),
                "totalAPIDuration": data.get("duration_api_ms"),
            }
        )

    @property
    def empty(self) -> bool:
        return self.cost_usd == 0 and not self.models and self.api_duration_ms == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON: `total_cost_usd`, `model_usage` (Claude Code's camelCase per model),
        `duration_api_ms` when known."""
        out: dict[str, Any] = {
            "total_cost_usd": round(self.cost_usd, 12),
            "model_usage": {m: _camel(f) for m, f in self.models.items()},
        }
        if self.api_duration_ms:  # known from a transcript; a ResultMessage's is not kept
            out["duration_api_ms"] = self.api_duration_ms
        return out


def _camel(figures: ModelUsage) -> dict[str, Any]:
    u = figures.usage
    out: dict[str, Any] = {
        "inputTokens": u.input_tokens,
        "outputTokens": u.output_tokens,
        "cacheReadInputTokens": u.cache_read_input_tokens,
        "cacheCreationInputTokens": u.cache_creation_input_tokens,
        "cacheCreationEphemeral1hInputTokens": u.cache_creation_1h_input_tokens,
    }
    if figures.cost_usd is not None:
        out["costUSD"] = round(figures.cost_usd, 12)
    if figures.context_window:
        out["contextWindow"] = figures.context_window
    return out
