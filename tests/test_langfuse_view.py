"""The Langfuse test view models Langfuse's ingestion rules (test the fake): each rule below is a
case that fails if the view drifts from DESIGN.md's measured rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tests.langfuse_metadata import Scope, js_number
from tests.langfuse_view import langfuse_trace, observation, scoped_spans
from tests.otlp_receiver import Received


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


# --- metadata (tests/langfuse_metadata.py) ----------------------------------------------------

SDK = Scope(name="langfuse-sdk", version="5.0.0", resource={"service.name": "claude-code-runner"})
FOREIGN = Scope(name="runner", resource={"service.name": "claude-code-runner"})


def test_prefixed_metadata_keys_stay_whole_and_are_stored_as_javascript_strings() -> None:
    o = observation(
        span(
            "q",
            1,
            **{
                "langfuse.observation.metadata.cost_usd": 1.861e-05,
                "langfuse.observation.metadata.usage.input_tokens": 3,
                "langfuse.observation.metadata.ok": True,
                "langfuse.observation.metadata.ids": [1, 2],
                "langfuse.observation.metadata.json": '{"a": 1}',  # a string is not parsed
                "langfuse.trace.metadata.namespace": "ns",
            },
        )
    )
    assert o.metadata == {
        "cost_usd": 1.861e-05,
        "usage.input_tokens": 3,
        "ok": True,
        "ids": [1, 2],
        "json": '{"a": 1}',
        "namespace": "ns",
    }
    assert {k: o.stored_metadata[k] for k in o.metadata} == {
        "cost_usd": "0.00001861",
        "usage.input_tokens": "3",
        "ok": "true",
        "ids": "[1,2]",
        "json": '{"a": 1}',
        "namespace": "ns",
    }


def test_the_whole_metadata_attribute_must_be_a_json_object_and_is_flattened() -> None:
    whole = observation(
        span("q", 1, **{"langfuse.observation.metadata": json.dumps({"usage": {"output": 2}})})
    )
    assert whole.metadata == {"usage": {"output": 2}}
    assert whole.stored_metadata["usage.output"] == "2"
    for broken in ("[1, 2]", "12", "not json"):
        assert observation(span("q", 1, **{"langfuse.observation.metadata": broken})).metadata == {}


def test_trace_metadata_wins_and_a_key_can_replace_the_scope_object() -> None:
    o = observation(
        span(
            "q",
            1,
            **{
                "langfuse.observation.metadata.status": "observation",
                "langfuse.trace.metadata.status": "trace",
                "langfuse.observation.metadata.scope": "mine",
            },
        ),
        FOREIGN,
    )
    assert o.metadata["status"] == "trace"
    assert o.stored_metadata["scope"] == "mine" and "scope.name" not in o.stored_metadata


def test_a_langfuse_sdk_scope_keeps_no_other_attribute_and_a_foreign_scope_keeps_them_all() -> None:
    attributes = {
        "agentic_session.cost_usd": 0.25,
        "agentic_session.llm_calls": 3,
        "langfuse.trace.tags": ["a", "b"],
        "gen_ai.tool.call.arguments": "{}",  # input/output keys never land in `attributes`
        "langfuse.observation.metadata.cost_usd": 0.25,
    }
    sdk = observation(span("q", 1, **attributes), SDK)
    foreign = observation(span("q", 1, **attributes), FOREIGN)
    assert sdk.metadata == foreign.metadata == {"cost_usd": 0.25}
    assert not [k for k in sdk.stored_metadata if k.startswith("attributes.")]
    assert sdk.stored_metadata["scope.name"] == "langfuse-sdk"
    assert sdk.stored_metadata["resourceAttributes.service.name"] == "claude-code-runner"
    assert {k: v for k, v in foreign.stored_metadata.items() if k.startswith("attributes.")} == {
        "attributes.agentic_session.cost_usd": "0.25",
        "attributes.agentic_session.llm_calls": "3",
        "attributes.langfuse.trace.tags": '["a","b"]',
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (0.5, "0.5"),
        (1.861e-05, "0.00001861"),
        (1e-7, "1e-7"),
        (-2.5e-7, "-2.5e-7"),
        (0.00444735, "0.00444735"),
        (1e21, "1e+21"),
        (123456789012.5, "123456789012.5"),
        (0.0, "0"),
    ],
)
def test_numbers_are_written_as_javascript_writes_them(value: float, text: str) -> None:
    assert js_number(value) == text


def test_scoped_spans_carry_scope_and_resource_and_the_trace_has_the_roots_metadata() -> None:
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key="service.name", value=_value("claude-code-runner"))]
                ),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name="langfuse-sdk", version="5.0.0"),
                        spans=[
                            span("root", 1, **{"langfuse.trace.metadata.status": "success"}),
                            span("child", 2, 1, **{"agentic_session.cost_usd": 0.5}),
                        ],
                    )
                ],
            )
        ]
    )
    body = request.SerializeToString()
    received = [Received("/v1/traces", {}, len(body), body, 200)]
    spans = scoped_spans(received, "/v1/traces")
    assert [(s.span.name, s.scope.name) for s in spans] == [
        ("root", "langfuse-sdk"),
        ("child", "langfuse-sdk"),
    ]
    trace = langfuse_trace(spans)
    assert trace.metadata["status"] == "success"
    assert trace.metadata["resourceAttributes.service.name"] == "claude-code-runner"
    child = next(o for o in trace.observations if o.name == "child")
    assert not [k for k in child.stored_metadata if "cost_usd" in k]  # dropped: SDK scope
    bare = langfuse_trace([s.span for s in spans])  # no scope known: a foreign scope
    child = next(o for o in bare.observations if o.name == "child")
    assert child.stored_metadata["attributes.agentic_session.cost_usd"] == "0.5"
