"""The fleet metrics (runner.otel.metrics): names, values, bounded labels, the user switch and
the trace id as an exemplar, read back through the OTel SDK's in-memory reader."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from runner.otel.attributes import semconv as sc
from runner.otel.export.environment_variables import RUNNER_METRICS_USER_LABEL
from runner.otel.metrics import GenAIMetrics

TENANCY = {
    sc.GEN_AI_PROVIDER_NAME: "anthropic",
    sc.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-5",
    sc.AGENTIC_SESSION_PROJECT: "team-a",
    sc.AGENTIC_SESSION_NAMESPACE: "ns-a",
}


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    out: dict[str, list[Any]] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


def _record(environ: dict[str, str]) -> tuple[dict[str, list[Any]], str]:
    reader = InMemoryMetricReader()
    metrics = GenAIMetrics(MeterProvider(metric_readers=[reader]).get_meter("t"), environ)
    span = TracerProvider().get_tracer("t").start_span("chat")
    context = trace.set_span_in_context(span)
    chat = {**TENANCY, sc.GEN_AI_OPERATION_NAME: "chat"}
    metrics.record_chat(
        chat,
        input_tokens=1000,
        output_tokens=50,
        duration_s=1.5,
        cost_usd=0.25,
        context_utilization=0.4,
        cache_read_tokens=600,
        cache_write_tokens=300,
        time_to_first_chunk_s=0.3,
        cache_savings_usd=0.01,
        context=context,
    )
    metrics.record_chat(
        chat, input_tokens=10, output_tokens=1, duration_s=0.1, cost_usd=0.5,
        cache_savings_usd=-0.002, context=context,
    )  # fmt: skip
    tool = {**TENANCY, sc.GEN_AI_OPERATION_NAME: "execute_tool"}
    metrics.record_tool(tool, tool="Bash", outcome="success", decision="accept", duration_s=0.2)
    metrics.record_tool(tool, tool="Bash", outcome="tool_error", decision=None, duration_s=0.1)
    user = {sc.USER_ID: "alice"} if metrics.user_label else {}
    metrics.record_session({**TENANCY, **user}, "budget_exceeded", context)
    span.end()
    return _points(reader), format(span.get_span_context().trace_id, "032x")


def test_each_fleet_figure_with_bounded_labels_and_the_trace_as_exemplar() -> None:
    points, trace_id = _record({})
    (cost,) = points[sc.METRIC_COST]
    assert cost.value == 0.75 and dict(cost.attributes)[sc.AGENTIC_SESSION_PROJECT] == "team-a"
    assert {format(e.trace_id, "032x") for e in cost.exemplars} == {trace_id}
    tokens = {dict(p.attributes)[sc.GEN_AI_TOKEN_TYPE]: p.value for p in points[sc.METRIC_TOKENS]}
    assert tokens == {"input": 1010, "output": 51, "cache_read": 600, "cache_write": 300}
    (ttft,) = points[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert (ttft.count, ttft.sum) == (1, 0.3)
    (savings,) = points[sc.METRIC_CACHE_SAVINGS]
    (overhead,) = points[sc.METRIC_CACHE_OVERHEAD]
    assert (savings.value, overhead.value) == (0.01, 0.002)
    tools = {
        (
            dict(p.attributes)[sc.AGENTIC_SESSION_TOOL_OUTCOME],
            dict(p.attributes)[sc.AGENTIC_SESSION_TOOL_DECISION],
        ): p.value
        for p in points[sc.METRIC_TOOL_CALLS]
    }
    assert tools == {("success", "accept"): 1, ("tool_error", "unknown"): 1}
    (session,) = points[sc.METRIC_SESSIONS]
    assert session.value == 1
    assert dict(session.attributes)[sc.AGENTIC_SESSION_STATUS] == "budget_exceeded"
    labels = {key for name in points for p in points[name] for key in p.attributes}
    assert not {sc.USER_ID, "session.id", sc.LANGFUSE_SESSION_ID} & labels


def test_the_user_label_only_on_request() -> None:
    assert GenAIMetrics(MeterProvider().get_meter("t"), {}).user_label is False
    points, _ = _record({RUNNER_METRICS_USER_LABEL: "true"})
    (session,) = points[sc.METRIC_SESSIONS]
    assert dict(session.attributes)[sc.USER_ID] == "alice"
