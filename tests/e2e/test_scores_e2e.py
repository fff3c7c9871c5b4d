"""From a session to its trace and back (issue 27), with the real runner, SDK and CLI against the
scripted Messages API server and a local Langfuse that validates scores as Langfuse's server does
(tests/support/langfuse_scores.py behind tests/support/langfuse_server.py).

Invariants: session_start names the trace (id, traceparent, URL) before the first model call;
every session's outcome is a set of scores on its trace, each also a gen_ai.evaluation.result
event on the span it judges; feedback from stdin and from `claude-runner score` lands on the
query it names; a comment is content; a backend that is down costs the exit at most its budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runner.offline import Usage, bash, text
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.langfuse_server import PROJECT_ID, LangfuseServer

U1 = Usage(input_tokens=120, output_tokens=31, cache_creation_input_tokens=900)
U2 = Usage(input_tokens=40, output_tokens=17, cache_read_input_tokens=900)
U3 = Usage(input_tokens=55, output_tokens=64, cache_read_input_tokens=940)
OTEL_ON = {"OTEL_SDK_DISABLED": None, "OTEL_METRICS_EXPORTER": "none"}
SESSION_SCORES = {
    "session.status",
    "session.success",
    "session.cost_usd",
    "session.tool_failures",
    "session.permission_denials",
    "session.budget_exceeded",
}
QUERY_SCORES = {"query.status", "query.success", "query.tool_failures"}


@pytest.fixture
def langfuse() -> Iterator[LangfuseServer]:
    server = LangfuseServer()
    yield server
    server.stop()


def wait_for_scores(
    langfuse: LangfuseServer, trace_id: str, count: int, timeout_s: float = 10
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = langfuse.read_scores(trace_id, fields="core,details,subject")
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def test_batch_session_announces_its_trace_and_scores_its_outcome_in_langfuse(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    done = runner.run(
        [bash("false", U1), text("Done.", U2)],
        LANGFUSE_TRACING_ENVIRONMENT="CI",
        **OTEL_ON,
        **langfuse.env(),
    )
    assert done.code == 0, done.stderr
    start = done.of_type("session_start")[0]
    trace_id = start["trace_id"]
    assert len(trace_id) == 32 and int(trace_id, 16)
    assert start["traceparent"].startswith(f"00-{trace_id}-")
    # The project id is asked off the agent loop: the first line may carry the redirect URL.
    assert start["trace_urls"]["langfuse"] in (
        f"{langfuse.url}/project/{PROJECT_ID}/traces/{trace_id}",
        f"{langfuse.url}/trace/{trace_id}",
    )
    end = done.end
    assert end["trace_id"] == trace_id
    assert end["trace_urls"]["langfuse"] == f"{langfuse.url}/project/{PROJECT_ID}/traces/{trace_id}"
    assert f"trace {trace_id}" in done.stderr

    rows = wait_for_scores(langfuse, trace_id, len(SESSION_SCORES | QUERY_SCORES))
    assert langfuse.scores.dropped == []
    scores = by_name(rows)
    assert set(scores) == SESSION_SCORES | QUERY_SCORES
    assert scores["session.status"]["value"] == "success"
    assert scores["session.success"]["value"] is True
    assert scores["session.budget_exceeded"]["value"] is False
    assert scores["session.cost_usd"]["value"] == pytest.approx(end["total_cost_usd"])
    assert scores["session.tool_failures"]["value"] == 1
    assert scores["query.tool_failures"]["value"] == 1
    assert {row["environment"] for row in rows} == {"ci"}
    assert scores["session.success"]["subject"] == {"kind": "trace", "id": trace_id}
    query_subject = scores["query.success"]["subject"]
    assert query_subject["kind"] == "observation"

    # Each score is also an evaluation event on the span it judges.
    spans = {f"{s.span_id.hex()}": s for s in langfuse.spans}
    query_span = spans[query_subject["id"]]
    assert query_span.name.startswith("invoke_agent")
    events = [attributes_of(e) for e in query_span.events if e.name == "gen_ai.evaluation.result"]
    assert {e["gen_ai.evaluation.name"] for e in events} == QUERY_SCORES
    success = next(e for e in events if e["gen_ai.evaluation.name"] == "query.success")
    assert success["gen_ai.evaluation.score.value"] == 1.0
    assert success["gen_ai.evaluation.score.label"] == "pass"
    root = next(s for s in langfuse.spans if s.name == "agentic-session")
    names = {e.name for e in root.events}
    assert names == {"gen_ai.evaluation.result"}
    assert "scores delivered to langfuse" in done.stderr


def attributes_of(event: Any) -> dict[str, Any]:
    return attributes(event)  # type: ignore[arg-type]


def test_stdin_feedback_becomes_a_score_on_its_query_and_a_bad_line_names_the_field(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    session = runner.start(
        [text("First.", U1, match="first"), text("Second.", U3, match="second")],
        stdin=True,
        INTERACTIVE="true",
        PROMPT="first",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
        **OTEL_ON,
        **langfuse.env(),
    )
    session.wait_for("result")
    session.send({"type": "feedback", "name": "user-feedback", "value": 2, "data_type": "BOOLEAN"})
    session.send({"type": "user_message", "text": "second"})
    session.wait_until(lambda: len([e for e in session.events if e["type"] == "result"]) == 2)
    session.send(
        {
            "type": "feedback",
            "name": "user-feedback",
            "value": 1,
            "data_type": "BOOLEAN",
            "comment": "great, key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA",
            "query": 1,
        }
    )
    session.send({"type": "feedback", "name": "rating", "value": "good", "query": 2})
    session.send({"type": "end_session"})
    done = session.finish()

    assert done.code == 0, done.stderr
    errors = done.of_type("input_error")
    assert len(errors) == 1 and "feedback value" in errors[0]["message"], errors
    assert "feedback value: a BOOLEAN score is true/false or 1/0" in done.stderr
    feedback = done.of_type("feedback")
    assert [(f["name"], f["query"], f["value"]) for f in feedback] == [
        ("user-feedback", 1, 1.0),
        ("rating", 2, "good"),
    ]
    assert "sk-ant-api03" not in done.stdout_raw

    trace_id = done.end["trace_id"]
    rows = wait_for_scores(langfuse, trace_id, 2 * 3 + 6 + 2)
    scores = by_name(rows)
    user, rating = scores["user-feedback"], scores["rating"]
    assert user["value"] is True and user["dataType"] == "BOOLEAN"
    assert rating["value"] == "good" and rating["dataType"] == "CATEGORICAL"
    assert "sk-ant-api03" not in (user["comment"] or "") and "great" in user["comment"]
    queries = {
        row["subject"]["id"]: row["metadata"]["query"]
        for row in rows
        if row["name"] == "query.success"
    }
    assert user["subject"]["kind"] == "observation"
    assert queries[user["subject"]["id"]] == 1
    assert queries[rating["subject"]["id"]] == 2


def test_a_comment_is_content_and_stays_home_without_capture(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    session = runner.start(
        [text("Only.", U1)],
        stdin=True,
        INTERACTIVE="true",
        PROMPT="hi",
        **OTEL_ON,
        **langfuse.env(),
    )
    session.wait_for("result")
    session.send({"type": "feedback", "value": 0, "comment": "the secret plan"})
    session.send({"type": "end_session"})
    done = session.finish()
    assert done.code == 0, done.stderr
    trace_id = done.end["trace_id"]
    rows = wait_for_scores(langfuse, trace_id, 3 + 6 + 1)
    user = by_name(rows)["user-feedback"]
    assert user["value"] == 0 and user["dataType"] == "NUMERIC"
    assert user["comment"] is None
    assert "the secret plan" not in json.dumps(langfuse.bodies)
    root = next(s for s in langfuse.spans if s.name == "agentic-session")
    assert "the secret plan" not in str(root)


def test_claude_runner_score_rates_a_finished_session(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    done = runner.run([text("Done.", U1)], **OTEL_ON, **langfuse.env())
    trace_id = done.end["trace_id"]
    env = runner.env("http://127.0.0.1:9", OTEL_SDK_DISABLED=None, **langfuse.env())
    for data_type, value in (("BOOLEAN", "true"), ("CORRECTION", "the better answer")):
        scored = subprocess.run(
            [sys.executable, "-m", "runner", "score", "--trace-id", trace_id, "--name",
             f"review-{data_type.lower()}", "--value", value, "--data-type", data_type,
             "--comment", "checked by hand"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert scored.returncode == 0, scored.stderr
        assert "1 scores delivered to langfuse" in scored.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "runner", "score", "--trace-id", trace_id, "--name", "x",
         "--value", "2", "--data-type", "BOOLEAN"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "value" in bad.stderr
    scores = by_name(wait_for_scores(langfuse, trace_id, 3 + 6 + 2))
    assert scores["review-boolean"]["value"] is True
    # Langfuse stores a CORRECTION under the name "output" (its worker: validateAndInflateScore).
    assert scores["output"]["value"] == "the better answer"
    assert scores["output"]["dataType"] == "CORRECTION"
    assert scores["output"]["comment"] == "checked by hand"


def test_scores_reach_langfuse_straight_when_traces_go_through_a_collector(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    """The runner holds the Langfuse keys: spans go to the collector, scores to Langfuse."""
    collector = OTLPHttpReceiver()
    try:
        done = runner.run(
            [text("Done.", U1)],
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            **OTEL_ON,
            **langfuse.env(),
        )
    finally:
        collector.stop()
    assert done.code == 0, done.stderr
    trace_id = done.end["trace_id"]
    assert langfuse.spans == []  # the spans went to the collector
    events = [e.name for s in collector.spans() if s.name == "agentic-session" for e in s.events]
    assert events.count("gen_ai.evaluation.result") == len(SESSION_SCORES)
    assert set(by_name(wait_for_scores(langfuse, trace_id, 9))) == SESSION_SCORES | QUERY_SCORES


def test_langfuse_sdk_path_delivers_scores_too(runner: Runner, langfuse: LangfuseServer) -> None:
    # The Langfuse SDK's import (~0.5 s, several on a loaded machine) happens on the telemetry
    # worker; a generous budget keeps a busy machine from cutting it (the condition under test
    # is delivery, not the exit time: that is test_a_hung_score_backend_...).
    done = runner.run(
        [text("Done.", U1)],
        TELEMETRY_MODE="langfuse-sdk",
        RUNNER_EXIT_BUDGET="30",
        **OTEL_ON,
        **langfuse.env(),
    )
    assert done.code == 0, done.stderr
    trace_id = done.end["trace_id"]
    assert set(by_name(wait_for_scores(langfuse, trace_id, 9))) == SESSION_SCORES | QUERY_SCORES
    assert any(s.name == "agentic-session" for s in langfuse.spans)


def test_a_hung_score_backend_costs_the_exit_at_most_its_budget(runner: Runner) -> None:
    hung = LangfuseServer(mode="hang")
    try:
        done = runner.run(
            [text("Done.", U1)],
            RUNNER_EXIT_BUDGET="2",
            LANGFUSE_PROJECT_ID="p-1",
            **OTEL_ON,
            **hung.env(),
        )
    finally:
        hung.stop()
    assert done.code == 0, done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s < 2 + 1.5
    assert "9 scores not delivered to langfuse" in done.stderr, done.stderr


def test_a_denied_tool_is_a_permission_denial_and_a_tool_failure(
    runner: Runner, langfuse: LangfuseServer
) -> None:
    done = runner.run(
        [bash("touch denied.txt", U1), text("I may not.", U2)],
        ALLOWED_TOOLS="Read",
        **OTEL_ON,
        **langfuse.env(),
    )
    assert done.code == 0, done.stderr
    (result,) = done.of_type("tool_result")
    assert result["is_error"], result
    scores = by_name(wait_for_scores(langfuse, done.end["trace_id"], 9))
    assert scores["session.permission_denials"]["value"] == 1, result["content"]
    assert scores["session.tool_failures"]["value"] == 1
