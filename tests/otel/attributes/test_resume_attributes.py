"""A resumed run's root span: marked as a continuation, linked to the earlier run's root, with
its output saying so; a fresh run's root carries none of it."""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runner.otel.attributes import spans as attrs
from runner.otel.attributes.content import ContentPolicy
from runner.otel.span_renderer import SpanRenderer, resumed_from
from runner.otel.tree.nodes import SessionNode
from runner.redaction import Redactor
from runner.session.types import ResumeInfo, SessionOutcome

OFF = ContentPolicy(False, Redactor())
TRACE, SPAN = "0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7"
RESUME = ResumeInfo(
    claude_session_id="c-1",
    previous_trace_id=TRACE,
    previous_span_id=SPAN,
    baseline_cost_usd=0.02121,
)


def _session(resume: ResumeInfo | None) -> SessionNode:
    return SessionNode(key="s", parent=None, start_ns=1, session_id="s-1", model="m", resume=resume)


def test_a_resumed_root_says_whence_it_continues() -> None:
    a = attrs.start_attributes(_session(RESUME), OFF)
    assert a["agentic_session.resumed"] is True
    assert a["agentic_session.resumed_from.trace_id"] == TRACE
    assert a["agentic_session.resumed_from.reported_cost_usd"] == 0.02121
    assert a["langfuse.trace.metadata.resumed_from_trace_id"] == TRACE
    assert a["mlflow.traceTag.resumed"] == "true"


def test_a_fresh_root_carries_no_resume_attribute() -> None:
    a = attrs.start_attributes(_session(None), OFF)
    assert not [k for k in a if "resumed" in k]


def test_the_outcome_of_a_resumed_run_says_it_continued() -> None:
    outcome = SessionOutcome(status="success", exit_code=0, at_ns=2, resume=RESUME)
    node = _session(RESUME)
    node.outcome = outcome
    output = json.loads(str(attrs.end_attributes(node, OFF)["langfuse.observation.output"]))
    assert output["resumed"] is True and output["resumed_from_trace_id"] == TRACE
    assert output["earlier_reported_cost_usd"] == 0.02121
    assert "resumed" not in SessionOutcome(status="success", exit_code=0, at_ns=2).summary()


def test_the_root_links_to_the_earlier_root() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    renderer = SpanRenderer(provider.get_tracer("t"), OFF)
    node = _session(RESUME)
    renderer.start(node)
    node.end_ns = 3
    renderer.finish(node)
    (span,) = exporter.get_finished_spans()
    (link,) = span.links
    assert (f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}") == (TRACE, SPAN)
    assert link.attributes == {
        "agentic_session.link": "resumed_from",
        "agentic_session.resumed_from.trace_id": TRACE,
    }


def test_a_trace_id_alone_still_makes_a_link() -> None:
    (link,) = resumed_from(TRACE, None)
    assert link.context.trace_id == int(TRACE, 16) and link.context.span_id == 0
    assert resumed_from(None, None) == []
