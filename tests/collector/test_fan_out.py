"""A real session through our collector build: OTLP (HTTP and gRPC) in, the same trace out to a
Langfuse-like receiver (Basic auth, ingestion version 4) and to a second OTLP trace backend,
credentials masked on the way, the GenAI metrics on the Prometheus endpoint."""

from __future__ import annotations

import re

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.collector.conftest import StartCollector
from tests.collector_process import wait_for
from tests.e2e.harness import Runner
from tests.langfuse_view import langfuse_trace
from tests.otlp_receiver import OTLPGrpcReceiver, OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, LANGFUSE_AUTH, LANGFUSE_PATH, TELEMETRY_ON
from tests.support.scripts import COLLECTOR_SCRIPT as SCRIPT
from tests.support.scripts import COLLECTOR_SPANS as SPANS


def _backends() -> tuple[OTLPHttpReceiver, OTLPGrpcReceiver]:
    return OTLPHttpReceiver(auth=BASIC), OTLPGrpcReceiver()


def _collector_env(langfuse: OTLPHttpReceiver, backend: OTLPGrpcReceiver) -> dict[str, str]:
    return {
        "LANGFUSE_BASE_URL": langfuse.url,
        "LANGFUSE_AUTH": LANGFUSE_AUTH,
        "TRACES_BACKEND_ENDPOINT": f"127.0.0.1:{backend.port}",
    }


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_one_trace_reaches_both_backends_intact_and_metrics_are_scraped(
    collector: StartCollector, runner: Runner, protocol: str
) -> None:
    langfuse, backend = _backends()
    try:
        otelcol = collector(**_collector_env(langfuse, backend))
        endpoint = otelcol.http_url if protocol == "http/protobuf" else otelcol.grpc_url
        done = runner.run(
            SCRIPT,
            **TELEMETRY_ON,
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
            OTEL_METRIC_EXPORT_INTERVAL="500",
        )
        assert done.code == 0, done.stderr
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= SPANS)
        assert wait_for(lambda: len(backend.spans) >= SPANS)
        metrics = otelcol.scrape()
    finally:
        langfuse.stop()
        backend.stop()
    at_langfuse = {s.span_id: s for s in langfuse.spans(LANGFUSE_PATH)}
    at_backend = {s.span_id: s for s in backend.spans}
    assert len(at_langfuse) == len(at_backend) == SPANS
    assert at_langfuse.keys() == at_backend.keys()
    assert len({s.trace_id for s in at_langfuse.values()}) == 1
    for span_id, span in at_langfuse.items():
        assert attributes(span) == attributes(at_backend[span_id])  # intact, attribute for attr
    posts = [r for r in langfuse.requests if r.path == LANGFUSE_PATH]
    assert {r.headers.get("x-langfuse-ingestion-version") for r in posts} == {"4"}
    assert {r.headers.get("authorization") for r in posts} == {BASIC}
    chats = [attributes(s) for s in at_langfuse.values() if s.name.startswith("chat ")]
    served = done.server.message_calls
    assert sorted(a["gen_ai.usage.output_tokens"] for a in chats) == sorted(
        c.usage["output_tokens"] for c in served
    )
    assert sum(a["gen_ai.usage.cost"] for a in chats) == pytest.approx(
        done.end["total_cost_usd"], abs=1e-9
    )
    # The GenAI metrics, scraped: the session's input and output tokens.
    sums = {
        kind: float(value)
        for kind, value in re.findall(
            r'gen_ai_client_token_usage[a-z_]*_sum\{[^}]*gen_ai_token_type="(\w+)"[^}]*\} (\S+)',
            metrics,
        )
        if kind
    }
    inputs = sum(
        c.usage["input_tokens"]
        + c.usage["cache_read_input_tokens"]
        + c.usage["cache_creation_input_tokens"]
        for c in served
    )
    assert sums == {"input": inputs, "output": sum(c.usage["output_tokens"] for c in served)}, (
        metrics[:3000]
    )


def test_a_credential_in_an_attribute_value_is_masked_by_the_collector(
    collector: StartCollector,
) -> None:
    """The agent's tools can send OTLP to the collector themselves: what they send is masked
    on the way (the runner's own spans are redacted before they leave)."""
    langfuse, backend = _backends()
    try:
        otelcol = collector(**_collector_env(langfuse, backend))
        provider = TracerProvider()
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{otelcol.http_url}/v1/traces"))
        )
        planted = "sk-ant-api03-" + "Z" * 40
        span = provider.get_tracer("a-tool").start_span(
            "tool-span", attributes={"note": f"the key is {planted}", "api_key": "hunter22"}
        )
        span.end()
        provider.shutdown()
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= 1)
    finally:
        langfuse.stop()
        backend.stop()
    (received,) = langfuse.spans(LANGFUSE_PATH)
    values = attributes(received)
    assert planted not in str(values) and "note" in values
    assert "api_key" not in values  # a credential-looking NAME is dropped


def test_the_clis_own_telemetry_through_the_collector_adds_facts_and_no_span(
    collector: StartCollector, runner: Runner
) -> None:
    """RUNNER_CLI_TELEMETRY through a collector: the CLI exports only to the runner's relay,
    so the collector and both backends get exactly the runner's spans, with the CLI's facts
    on them, and Langfuse's total stays Claude Code's."""
    langfuse, backend = _backends()
    try:
        otelcol = collector(**_collector_env(langfuse, backend))
        done = runner.run(
            SCRIPT,
            **TELEMETRY_ON,
            OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
            RUNNER_CLI_TELEMETRY="true",
        )
        assert done.code == 0, done.stderr
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= SPANS)
        assert wait_for(lambda: len(backend.spans) >= SPANS)
    finally:
        langfuse.stop()
        backend.stop()
    spans = langfuse.spans(LANGFUSE_PATH)
    assert len(spans) == len(backend.spans) == SPANS  # no span of the CLI's own
    assert not [s for s in spans if s.name.startswith("claude_code.")]
    trace = langfuse_trace(spans)
    assert len(trace.of_type("generation")) == len(done.server.message_calls)
    assert trace.total_cost == pytest.approx(done.end["reported_cost_usd"], abs=1e-9)
    tools = [attributes(s) for s in spans if s.name == "execute_tool Bash"]
    assert [t["agentic_session.tool.permission.decision"] for t in tools] == ["accept", "accept"]
