"""GenAI client metrics from the same node stream: token usage, operation duration, cost.

Attributes are low-cardinality only (operation, provider, models, token type, tenancy) — never
session or user ids.
"""

from __future__ import annotations

from opentelemetry.metrics import Meter
from opentelemetry.util.types import AttributeValue

from runner.otel.attributes import semconv as sc


class GenAIMetrics:
    def __init__(self, meter: Meter) -> None:
        self.token_usage = meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(sc.TOKEN_USAGE_BUCKETS),
        )
        self.duration = meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(sc.OPERATION_DURATION_BUCKETS),
        )
        self.context_utilization = meter.create_histogram(
            sc.METRIC_CONTEXT_UTILIZATION,
            unit="1",
            description="Share of the model's context window each LLM call used.",
            explicit_bucket_boundaries_advisory=list(sc.CONTEXT_UTILIZATION_BUCKETS),
        )
        self.cost = meter.create_counter(
            sc.METRIC_COST, unit="USD", description="Cost of LLM calls as Claude Code reports it."
        )

    def record_chat(
        self,
        attributes: dict[str, AttributeValue],
        *,
        input_tokens: int,
        output_tokens: int,
        duration_s: float,
        cost_usd: float,
        context_utilization: float | None = None,
    ) -> None:
        self.token_usage.record(input_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: "input"})
        self.token_usage.record(output_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: "output"})
        self.duration.record(duration_s, attributes)
        if cost_usd > 0:
            self.cost.add(cost_usd, attributes)
        if context_utilization is not None:
            self.context_utilization.record(context_utilization, attributes)

    def record_duration(self, attributes: dict[str, AttributeValue], duration_s: float) -> None:
        self.duration.record(duration_s, attributes)
