"""The Langfuse test view models Langfuse's ingestion rules (test the fake): each rule below is a
case that fails if the view drifts from DESIGN.md's measured rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.langfuse_view import langfuse_trace, observation


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def span(name: str, span_id: int, parent: int | None = None, error: bool = False, **a: Any) -> Span:
    attributes = {k.replace("__", "."): v for k, v in a.items()}
    return Span(
        trace_id=b"\x01" * 16,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=parent.to_bytes(8, "big") if parent else b"",
        name=name,
        start_time_unix_nano=span_id,
        attributes=[KeyValue(key=k, value=_value(v)) for k, v in attributes.items()],
        status=Status(code=2, message="boom") if error else Status(),
    )


def test_type_precedence() -> None:
    assert observation(span("a", 1, **{"gen_ai__operation__name": "chat"})).type == "generation"
    assert observation(span("a", 1, **{"gen_ai__operation__name": "invoke_agent"})).type == "agent"
    assert observation(span("a", 1, **{"gen_ai__tool__name": "Bash"})).type == "tool"
    assert observation(span("a", 1, **{"gen_ai__request__model": "m"})).type == "generation"
    assert observation(span("a", 1)).type == "span"
    explicit = {"langfuse__observation__type": "event", "gen_ai__operation__name": "chat"}
    assert observation(span("a", 1, **explicit)).type == "event"


def test_cost_on_any_non_agent_span_counts_toward_the_trace_total() -> None:
    """The double count that broke the first version: a root with gen_ai.usage.cost."""
    trace = langfuse_trace(
        [
            span("root", 1, gen_ai__usage__cost=0.5),
            span("q", 2, 1, gen_ai__operation__name="invoke_agent", gen_ai__usage__cost=0.5),
            span("c", 3, 2, gen_ai__operation__name="chat", gen_ai__usage__cost=0.5),
        ]
    )
    assert trace.total_cost == pytest.approx(1.0)  # root + chat; the agent row is skipped


def test_usage_details_win_and_gen_ai_input_is_net_of_cache_read_and_creation() -> None:
    details = json.dumps({"input": 1, "output": 2})
    both = observation(
        span("c", 1, langfuse__observation__usage_details=details, gen_ai__usage__input_tokens=9)
    )
    assert both.usage == {"input": 1, "output": 2}
    gen_ai = observation(
        span(
            "c",
            1,
            gen_ai__usage__input_tokens=100,
            gen_ai__usage__cache_read__input_tokens=30,
            gen_ai__usage__cache_creation__input_tokens=20,
        )
    )
    assert gen_ai.usage["input"] == 50
    newer = observation(
        span("c", 1, gen_ai__usage__input_tokens=100, gen_ai__usage__cache_write__input_tokens=20)
    )
    assert newer.usage["input"] == 100  # cache_write is not subtracted


def test_cost_details_must_be_a_json_object_and_provided_cost_replaces_the_price() -> None:
    broken = observation(span("c", 1, langfuse__observation__cost_details="12"))
    assert broken.cost == {} and broken.cost_provided
    priced = observation(
        span(
            "c",
            1,
            gen_ai__operation__name="chat",
            gen_ai__request__model="claude-sonnet-4-5",
            gen_ai__usage__input_tokens=1_000_000,
        )
    )
    assert priced.total_cost == pytest.approx(3.0) and not priced.cost_provided


def test_nothing_propagates_and_the_root_is_the_traces_input_output() -> None:
    trace = langfuse_trace(
        [
            span(
                "root",
                1,
                langfuse__session__id="s",
                langfuse__observation__output=json.dumps({"status": "success"}),
                langfuse__trace__output="legacy",
            ),
            span("child", 2, 1),
        ]
    )
    child = next(o for o in trace.observations if o.name == "child")
    assert child.session is None
    assert trace.output == {"status": "success"} and trace.legacy_output == "legacy"
    assert trace.legacy_name == "root" and trace.name is None


def test_level_and_completion_start() -> None:
    failed = observation(span("t", 1, error=True))
    assert (failed.level, failed.status_message) == ("ERROR", "boom")
    started = observation(
        span(
            "c",
            1,
            langfuse__observation__completion_start_time="2026-01-01T00:00:00.000001+00:00",
            gen_ai__response__time_to_first_chunk=0.5,
        )
    )
    assert started.completion_start is not None
    assert (
        observation(span("c", 1, gen_ai__response__time_to_first_chunk=0.5)).completion_start
        is None
    )
