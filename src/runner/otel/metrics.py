"""GenAI client metrics from the same node stream: the fleet view's figures.

Why these and no others: a platform team watching many sessions needs cost and tokens (cache
included) per project and model, sessions by outcome (budget stops among them), LLM latency and
time to first token, tool calls by outcome and permission decision, context pressure and cache
savings. Names follow the GenAI semantic conventions where they define one
(`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
`gen_ai.client.operation.time_to_first_chunk`), the product's `agentic_session.*` otherwise.

Attributes are low-cardinality only: operation, provider, models, token type, tool name,
status, tenancy (namespace, project); `user.id` only with RUNNER_METRICS_USER_LABEL=true;
never a session or trace id. The trace id travels as an exemplar instead (each measurement is
made with its span's context, so the SDK's trace-based exemplar filter keeps it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.util.types import AttributeValue

from runner.otel.attributes import semconv as sc
from runner.otel.export.environment_variables import RUNNER_METRICS_USER_LABEL

Attributes = dict[str, AttributeValue]


def user_label_enabled(environ: Mapping[str, str]) -> bool:
    """RUNNER_METRICS_USER_LABEL=true: one more label, for fleets with few users."""
    return environ.get(RUNNER_METRICS_USER_LABEL, "").strip().lower() in ("1", "true", "yes")


class GenAIMetrics:
    def __init__(self, meter: Meter, environ: Mapping[str, str] | None = None) -> None:
        self.user_label = user_label_enabled(os.environ if environ is None else environ)
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
        self.time_to_first_chunk = meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time from an LLM request to its first streamed chunk.",
            explicit_bucket_boundaries_advisory=list(sc.OPERATION_DURATION_BUCKETS),
        )
        self.context_utilization = meter.create_histogram(
            sc.METRIC_CONTEXT_UTILIZATION,
            unit="1",
            description="Share of the model's context window each LLM call used.",
            explicit_bucket_boundaries_advisory=list(sc.CONTEXT_UTILIZATION_BUCKETS),
        )
        self.cost = meter.create_counter(
            sc.METRIC_COST, unit="usd", description="Cost of LLM calls as Claude Code reports it."
        )
        self.tokens = meter.create_counter(
            sc.METRIC_TOKENS,
            unit="{token}",
            description="Tokens by type: input (cache included), output, cache_read, cache_write.",
        )
        self.sessions = meter.create_counter(
            sc.METRIC_SESSIONS, unit="{session}", description="Ended sessions by status."
        )
        self.tool_calls = meter.create_counter(
            sc.METRIC_TOOL_CALLS,
            unit="{call}",
            description="Tool calls by tool, outcome and permission decision.",
        )
        self.cache_savings = meter.create_counter(
            sc.METRIC_CACHE_SAVINGS, unit="usd", description="What prompt caching saved."
        )
        self.cache_overhead = meter.create_counter(
            sc.METRIC_CACHE_OVERHEAD,
            unit="usd",
            description="What cache writes cost beyond the uncached price, before paying off.",
        )

    def record_chat(
        self,
        attributes: Attributes,
        *,
        input_tokens: int,
        output_tokens: int,
        duration_s: float,
        cost_usd: float,
        context_utilization: float | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        time_to_first_chunk_s: float | None = None,
        cache_savings_usd: float = 0.0,
        context: Context | None = None,
    ) -> None:
        """One LLM call. `input_tokens` includes cache reads and writes (the semconv's)."""
        self.token_usage.record(
            input_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: "input"}, context=context
        )
        self.token_usage.record(
            output_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: "output"}, context=context
        )
        for kind, count in (
            ("input", input_tokens),
            ("output", output_tokens),
            ("cache_read", cache_read_tokens),
            ("cache_write", cache_write_tokens),
        ):
            if count > 0:
                self.tokens.add(count, {**attributes, sc.GEN_AI_TOKEN_TYPE: kind}, context=context)
        self.duration.record(duration_s, attributes, context=context)
        if time_to_first_chunk_s is not None:
            self.time_to_first_chunk.record(time_to_first_chunk_s, attributes, context=context)
        if cost_usd > 0:
            self.cost.add(cost_usd, attributes, context=context)
        if cache_savings_usd > 0:
            self.cache_savings.add(cache_savings_usd, attributes, context=context)
        elif cache_savings_usd < 0:
            self.cache_overhead.add(-cache_savings_usd, attributes, context=context)
        if context_utilization is not None:
            self.context_utilization.record(context_utilization, attributes, context=context)

    def record_duration(
        self, attributes: Attributes, duration_s: float, context: Context | None = None
    ) -> None:
        self.duration.record(duration_s, attributes, context=context)

    def record_tool(
        self,
        attributes: Attributes,
        *,
        tool: str,
        outcome: str,
        decision: str | None,
        duration_s: float,
        context: Context | None = None,
    ) -> None:
        """One tool call: its duration (by tool) and its count by outcome and decision."""
        named = {**attributes, sc.GEN_AI_TOOL_NAME: tool}
        self.duration.record(duration_s, named, context=context)
        self.tool_calls.add(
            1,
            {
                **named,
                sc.AGENTIC_SESSION_TOOL_OUTCOME: outcome,
                sc.AGENTIC_SESSION_TOOL_DECISION: decision or "unknown",
            },
            context=context,
        )

    def record_session(
        self, attributes: Attributes, status: str, context: Context | None = None
    ) -> None:
        """An ended session, by status (`budget_exceeded` is a budget stop)."""
        self.sessions.add(1, {**attributes, sc.AGENTIC_SESSION_STATUS: status}, context=context)
