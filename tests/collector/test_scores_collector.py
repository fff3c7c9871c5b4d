"""Scores through our collector (deploy/otel-collector/config.yaml in our build), with the choice
deploy/README.md documents: the runner holds the Langfuse keys for scores only. The spans go
runner → collector → Langfuse's OTel route, carrying each score as a gen_ai.evaluation.result
event; the scores go runner → Langfuse's ingestion API, straight; both land on the same trace."""

from __future__ import annotations

import base64

from runner.offline import Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector_process import wait_for
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPGrpcReceiver
from tests.support.langfuse_server import PUBLIC_KEY, SECRET_KEY, LangfuseServer

SCRIPT = [bash("false", Usage(120, 30, 0, 900)), text("Done.", Usage(55, 21, 900))]
SPANS = 1 + 1 + 2 + 1  # session, query, calls, tool
SCORES = 6 + 3  # the session's, the query's


def test_scores_reach_langfuse_beside_the_trace_the_collector_forwards(
    collector: StartCollector, runner: Runner
) -> None:
    langfuse, backend = LangfuseServer(), OTLPGrpcReceiver()
    try:
        otelcol = collector(
            LANGFUSE_BASE_URL=langfuse.url,
            LANGFUSE_AUTH=base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode(),
            TRACES_BACKEND_ENDPOINT=f"127.0.0.1:{backend.port}",
        )
        done = runner.run(
            SCRIPT,
            OTEL_SDK_DISABLED=None,
            OTEL_METRICS_EXPORTER="none",
            OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
            **langfuse.env(),
        )
        assert done.code == 0, done.stderr
        trace_id = done.end["trace_id"]
        assert wait_for(lambda: len(langfuse.spans) >= SPANS)
        scores = langfuse.read_scores(trace_id, fields="core,subject")
    finally:
        langfuse.stop()
        backend.stop()
    # The spans came through the collector only (the runner sent none to Langfuse's OTel route).
    assert {path for method, path, _ in langfuse.requests if method == "POST"} == {
        "/api/public/otel/v1/traces",
        "/api/public/ingestion",
    }
    assert {span.trace_id.hex() for span in langfuse.spans} == {trace_id}
    root = next(span for span in langfuse.spans if span.name == "agentic-session")
    assert [e.name for e in root.events].count("gen_ai.evaluation.result") == 6
    assert len(scores) == SCORES
    assert {
        row["subject"]["traceId" if "traceId" in row["subject"] else "id"] for row in scores
    } == {trace_id}
    failures = next(row for row in scores if row["name"] == "session.tool_failures")
    assert failures["value"] == 1
