"""Scores on the trace and their delivery (runner.otel.scores, runner.otel.export.score_*).

- every outcome score is a `gen_ai.evaluation.result` event on the span it judges, with the
  conventions' attribute names and types;
- the Langfuse body of every data type is one Langfuse's ingestion route accepts and stores
  (the contract's model, tests/support/langfuse_scores.py);
- the MLflow body is the one a real 3.17.2 server took (notes/scores.md §3);
- delivery retries what may succeed later (MLflow's 404 before the trace is stored), gives up at
  the exit budget's deadline, and counts per destination what was not delivered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runner.accounting.figures import Figures, LedgerFigures
from runner.config import Tenancy
from runner.events.types import ToolRequested, ToolResult
from runner.otel import session_observer
from runner.otel.attributes.content import ContentPolicy
from runner.otel.export.destinations import LangfuseTarget, MlflowTarget
from runner.otel.export.score_clients import (
    Judged,
    LangfuseScores,
    MlflowAssessments,
    ScoreDeliveryError,
    langfuse_environment,
)
from runner.otel.export.score_delivery import ScoreDelivery
from runner.redaction import Redactor
from runner.scores import Score, make_score
from runner.session.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart
from tests.support.langfuse_scores import ScoresServer

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


class Recording:
    """A score client that records, and fails as told first."""

    name = "fake"
    endpoint = "http://fake"
    batch_size = 10

    def __init__(self, failures: Sequence[ScoreDeliveryError] = (), hang: bool = False) -> None:
        self.failures = list(failures)
        self.sent: list[Judged] = []
        self.hang = hang
        self.calls = 0

    def send(self, items: Sequence[Judged], timeout_s: float) -> list[Judged]:
        self.calls += 1
        if self.hang:
            time.sleep(timeout_s)
            raise ScoreDeliveryError("timeout", retry=True)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.extend(items)
        return list(items)


def run_session(delivery: ScoreDelivery, *, tool_error: str | None = None) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    observer = session_observer(
        provider.get_tracer("t"), ContentPolicy.off(), attach=False, scores=delivery
    )
    observer.on_session_start(
        SessionStart(
            session_id="s",
            model="m",
            interactive=False,
            workspace="/w",
            tenancy=Tenancy(),
            prompt="p",
            at_ns=1_000,
        )
    )
    observer.on_query_start(QueryStart(index=1, prompt="p", at_ns=2_000))
    if tool_error is not None:
        observer.on_event(
            ToolRequested(
                at_ns=3_000,
                tool_use_id="t1",
                name="Bash",
                arguments={},
                thread=None,
                message_id="m1",
            )
        )
        observer.on_event(
            ToolResult(
                at_ns=4_000,
                tool_use_id="t1",
                content=tool_error,
                is_error=True,
                thread=None,
                text=tool_error,
            )
        )
    figures = LedgerFigures(total=Figures(cost_usd=0.5))
    query = QueryOutcome(index=1, at_ns=5_000, is_error=False, figures=figures)
    observer.on_query_end(query)
    observer.on_session_end(
        SessionOutcome(
            status="success", exit_code=0, at_ns=6_000, queries=(query,), figures=figures
        )
    )
    return exporter


def test_outcome_scores_are_evaluation_events_on_the_spans_they_judge() -> None:
    client = Recording()
    delivery = ScoreDelivery([client], ContentPolicy.off())
    spans = run_session(
        delivery, tool_error="Claude requested permissions to use Bash"
    ).get_finished_spans()
    delivery.close(time.monotonic() + 5)
    root = next(s for s in spans if s.name == "agentic-session")
    query = next(s for s in spans if s.name.startswith("invoke_agent"))
    events = {e.attributes["gen_ai.evaluation.name"]: dict(e.attributes) for e in root.events}
    assert set(events) == {
        "session.status",
        "session.success",
        "session.cost_usd",
        "session.tool_failures",
        "session.permission_denials",
        "session.budget_exceeded",
    }
    assert all(e.name == "gen_ai.evaluation.result" for e in root.events)
    assert events["session.success"]["gen_ai.evaluation.score.value"] == 1.0
    assert events["session.success"]["gen_ai.evaluation.score.label"] == "pass"
    assert events["session.status"]["gen_ai.evaluation.score.label"] == "success"
    assert "gen_ai.evaluation.score.value" not in events["session.status"]
    assert events["session.cost_usd"]["gen_ai.evaluation.score.value"] == 0.5
    assert events["session.tool_failures"]["gen_ai.evaluation.score.value"] == 1.0
    assert events["session.permission_denials"]["gen_ai.evaluation.score.value"] == 1.0
    query_events = {e.attributes["gen_ai.evaluation.name"] for e in query.events}
    assert query_events == {"query.status", "query.success", "query.tool_failures"}

    # Delivered with the ids of the span each judges.
    assert {j.trace_id for j in client.sent} == {f"{root.context.trace_id:032x}"}
    on_query = {j.score.name: j.observation_id for j in client.sent if j.score.query}
    assert set(on_query.values()) == {f"{query.context.span_id:016x}"}
    assert all(j.observation_id is None for j in client.sent if j.score.query is None)


def test_feedback_goes_on_the_session_span_and_to_its_query_observation() -> None:
    client = Recording()
    content = ContentPolicy(True, Redactor(["hunter2"]))
    delivery = ScoreDelivery([client], content)
    delivery.feedback(make_score("user-feedback", True, comment="pw hunter2", source="feedback"))
    spans = run_session(delivery).get_finished_spans()
    delivery.close(time.monotonic() + 5)
    root = next(s for s in spans if s.name == "agentic-session")
    query = next(s for s in spans if s.name.startswith("invoke_agent"))
    feedback = [e for e in root.events if e.attributes["gen_ai.evaluation.name"] == "user-feedback"]
    assert len(feedback) == 1
    assert feedback[0].attributes["agentic_session.score.source"] == "feedback"
    assert "hunter2" not in feedback[0].attributes["gen_ai.evaluation.explanation"]
    (sent,) = [j for j in client.sent if j.score.name == "user-feedback"]
    assert sent.observation_id == f"{query.context.span_id:016x}"
    assert sent.comment is not None and "hunter2" not in sent.comment


def test_without_content_capture_a_feedback_comment_never_leaves() -> None:
    client = Recording()
    delivery = ScoreDelivery([client], ContentPolicy.off())
    delivery.feedback(
        make_score("user-feedback", 1, "BOOLEAN", comment="private", source="feedback")
    )
    spans = run_session(delivery).get_finished_spans()
    delivery.close(time.monotonic() + 5)
    root = next(s for s in spans if s.name == "agentic-session")
    assert all("gen_ai.evaluation.explanation" not in e.attributes for e in root.events
               if e.attributes["agentic_session.score.source"] == "feedback")  # fmt: skip
    assert [j.comment for j in client.sent if j.score.name == "user-feedback"] == [None]


@pytest.mark.parametrize(
    ("value", "data_type"),
    [
        (True, "BOOLEAN"),
        (0, "BOOLEAN"),
        (4.5, "NUMERIC"),
        ("ok", "CATEGORICAL"),
        ("long text", "TEXT"),
        ("fixed", "CORRECTION"),
    ],
)
def test_the_langfuse_body_of_every_type_is_accepted_and_stored(
    value: object, data_type: str
) -> None:
    model = ScoresServer(keys={("pk", "sk"): "p1"})
    client = LangfuseScores(LangfuseTarget("http://lf", "pk", "sk"), "Production")
    score = make_score("rating", value, data_type, comment="why")
    item = Judged(score, TRACE, SPAN, "id-1", datetime.now(UTC), "why")
    event = {
        "id": "e1",
        "timestamp": "2026-12-06T17:00:00.000Z",
        "type": "score-create",
        "body": client.body(item),
    }
    answer = model.post_ingestion({"authorization": _basic("pk", "sk")}, {"batch": [event]})
    assert answer.status == 207 and answer.body["errors"] == [], answer.body
    model.process()
    assert model.dropped == []
    (stored,) = model.scores.values()
    assert (stored.trace_id, stored.observation_id, stored.environment) == (
        TRACE,
        SPAN,
        "production",
    )
    assert stored.data_type == data_type
    # The same id again updates the row: a retry never adds a second score.
    model.post_ingestion({"authorization": _basic("pk", "sk")}, {"batch": [event]})
    model.process()
    assert len(model.scores) == 1


def test_langfuse_environment_is_sent_as_langfuse_keeps_it() -> None:
    assert langfuse_environment("Prod") == "prod"
    assert langfuse_environment("ci.main") == "default"
    assert langfuse_environment(None) is None


def test_the_mlflow_body_is_an_assessment_with_a_source_and_string_metadata() -> None:
    client = MlflowAssessments(MlflowTarget("http://mlflow", "1"), "prod")
    item = Judged(make_score("user-feedback", 1, "BOOLEAN", query=2, source="feedback"), TRACE,
                  SPAN, "id-1", datetime.now(UTC), "why")  # fmt: skip
    body = client.body(item)["assessment"]
    assert body["assessment_name"] == "user-feedback"
    assert body["trace_id"] == f"tr-{TRACE}"
    assert body["source"] == {"source_type": "HUMAN", "source_id": "claude-code-runner"}
    assert body["feedback"] == {"value": True}
    assert body["span_id"] == SPAN and body["rationale"] == "why"
    assert all(isinstance(v, str) for v in body["metadata"].values())


def test_delivery_retries_until_the_trace_is_stored() -> None:
    not_yet = ScoreDeliveryError("http_404", retry=True)
    client = Recording(failures=[not_yet, not_yet])
    delivery = ScoreDelivery([client], ContentPolicy.off())
    delivery.judged(Score(name="n", value=1.0, data_type="NUMERIC"), TRACE, None)
    (report,) = delivery.close(time.monotonic() + 5)
    assert (report.scores, report.delivered, report.not_delivered) == (1, 1, 0)
    assert client.calls == 3


def test_a_refused_score_is_not_retried_and_is_counted() -> None:
    client = Recording(failures=[ScoreDeliveryError("http_401", retry=False)])
    delivery = ScoreDelivery([client], ContentPolicy.off())
    delivery.judged(Score(name="n", value=1.0, data_type="NUMERIC"), TRACE, None)
    (report,) = delivery.close(time.monotonic() + 5)
    assert report.not_delivered == 1 and report.failures == {"http_401": 1}


def test_a_hung_destination_ends_at_the_deadline_and_costs_the_other_nothing() -> None:
    hung, fine = Recording(hang=True), Recording()
    fine.name = "other"
    delivery = ScoreDelivery([hung, fine], ContentPolicy.off())
    for name in ("a", "b"):
        delivery.judged(Score(name=name, value=1.0, data_type="NUMERIC"), TRACE, None)
    started = time.monotonic()
    reports = delivery.close(started + 1.0)
    assert time.monotonic() - started < 1.5
    assert [(r.destination, r.not_delivered) for r in reports] == [("fake", 2), ("other", 0)]
    assert threading.active_count() < 50


def _basic(public: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()
