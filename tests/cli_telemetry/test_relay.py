"""The relay with real OTLP/HTTP exporters sending to it: what arrives becomes typed records,
answers never wait for the sink, memory is bounded, stop is bounded, late arrivals are counted."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

from runner.cli_telemetry import (
    CliLogEvent,
    CliRecord,
    CliSpan,
    CliTelemetryRelay,
    RelayCounts,
)
from tests.cli_telemetry.helpers import Collected, wait_for


@pytest.fixture
def collected() -> Collected:
    return Collected()


@pytest.fixture
def relay(collected: Collected) -> Iterator[CliTelemetryRelay]:
    relay = CliTelemetryRelay(collected.add).start()
    yield relay
    relay.close()


def _tracer(endpoint: str, compression: Compression = Compression.NoCompression) -> TracerProvider:
    provider = TracerProvider(resource=Resource({"service.name": "claude-code"}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_from_a_real_exporter_become_typed_records_with_ids_parents_and_attributes(
    relay: CliTelemetryRelay, collected: Collected, compression: Compression
) -> None:
    provider = _tracer(relay.endpoint, compression)
    tracer = provider.get_tracer("com.anthropic.claude_code.tracing")
    attributes = {"input_tokens": 1200, "success": True, "speed": "normal", "cost": 0.5}
    with (
        tracer.start_as_current_span("claude_code.interaction") as parent,
        tracer.start_as_current_span("claude_code.llm_request", attributes=attributes) as child,
    ):
        child.add_event("gen_ai.request.attempt", {"attempt": 1})
        child.set_attribute("gen_ai.response.finish_reasons", ["tool_use"])
        child.set_status(trace.Status(trace.StatusCode.ERROR, "overloaded"))
    provider.shutdown()
    assert wait_for(lambda: len(collected.spans) == 2, 10)
    llm, interaction = collected.spans
    assert isinstance(llm, CliSpan) and llm.name == "claude_code.llm_request"
    assert llm.trace_id == parent.get_span_context().trace_id == interaction.trace_id
    assert llm.span_id == child.get_span_context().span_id
    assert llm.parent_span_id == interaction.span_id == parent.get_span_context().span_id
    assert interaction.parent_span_id is None
    assert dict(llm.attributes) == {
        "input_tokens": 1200,
        "success": True,
        "speed": "normal",
        "cost": 0.5,
        "gen_ai.response.finish_reasons": ("tool_use",),
    }
    assert llm.status == "error" and llm.status_message == "overloaded"
    assert [(e.name, dict(e.attributes)) for e in llm.events] == [
        ("gen_ai.request.attempt", {"attempt": 1})
    ]
    assert 0 < llm.start_ns <= llm.end_ns
    assert llm.scope == "com.anthropic.claude_code.tracing"
    assert llm.resource["service.name"] == "claude-code"
    counts = relay.stop(5)
    assert counts.spans == 2 and counts.requests == 2 and counts.late_spans == 0
    with pytest.raises(TypeError):
        llm.attributes["input_tokens"] = 1  # type: ignore[index]


def test_log_events_become_records_with_the_active_span(
    relay: CliTelemetryRelay, collected: Collected
) -> None:
    tracer_provider = TracerProvider()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{relay.endpoint}/v1/logs"))
    )
    logger = logger_provider.get_logger("com.anthropic.claude_code.events")
    with tracer_provider.get_tracer("t").start_as_current_span("claude_code.interaction") as span:
        logger.emit(
            body="claude_code.tool_decision",
            attributes={"decision": "reject", "tool_use_id": "toolu_1"},
            severity_number=SeverityNumber.INFO,
        )
    logger_provider.shutdown()
    assert wait_for(lambda: len(collected.logs) == 1, 10)
    (event,) = collected.logs
    assert isinstance(event, CliLogEvent)
    assert event.name == "claude_code.tool_decision"
    assert dict(event.attributes) == {"decision": "reject", "tool_use_id": "toolu_1"}
    assert event.trace_id == span.get_span_context().trace_id
    assert event.span_id == span.get_span_context().span_id
    assert event.time_ns > 0 and event.scope == "com.anthropic.claude_code.events"
    assert relay.stop(5).log_events == 1


def test_metrics_are_counted_and_dropped_never_delivered(
    relay: CliTelemetryRelay, collected: Collected
) -> None:
    exporter = OTLPMetricExporter(endpoint=f"{relay.endpoint}/v1/metrics")
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("com.anthropic.claude_code")
    counter = meter.create_counter("claude_code.cost.usage")
    counter.add(0.5, {"model": "a"})
    counter.add(0.25, {"model": "b"})
    provider.shutdown()  # exports once
    assert wait_for(lambda: relay.counts().metric_points == 2, 10)
    assert collected.records == []


def test_otlp_json_with_hex_ids_is_read_too(relay: CliTelemetryRelay, collected: Collected) -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b173",
                                "name": "claude_code.tool",
                                "startTimeUnixNano": "1",
                                "endTimeUnixNano": "2",
                                "attributes": [
                                    {"key": "tool_use_id", "value": {"stringValue": "toolu_9"}},
                                    {"key": "duration_ms", "value": {"intValue": "60"}},
                                ],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    status = _post(relay.endpoint + "/v1/traces", json.dumps(body).encode(), "application/json")
    assert status == 200
    assert wait_for(lambda: len(collected.spans) == 1, 10)
    (span,) = collected.spans
    assert span.trace_id == 0x5B8EFFF798038103D269B633813FC60C
    assert span.span_id == 0xEEE19B7EC3C1B174 and span.parent_span_id == 0xEEE19B7EC3C1B173
    assert dict(span.attributes) == {"tool_use_id": "toolu_9", "duration_ms": 60}


def test_bad_requests_are_refused_and_counted_without_stopping_the_relay(
    relay: CliTelemetryRelay, collected: Collected
) -> None:
    assert _post(relay.endpoint + "/v1/other", b"x") == 404
    assert _post(relay.endpoint + "/v1/traces", b"not gzip", encoding="gzip") == 400
    assert _post(relay.endpoint + "/v1/traces", b"\xff\xff\xff garbage") == 200  # decoded later
    assert wait_for(lambda: relay.counts().rejected_requests == 3, 10)
    provider = _tracer(relay.endpoint)
    provider.get_tracer("t").start_span("still.relayed").end()
    provider.shutdown()
    assert wait_for(lambda: [s.name for s in collected.spans] == ["still.relayed"], 10)


def test_a_blocked_sink_never_slows_the_answer_and_the_queue_is_bounded_in_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The sink blocks: requests are still answered at once; what exceeds the queue's byte budget
    is dropped whole, counted, and warned about once; the rest is delivered once unblocked."""
    release = threading.Event()
    delivered: list[CliRecord] = []

    def blocking_sink(record: CliRecord) -> None:
        release.wait(30)
        delivered.append(record)

    body = _span_request(spans=50)  # ~3 kB
    relay = CliTelemetryRelay(blocking_sink, max_queued_bytes=10 * len(body)).start()
    try:
        with caplog.at_level(logging.WARNING, logger="runner.otel"):
            slowest = 0.0
            for _ in range(40):
                started = time.monotonic()
                assert _post(relay.endpoint + "/v1/traces", body) == 200
                slowest = max(slowest, time.monotonic() - started)
        assert slowest < 2.0, "an answer waited for the sink"
        counts = relay.counts()
        # one body is with the (blocked) decoder, ten fit in the queue; the rest is dropped
        assert counts.requests + counts.dropped_requests == 40
        assert 10 <= counts.requests <= 11
        assert counts.dropped_bytes == counts.dropped_requests * len(body)
        warnings = [r for r in caplog.records if "faster than the runner" in r.getMessage()]
        assert len(warnings) == 1
        release.set()
        assert wait_for(lambda: len(delivered) == counts.requests * 50, 20)
    finally:
        release.set()
        relay.close()


def test_stop_is_bounded_and_counts_what_did_not_make_it_and_what_came_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = threading.Event()
    relay = CliTelemetryRelay(lambda record: release.wait(30) and None).start()
    try:
        for _ in range(3):
            assert _post(relay.endpoint + "/v1/traces", _span_request(spans=2)) == 200
        with caplog.at_level(logging.WARNING, logger="runner.otel"):
            started = time.monotonic()
            counts = relay.stop(0.3)
            assert time.monotonic() - started < 2.0
            # the first request is in the blocked sink; the other two are late
            assert counts.late_spans == 4
            assert _post(relay.endpoint + "/v1/traces", _span_request(spans=5)) == 200
            assert _post(relay.endpoint + "/v1/logs", b"") == 200
            assert relay.counts().late_spans == 9
        late = [r for r in caplog.records if "after the session's telemetry" in r.getMessage()]
        assert len(late) == 1, "said once"
    finally:
        release.set()
        started = time.monotonic()
        relay.close()
        assert time.monotonic() - started < 2.0


def test_a_sink_that_raises_loses_only_that_record(
    collected: Collected, caplog: pytest.LogCaptureFixture
) -> None:
    def sink(record: CliRecord) -> None:
        if isinstance(record, CliSpan) and record.name == "bad":
            raise RuntimeError("boom")
        collected.add(record)

    caplog.set_level(logging.WARNING, logger="runner.otel")
    relay = CliTelemetryRelay(sink).start()
    try:
        provider = _tracer(relay.endpoint)
        tracer = provider.get_tracer("t")
        for name in ("good", "bad", "good"):
            tracer.start_span(name).end()
        provider.shutdown()
        assert wait_for(lambda: len(collected.spans) == 2, 10)
        assert relay.counts().sink_errors == 1
        assert [s.name for s in collected.spans] == ["good", "good"]
        lost = [r for r in caplog.records if "lost a Claude Code record" in r.getMessage()]
        assert len(lost) == 1
    finally:
        relay.close()


def test_an_exporter_aimed_at_a_closed_relay_fails_within_its_own_timeout() -> None:
    """A relay that is gone (closed, or never started) costs the sender a refused connection,
    not a hang: the exporter gives up within its timeout."""
    relay = CliTelemetryRelay(lambda record: None).start()
    endpoint = relay.endpoint
    relay.close()
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=2)
    provider = TracerProvider()
    span = provider.get_tracer("t").start_span("x")
    span.end()
    started = time.monotonic()
    result = exporter.export([span])  # type: ignore[list-item]
    assert result is SpanExportResult.FAILURE
    assert time.monotonic() - started < 10


def test_a_relay_that_never_started_stops_and_closes_at_once() -> None:
    relay = CliTelemetryRelay(lambda record: None)
    started = time.monotonic()
    assert relay.stop(5) == RelayCounts()
    relay.close()
    assert time.monotonic() - started < 1.0


def _span_request(spans: int) -> bytes:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    ended = []
    for i in range(spans):
        span = tracer.start_span(f"claude_code.tool.{i}", attributes={"tool_use_id": f"toolu_{i}"})
        span.end()
        ended.append(span)
    return encode_spans(ended).SerializeToString()  # type: ignore[arg-type]


def _post(
    url: str,
    body: bytes,
    content_type: str = "application/x-protobuf",
    encoding: str | None = None,
) -> int:
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
