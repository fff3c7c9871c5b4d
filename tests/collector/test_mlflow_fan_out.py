"""deploy/otel-collector/config.mlflow.yaml run in our collector build: a real session's trace
reaches a Langfuse-like receiver (Basic auth, ingestion version 4) and an MLflow-like one (the
experiment header, gzip, no metrics: MLflow answers 404 there), whole and identical, and the
metrics stay on the Prometheus endpoint."""

from __future__ import annotations

import base64

from runner.offline import Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector_process import wait_for
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, PUBLIC, SECRET, TELEMETRY_ON

LANGFUSE_PATH = "/api/public/otel/v1/traces"
SCRIPT = [bash("echo one", Usage(120, 30, 0, 900)), text("Done.", Usage(55, 21, 900))]
SPANS = 1 + 1 + 2 + 1  # session, query, calls, tool
EXPERIMENT = "42"


def test_the_mlflow_config_fans_one_trace_out_to_langfuse_and_mlflow(
    collector: StartCollector, runner: Runner
) -> None:
    langfuse = OTLPHttpReceiver(auth=BASIC)
    mlflow = OTLPHttpReceiver(
        required_headers={"x-mlflow-experiment-id": EXPERIMENT}, not_found=("/v1/metrics",)
    )
    try:
        otelcol = collector(
            "config.mlflow.yaml",
            LANGFUSE_BASE_URL=langfuse.url,
            LANGFUSE_AUTH=base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode(),
            MLFLOW_TRACKING_URI=mlflow.url,
            MLFLOW_EXPERIMENT_ID=EXPERIMENT,
        )
        done = runner.run(
            SCRIPT,
            **TELEMETRY_ON,
            OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
            OTEL_METRIC_EXPORT_INTERVAL="500",
        )
        assert done.code == 0, done.stderr
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= SPANS)
        assert wait_for(lambda: len(mlflow.spans("/v1/traces")) >= SPANS)
        assert wait_for(lambda: "gen_ai_client_token_usage" in otelcol.scrape())
    finally:
        langfuse.stop()
        mlflow.stop()
    at_langfuse = {s.span_id: s for s in langfuse.spans(LANGFUSE_PATH)}
    at_mlflow = {s.span_id: s for s in mlflow.spans("/v1/traces")}
    assert len(at_langfuse) == len(at_mlflow) == SPANS
    for span_id, span in at_mlflow.items():
        assert attributes(span) == attributes(at_langfuse[span_id])
    assert {r.path for r in mlflow.requests} == {"/v1/traces"}  # traces only
    assert {r.status for r in mlflow.requests} == {200}
    assert {r.headers.get("content-encoding") for r in mlflow.requests} == {"gzip"}
    assert all("authorization" not in r.headers for r in mlflow.requests)  # Langfuse's stays
    posts = [r for r in langfuse.requests if r.path == LANGFUSE_PATH]
    assert {r.headers.get("x-langfuse-ingestion-version") for r in posts} == {"4"}
    assert all("x-mlflow-experiment-id" not in r.headers for r in posts)
