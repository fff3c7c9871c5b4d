"""Scores as MLflow assessments, on a real tracking server, read back with MLflow's own client
(`MlflowClient.get_trace(id).info.assessments`, tests/mlflow/readback.py).

One real interactive session exported to two backends at once (OBSERVABILITY_BACKENDS=
langfuse,mlflow): its outcome scores, a stdin feedback line and a `claude-runner score` after the
session arrive as assessments on the trace MLflow stores (`tr-` + the OTel trace id), query
scores on the query's span; the same scores reach Langfuse's contract.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runner.offline import Usage, text
from tests.e2e.harness import Runner
from tests.mlflow_server import MlflowServer
from tests.support.langfuse_server import LangfuseServer

pytestmark = [pytest.mark.xdist_group("mlflow"), pytest.mark.timeout(600)]

U1 = Usage(input_tokens=120, output_tokens=31, cache_creation_input_tokens=900)
U2 = Usage(input_tokens=40, output_tokens=17, cache_read_input_tokens=900)


@pytest.fixture
def langfuse() -> Iterator[LangfuseServer]:
    server = LangfuseServer()
    yield server
    server.stop()


def assessments(
    server: MlflowServer, experiment: str, trace_id: str, count: int, timeout_s: float = 60
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        view = server.read_back(experiment, trace_ids=[f"tr-{trace_id}"])
        found = list(view["traces"][0]["assessments"]) if view["traces"] else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(1)


def test_scores_and_feedback_are_assessments_on_the_mlflow_trace(
    runner: Runner, mlflow_server: MlflowServer, experiment: str, langfuse: LangfuseServer
) -> None:
    backends = {
        "OTEL_SDK_DISABLED": None,
        "OTEL_METRICS_EXPORTER": "none",
        "OBSERVABILITY_BACKENDS": "langfuse,mlflow",
        "MLFLOW_TRACKING_URI": mlflow_server.url,
        "MLFLOW_EXPERIMENT_ID": experiment,
        "RUNNER_EXIT_BUDGET": "20",
        **langfuse.env(),
    }
    session = runner.start(
        [text("First.", U1, match="first"), text("Second.", U2, match="second")],
        stdin=True,
        INTERACTIVE="true",
        PROMPT="first",
        **backends,
    )
    start = session.wait_for("session_start")
    trace_id = start["trace_id"]
    assert start["mlflow_trace_id"] == f"tr-{trace_id}"
    assert start["trace_urls"]["mlflow"].startswith(f"{mlflow_server.url}/#/experiments/")
    session.wait_for("result")
    session.send({"type": "user_message", "text": "second"})
    session.wait_until(lambda: len([e for e in session.events if e["type"] == "result"]) == 2)
    session.send({"type": "feedback", "value": True, "query": 1})
    session.send({"type": "end_session"})
    done = session.finish()
    assert done.code == 0, done.stderr
    assert "scores delivered to mlflow" in done.stderr, done.stderr

    scored = subprocess.run(
        [sys.executable, "-m", "runner", "score", "--trace-id", trace_id, "--name", "rubric",
         "--value", "4", "--data-type", "NUMERIC", "--comment", "solid"],
        env=runner.env("http://127.0.0.1:9", **backends),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr

    expected = 2 * 3 + 6 + 1 + 1
    found = assessments(mlflow_server, experiment, trace_id, expected)
    names = [a["name"] for a in found]
    assert len(found) == expected, names
    by_name = {a["name"]: a for a in found if a["name"] not in ("query.success", "query.status")}
    assert by_name["session.success"]["value"] is True
    assert by_name["session.status"]["value"] == "success"
    assert by_name["session.status"]["source_type"] == "CODE"
    assert by_name["user-feedback"]["value"] is True
    assert by_name["user-feedback"]["source_type"] == "HUMAN"
    assert by_name["user-feedback"]["span_id"] is not None
    assert by_name["rubric"]["value"] == 4.0
    assert by_name["rubric"]["rationale"] == "solid"
    spans = {a["span_id"] for a in found if a["name"] == "query.success"}
    assert len(spans) == 2 and by_name["user-feedback"]["span_id"] in spans

    rows = langfuse.read_scores(trace_id)
    assert len(rows) == expected, [r["name"] for r in rows]
