"""Decoding the real CLI's export requests (captured from CLI 2.1.332 by
scripts/measure_cli_telemetry.py, under tests/data/cli_telemetry/) into records, and the facts
docs/cli-telemetry.md states about the scenarios the e2e tests do not run live."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from runner.cli_telemetry import BadPayload, CliLogEvent, CliSpan, decode_logs, decode_spans
from runner.cli_telemetry.records import body_bytes, count_metric_points

DATA = Path(__file__).parents[1] / "data" / "cli_telemetry"


def capture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def spans(name: str) -> list[CliSpan]:
    out: list[CliSpan] = []
    for request in capture(name)["requests"]:
        if request["path"] == "/v1/traces":
            body = ParseDict(request["body"], ExportTraceServiceRequest()).SerializeToString()
            out.extend(decode_spans(body))
    return out


def logs(name: str) -> list[CliLogEvent]:
    out: list[CliLogEvent] = []
    for request in capture(name)["requests"]:
        if request["path"] == "/v1/logs":
            body = ParseDict(request["body"], ExportLogsServiceRequest()).SerializeToString()
            out.extend(decode_logs(body))
    return out


def session_span_id(name: str) -> int:
    return int(capture(name)["traceparent"].split("-")[2], 16)


def test_every_capture_decodes_and_joins_the_session_trace() -> None:
    names = sorted(p.stem for p in DATA.glob("*.json"))
    assert len(names) >= 9
    for name in names:
        decoded = spans(name)
        trace_id = int(capture(name)["traceparent"].split("-")[1], 16)
        assert decoded and {s.trace_id for s in decoded} == {trace_id}, name
        by_id = {s.span_id for s in decoded}
        for span in decoded:
            # every parent is a span of the same export, or the session span (TRACEPARENT)
            assert span.parent_span_id in by_id | {session_span_id(name)}, (name, span.name)
        for span in decoded:
            if span.name == "claude_code.interaction":
                assert span.parent_span_id == session_span_id(name)


def test_hooks_from_settings_run_but_give_log_events_not_spans() -> None:
    """A command hook in the user's and in the project's settings.json both run (the CLI loads
    every settings source by default); CLI 2.1.332 emits no `claude_code.hook` span for them
    (that span is behind an internal beta flag), only log events."""
    assert capture("hooks")["hooks_ran"] == ["user-pre", "project-post"]
    assert "claude_code.hook" not in {s.name for s in spans("hooks")}
    events = logs("hooks")
    registered = {
        (e.attributes["hook_event"], e.attributes["hook_source"])
        for e in events
        if e.name == "claude_code.hook_registered"
    }
    assert registered == {("PreToolUse", "userSettings"), ("PostToolUse", "projectSettings")}
    (pre,) = [
        e
        for e in events
        if e.name == "claude_code.hook_execution_complete"
        and e.attributes["hook_event"] == "PreToolUse"
    ]
    # the runner's own SDK hook callback and the settings hook: two hooks, both succeeded.
    # Some log events carry numbers as strings (hook_execution_*, tool_result; api_request ints).
    assert (pre.attributes["num_hooks"], pre.attributes["num_success"]) == ("2", "2")


def test_the_compaction_summary_call_is_an_llm_request_with_query_source_compact() -> None:
    decoded = spans("compaction")
    interactions = sorted(
        (s for s in decoded if s.name == "claude_code.interaction"),
        key=lambda s: s.attributes["interaction.sequence"],  # type: ignore[arg-type,return-value]
    )
    assert len(interactions) == 3  # prompt, /compact, next message
    (summary,) = [s for s in decoded if s.attributes.get("query_source_safe") == "compact"]
    assert summary.parent_span_id == interactions[1].span_id
    assert summary.attributes["llm_request.context"] == "interaction"
    assert (summary.attributes["input_tokens"], summary.attributes["output_tokens"]) == (900, 200)
    assert "claude_code.compaction" not in {s.name for s in decoded}
    (event,) = [e for e in logs("compaction") if e.name == "claude_code.compaction"]
    assert event.attributes["trigger"] == "manual"
    assert event.span_id == interactions[1].span_id


def test_the_title_call_shows_only_when_nonessential_traffic_is_allowed() -> None:
    def sources(name: str) -> Counter[object]:
        return Counter(
            s.attributes["query_source_safe"]
            for s in spans(name)
            if s.name == "claude_code.llm_request"
        )

    assert sources("nonessential_traffic") == {"sdk": 2, "generate_session_title": 1}
    assert sources("allowed_tool") == {"sdk": 2}


def test_the_export_interval_the_cli_honours() -> None:
    """OTEL_TRACES_EXPORT_INTERVAL=500: spans ended before a 4 s tool arrive during it; with the
    default, or OTEL_BSP_SCHEDULE_DELAY=500, everything arrives at the CLI's exit."""

    def trace_arrivals(name: str) -> list[float]:
        requests = capture(name)["requests"]
        return [r["t_s"] for r in requests if r["path"] == "/v1/traces"]

    def tool_end(name: str) -> float:
        served = capture(name)["served"]
        return float(served[-1]["started_s"])  # the call after the tool: the tool has ended

    assert min(trace_arrivals("slow_tool_interval_500")) < tool_end("slow_tool_interval_500") - 2
    for name in ("slow_tool_interval_default", "slow_tool_bsp_500"):
        assert min(trace_arrivals(name)) > tool_end(name)


def test_metric_points_are_counted() -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    (first, *_) = [r for r in capture("allowed_tool")["requests"] if r["path"] == "/v1/metrics"]
    body = ParseDict(first["body"], ExportMetricsServiceRequest()).SerializeToString()
    # session.count 1, cost.usage 1, token.usage 4 (input, output, cacheRead, cacheCreation), ...
    assert count_metric_points(body) >= 6


def test_garbage_and_bad_encodings_are_bad_payloads() -> None:
    with pytest.raises(BadPayload):
        decode_spans(b"\xff\xff\xff\xff")
    with pytest.raises(BadPayload):
        decode_logs(b"{not json", json_body=True)
    with pytest.raises(BadPayload):
        body_bytes(b"plain", "gzip")
    with pytest.raises(BadPayload):
        body_bytes(b"x", "br")
    assert decode_spans(b"") == []  # an empty export request is valid OTLP
