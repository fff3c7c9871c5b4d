"""One real session, exported once, seen by two backends at the same time: our collector build
fans the trace out to a real MLflow server and to a Langfuse-like receiver. Langfuse's view of
the trace (tests/langfuse_view.py, its ingestion rules) and MLflow's own (its client) both total
Claude Code's figure for the session, and hold the same spans.

The collector runs deploy/otel-collector/config.mlflow.yaml when the repository has it (the
shipped fan-out to Langfuse and MLflow); until then an equivalent config written here: OTLP in,
one OTLP/HTTP exporter to Langfuse's OTel path (Basic auth, ingestion version 4) and one to
MLflow's /v1/traces with the experiment header. Both read the same variables.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.collector.conftest import StartCollector, collector, otelcol  # noqa: F401 (fixtures)
from tests.collector_process import CONFIGS, wait_for
from tests.e2e.harness import Runner
from tests.langfuse_view import langfuse_trace
from tests.mlflow.sessions import Exported, check_session, read_complete
from tests.mlflow_server import MlflowServer
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, PUBLIC, SECRET
from tests.support.scripts import SUBAGENT_SCRIPT

pytestmark = [pytest.mark.xdist_group("mlflow"), pytest.mark.timeout(600)]

LANGFUSE_PATH = "/api/public/otel/v1/traces"
SHIPPED = CONFIGS / "config.mlflow.yaml"
FAN_OUT = """
extensions:
  health_check:
    endpoint: ${env:OTELCOL_HEALTH_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTELCOL_OTLP_HTTP_ENDPOINT}
processors:
  batch:
    timeout: ${env:OTELCOL_BATCH_TIMEOUT}
exporters:
  otlp_http/langfuse:
    endpoint: ${env:LANGFUSE_BASE_URL}/api/public/otel
    headers:
      Authorization: Basic ${env:LANGFUSE_AUTH}
      x-langfuse-ingestion-version: "4"
    compression: gzip
  otlp_http/mlflow:
    endpoint: ${env:MLFLOW_TRACKING_URI}
    headers:
      x-mlflow-experiment-id: ${env:MLFLOW_EXPERIMENT_ID}
    compression: gzip
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp_http/langfuse, otlp_http/mlflow]
  telemetry:
    metrics:
      level: none
"""


def _config(tmp_path: Path) -> str:
    if SHIPPED.exists():
        return SHIPPED.name
    path = tmp_path / "config.fan-out.yaml"
    path.write_text(FAN_OUT)
    return str(path)  # absolute: the fixture joins it to deploy/otel-collector/ as is


def test_one_session_totals_claude_codes_figure_in_langfuse_and_in_mlflow(
    runner: Runner,
    mlflow_server: MlflowServer,
    experiment: str,
    collector: StartCollector,  # noqa: F811
    tmp_path: Path,
) -> None:
    langfuse = OTLPHttpReceiver(auth=BASIC)
    try:
        otelcol = collector(
            _config(tmp_path),
            LANGFUSE_BASE_URL=langfuse.url,
            LANGFUSE_AUTH=base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode(),
            MLFLOW_TRACKING_URI=mlflow_server.url,
            MLFLOW_EXPERIMENT_ID=experiment,
        )
        done = runner.run(
            SUBAGENT_SCRIPT,
            SESSION_ID="dual-session",
            ALLOWED_TOOLS="Bash,Agent,Task",
            NAMESPACE="team-a",
            PROJECT_NAME="proj-x",
            USER_ID="user-7",
            OTEL_SDK_DISABLED=None,
            OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
            OTEL_METRICS_EXPORTER="none",
            RUNNER_EXIT_BUDGET="30",
        )
        assert done.code == 0, done.stderr
        calls = done.end["llm_calls"]
        view, waited = read_complete(mlflow_server, experiment, calls)
        at_mlflow = Exported(done=done, view=view, session_id="dual-session", waited_s=waited)
        spans = len(at_mlflow.spans)
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= spans, timeout_s=60)
        otelcol.stop()
    finally:
        langfuse.stop()
    total = done.end["total_cost_usd"]
    assert total == pytest.approx(done.end["reported_cost_usd"], abs=1e-9)

    # Langfuse's view: one trace, a generation per call, its total = Claude Code's.
    received = langfuse.spans(LANGFUSE_PATH)
    trace = langfuse_trace(received)
    assert len(trace.observations) == spans
    assert len(trace.of_type("generation")) == calls
    assert trace.total_cost == pytest.approx(total, abs=1e-9)
    assert (trace.name, trace.session, trace.user) == ("agentic-session", "dual-session", "user-7")
    assert {o.session for o in trace.observations} == {"dual-session"}

    # MLflow's view of the same spans: the same total, by every figure it shows.
    check_session(at_mlflow)
    assert at_mlflow.trace["trace_id"] == f"tr-{received[0].trace_id.hex()}"
    mlflow_ids = {s["span_id"] for s in at_mlflow.spans}
    assert mlflow_ids == {s.span_id.hex() for s in received}
