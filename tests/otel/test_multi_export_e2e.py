"""Several destinations from one runner, directly: Langfuse and MLflow (and an OTLP endpoint),
each with its own exporter, queue and counts. Every span reaches every healthy destination; a
destination that is down or hangs costs the others nothing and the exit stays within the
budget; the report says per destination what was delivered, not confirmed and not delivered.
Real `claude-runner` processes against two local OTLP/HTTP receivers (a Langfuse-like one at
/api/public/otel/v1/traces, an MLflow-like one at /v1/traces with 404 on /v1/metrics)."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from runner.offline import Usage, bash, text
from tests.e2e.harness import Finished, Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import (
    BASIC,
    LANGFUSE_PATH,
    MLFLOW_EXPERIMENT,
    MLFLOW_TOKEN,
    SECRET,
    both_backends,
    free_port,
    mlflow_receiver,
)
from tests.support.scripts import EXPORT_SCRIPT as SCRIPT

pytestmark = pytest.mark.e2e

SPANS = 5  # session, query, two chats, one tool


@pytest.fixture
def langfuse() -> Iterator[OTLPHttpReceiver]:
    r = OTLPHttpReceiver(auth=BASIC)
    yield r
    r.stop()


@pytest.fixture
def mlflow() -> Iterator[OTLPHttpReceiver]:
    r = mlflow_receiver()
    yield r
    r.stop()


def _telemetry_lines(done: Finished) -> list[str]:
    return [line for line in done.stderr.splitlines() if "telemetry:" in line]


def test_the_fake_mlflow_refuses_what_mlflow_refuses(mlflow: OTLPHttpReceiver) -> None:
    """Test the fake: without the experiment header 400, metrics 404, a good request 200."""

    def post(path: str, headers: dict[str, str]) -> int:
        request = urllib.request.Request(mlflow.url + path, data=b"", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    auth = {"Authorization": f"Bearer {MLFLOW_TOKEN}"}
    assert post("/v1/traces", auth) == 400
    assert post("/v1/traces", {**auth, "x-mlflow-experiment-id": MLFLOW_EXPERIMENT}) == 200
    assert post("/v1/metrics", {**auth, "x-mlflow-experiment-id": MLFLOW_EXPERIMENT}) == 404
    assert post("/v1/traces", {"x-mlflow-experiment-id": MLFLOW_EXPERIMENT}) == 401


def test_langfuse_and_mlflow_each_receive_every_span_with_their_own_headers(
    runner: Runner, langfuse: OTLPHttpReceiver, mlflow: OTLPHttpReceiver
) -> None:
    done = runner.run(SCRIPT, **both_backends(langfuse.url, mlflow.url))

    assert done.code == 0, done.stderr
    at_langfuse = langfuse.spans(LANGFUSE_PATH)
    at_mlflow = mlflow.spans("/v1/traces")
    assert len(at_langfuse) == len(at_mlflow) == SPANS
    assert {s.span_id for s in at_langfuse} == {s.span_id for s in at_mlflow}
    assert len({s.trace_id for s in at_langfuse}) == 1
    assert {r.path for r in langfuse.requests} == {LANGFUSE_PATH}
    assert {r.path for r in mlflow.requests} == {"/v1/traces"}  # no metrics to either
    for request in langfuse.requests:
        assert request.status == 200
        assert request.headers["x-langfuse-ingestion-version"] == "4"
        assert "x-mlflow-experiment-id" not in request.headers
    for request in mlflow.requests:
        assert request.status == 200
        assert request.headers["x-mlflow-experiment-id"] == MLFLOW_EXPERIMENT
        assert request.headers["content-type"] == "application/x-protobuf"
        assert request.headers.get("content-encoding") == "gzip"
        assert "x-langfuse-ingestion-version" not in request.headers
    root = next(s for s in at_mlflow if s.name == "agentic-session")
    assert attributes(root)["session.id"] == "e2e-session"
    lines = _telemetry_lines(done)
    assert any(f"{SPANS} spans delivered to langfuse (" in line for line in lines), lines
    assert any(f"{SPANS} spans delivered to mlflow (" in line for line in lines), lines
    assert "not delivered" not in done.stderr and "not confirmed" not in done.stderr
    for secret in (SECRET, MLFLOW_TOKEN):
        assert secret not in done.stderr and secret not in done.stdout_raw


def test_the_agent_cannot_read_the_mlflow_credentials(
    runner: Runner, langfuse: OTLPHttpReceiver, mlflow: OTLPHttpReceiver
) -> None:
    probe = "echo t=[$MLFLOW_TRACKING_TOKEN] p=[$MLFLOW_TRACKING_PASSWORD] u=[$MLFLOW_TRACKING_URI]"
    done = runner.run(
        [bash(probe, Usage(10, 5)), text("ok", Usage(10, 5))],
        **both_backends(langfuse.url, mlflow.url),
        MLFLOW_TRACKING_PASSWORD="pw-SECRET-1",
        MLFLOW_TRACKING_USERNAME="alice",
    )
    assert done.code == 0, done.stderr
    output = done.of_type("tool_result")[0]["content"]
    assert output == f"t=[] p=[] u=[{mlflow.url}]"  # the URI is not a secret; the agent sees it
    assert len(mlflow.spans("/v1/traces")) == SPANS  # the token still reached MLflow


def test_a_collector_endpoint_can_be_one_more_destination_and_keeps_its_headers_to_itself(
    runner: Runner, langfuse: OTLPHttpReceiver
) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS is the collector's: the SDK would merge it into every OTLP
    exporter; a direct destination must not receive it (here an MLflow without auth, which
    would otherwise get the collector's token)."""
    collector = OTLPHttpReceiver(auth="Bearer collector-token-123")
    open_mlflow = OTLPHttpReceiver(
        required_headers={"x-mlflow-experiment-id": MLFLOW_EXPERIMENT}, not_found=("/v1/metrics",)
    )
    env = {
        **both_backends(langfuse.url, open_mlflow.url),
        "OBSERVABILITY_BACKENDS": "otlp,langfuse,mlflow",
    }
    del env["MLFLOW_TRACKING_TOKEN"]
    try:
        done = runner.run(
            SCRIPT,
            **env,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20collector-token-123,x-tenant=team-a",
        )
    finally:
        collector.stop()
        open_mlflow.stop()
    assert done.code == 0, done.stderr
    assert len(collector.spans()) == len(langfuse.spans(LANGFUSE_PATH)) == SPANS
    assert len(open_mlflow.spans("/v1/traces")) == SPANS
    assert collector.metric_names(), "metrics go to the collector"
    assert {r.headers.get("x-tenant") for r in collector.requests} == {"team-a"}
    for request in [*langfuse.requests, *open_mlflow.requests]:
        assert "x-tenant" not in request.headers
        assert "collector-token-123" not in request.headers.get("authorization", "")
    assert all("authorization" not in r.headers for r in open_mlflow.requests)
    assert "collector-token-123" not in done.stderr


@pytest.mark.parametrize("broken", ["langfuse", "mlflow"])
@pytest.mark.parametrize("mode", ["hang", "refused"])
def test_one_destination_down_or_hanging_costs_the_other_nothing(
    runner: Runner, broken: str, mode: str
) -> None:
    """The healthy destination gets every span and the exit stays within the budget. Spans are
    held to the exit (one batch each) and the healthy backend answers in 1 s: flushed after the
    broken one gave up (the budget less its last 0.5 s) it would get nothing; flushed in
    parallel it has the whole budget. The exporter timeout is 30 s, so a shutdown that waited
    on the broken backend would take that long."""
    healthy = (
        OTLPHttpReceiver(mode="slow:1", auth=BASIC)
        if broken == "mlflow"
        else mlflow_receiver("slow:1")
    )
    hung = None if mode == "refused" else OTLPHttpReceiver(mode="hang")
    broken_url = hung.url if hung else f"http://127.0.0.1:{free_port()}"
    urls = (broken_url, healthy.url) if broken == "langfuse" else (healthy.url, broken_url)
    try:
        done = runner.run(
            SCRIPT,
            **both_backends(*urls, budget="3"),
            OTEL_EXPORTER_OTLP_TIMEOUT="30",
            OTEL_BSP_SCHEDULE_DELAY="60000",
        )
    finally:
        healthy.stop()
        if hung:
            hung.stop()
    assert done.code == 0, done.stderr
    assert done.end["status"] == "success"
    path = LANGFUSE_PATH if broken == "mlflow" else "/v1/traces"
    names = sorted(s.name for s in healthy.spans(path))
    assert len(names) == SPANS and "agentic-session" in names, (names, done.stderr)
    assert done.exit_after_end_s is not None and done.exit_after_end_s < 20
    healthy_name = "mlflow" if broken == "langfuse" else "langfuse"
    lines = _telemetry_lines(done)
    assert any(f"{SPANS} spans delivered to {healthy_name} (" in line for line in lines), lines
    lost = [line for line in lines if f"by {broken} (" in line or f"to {broken} (" in line]
    lost = [line for line in lost if "not delivered" in line or "not confirmed" in line]
    assert lost, lines
    if mode == "refused":
        assert any("not delivered" in line for line in lost) and "refused" in done.stderr


def test_spans_sent_but_unanswered_when_the_budget_ran_out_are_not_confirmed_not_lost(
    runner: Runner,
) -> None:
    """A slow MLflow stores the batch after the runner has given up waiting: the runner says
    `not confirmed`, never `not delivered`, and the receiver does hold every span. Langfuse
    answering 503 at the same time is `not delivered`, with its reason."""
    slow_mlflow = mlflow_receiver(mode="slow:6")
    failing_langfuse = OTLPHttpReceiver(mode=503)
    try:
        done = runner.run(
            SCRIPT,
            **both_backends(failing_langfuse.url, slow_mlflow.url, budget="2"),
            OTEL_BSP_SCHEDULE_DELAY="60000",  # one batch, at exit
        )
        deadline = time.monotonic() + 30
        while not slow_mlflow.spans("/v1/traces") and time.monotonic() < deadline:
            time.sleep(0.1)
        stored = len(slow_mlflow.spans("/v1/traces"))
    finally:
        slow_mlflow.stop()
        failing_langfuse.stop()
    assert done.code == 0, done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s < 20
    assert stored == SPANS, "the slow backend stored the batch after all"
    lines = _telemetry_lines(done)
    (unconfirmed,) = [line for line in lines if "not confirmed" in line]
    assert re.search(rf"\b{SPANS} of {SPANS} spans were not confirmed by mlflow \(", unconfirmed)
    assert "exit budget" in unconfirmed and "may have stored them" in unconfirmed
    (lost,) = [line for line in lines if "not delivered" in line]
    assert re.search(rf"\b{SPANS} of {SPANS} spans were not delivered to langfuse \(", lost)
    assert "HTTP 5xx" in lost


def test_a_bad_mlflow_setting_is_one_warning_and_langfuse_goes_on(
    runner: Runner, langfuse: OTLPHttpReceiver
) -> None:
    env = both_backends(langfuse.url, "databricks")
    done = runner.run(SCRIPT, **env)
    assert done.code == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "MLFLOW_TRACKING_URI" in line]
    assert len(lines) == 1 and "'databricks'" in lines[0] and "http://mlflow:5000" in lines[0]
    assert len(langfuse.spans(LANGFUSE_PATH)) == SPANS


def test_mlflow_answering_404_on_metrics_names_the_status_and_the_fix(
    runner: Runner, mlflow: OTLPHttpReceiver
) -> None:
    """MLflow as the plain OTLP endpoint (the standard OTEL_* variables): traces arrive, and the
    metrics' 404 is one warning that says what to do, not `failed (failed)`."""
    done = runner.run(
        SCRIPT,
        OTEL_SDK_DISABLED=None,
        RUNNER_EXIT_BUDGET="3",
        OTEL_EXPORTER_OTLP_ENDPOINT=mlflow.url,
        OTEL_EXPORTER_OTLP_HEADERS=(
            f"x-mlflow-experiment-id={MLFLOW_EXPERIMENT},Authorization=Bearer%20{MLFLOW_TOKEN}"
        ),
    )
    assert done.code == 0, done.stderr
    assert len(mlflow.spans("/v1/traces")) == SPANS
    assert any(r.path == "/v1/metrics" and r.status == 404 for r in mlflow.requests)
    lines = [line for line in _telemetry_lines(done) if "metrics export" in line]
    assert len(lines) == 1, lines
    assert "failed (HTTP 404)" in lines[0]
    assert "MLflow and Langfuse ingest traces only" in lines[0]
    assert "OTEL_METRICS_EXPORTER=none" in lines[0]
    assert "(failed)" not in done.stderr and MLFLOW_TOKEN not in done.stderr


def test_a_traces_endpoint_alone_sends_no_metrics_anywhere_and_exits_at_once(
    runner: Runner,
) -> None:
    """The OTLP spec: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT configures traces only. Metrics must
    not go to the default localhost:4318 (nothing there: retried until the budget ran out)."""
    traces = OTLPHttpReceiver()
    try:
        done = runner.run(
            SCRIPT,
            OTEL_SDK_DISABLED=None,
            RUNNER_EXIT_BUDGET="10",
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{traces.url}/v1/traces",
        )
    finally:
        traces.stop()
    assert done.code == 0, done.stderr
    assert len(traces.spans()) == SPANS
    assert {r.path for r in traces.requests} == {"/v1/traces"}
    assert "metrics →" not in done.stderr and "4318" not in done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s < 5


def test_a_metrics_endpoint_alone_sends_metrics_there_and_no_traces(runner: Runner) -> None:
    metrics = OTLPHttpReceiver()
    try:
        done = runner.run(
            SCRIPT,
            OTEL_SDK_DISABLED=None,
            RUNNER_EXIT_BUDGET="10",
            OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=f"{metrics.url}/v1/metrics",
        )
    finally:
        metrics.stop()
    assert done.code == 0, done.stderr
    assert {r.path for r in metrics.requests} == {"/v1/metrics"}
    assert "gen_ai.client.token.usage" in metrics.metric_names()
    assert "traces →" not in done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s < 5
