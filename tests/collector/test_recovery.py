"""Nothing is lost when a backend or the collector fails: the collector's retries, and its
sending queue on file storage, which outlives a SIGKILL of the collector itself."""

from __future__ import annotations

import time

from runner.offline import Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector_process import free_port, wait_for
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPGrpcReceiver, OTLPHttpReceiver
from tests.support.backends import BASIC, LANGFUSE_AUTH, LANGFUSE_PATH, TELEMETRY_ON
from tests.support.scripts import COLLECTOR_SCRIPT as SCRIPT
from tests.support.scripts import COLLECTOR_SPANS as SPANS

DOWN_S = 20


def test_langfuse_down_for_20_s_then_up_receives_every_span(
    collector: StartCollector, runner: Runner
) -> None:
    port = free_port()
    backend = OTLPGrpcReceiver()
    otelcol = collector(
        LANGFUSE_BASE_URL=f"http://127.0.0.1:{port}",  # nothing listens there yet
        LANGFUSE_AUTH=LANGFUSE_AUTH,
        TRACES_BACKEND_ENDPOINT=f"127.0.0.1:{backend.port}",
    )
    went_down = time.monotonic()
    done = runner.run(SCRIPT, **TELEMETRY_ON, OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url)
    assert done.code == 0, done.stderr
    time.sleep(max(0.0, DOWN_S - (time.monotonic() - went_down)))
    langfuse = OTLPHttpReceiver(auth=BASIC, port=port)  # back up, where it was
    came_back = time.monotonic()
    try:
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= SPANS, timeout_s=60)
        recovered_s = time.monotonic() - came_back
    finally:
        langfuse.stop()
        backend.stop()
    spans = langfuse.spans(LANGFUSE_PATH)
    assert len({s.span_id for s in spans}) == SPANS
    print(
        f"\nlangfuse down {DOWN_S}s: {SPANS} spans sent, {len(spans)} received, "
        f"{recovered_s:.1f}s after it came back"
    )


def test_a_sigkilled_collector_delivers_its_queue_after_a_restart(
    collector: StartCollector, runner: Runner
) -> None:
    """Spans accepted and queued (Langfuse refusing with 503), the collector SIGKILLed, then
    restarted on the same file_storage directory with Langfuse healthy: the queue drains."""
    port = free_port()
    backend = OTLPGrpcReceiver()
    down = OTLPHttpReceiver(mode=503, port=port)
    env = {
        "LANGFUSE_BASE_URL": f"http://127.0.0.1:{port}",
        "LANGFUSE_AUTH": LANGFUSE_AUTH,
        "TRACES_BACKEND_ENDPOINT": f"127.0.0.1:{backend.port}",
    }
    first = collector(**env)
    script = [bash(f"echo {i}", Usage(10 + i, 5)) for i in range(4)] + [text("ok", Usage(9, 3))]
    done = runner.run(script, **TELEMETRY_ON, OTEL_EXPORTER_OTLP_ENDPOINT=first.http_url)
    assert done.code == 0, done.stderr
    sent = 1 + 1 + 5 + 4
    assert wait_for(lambda: len(backend.spans) >= sent)  # all accepted by the collector
    assert wait_for(lambda: any(r.status == 503 for r in down.requests))  # Langfuse retried
    first.kill()
    down.stop()
    langfuse = OTLPHttpReceiver(auth=BASIC, port=port)
    try:
        second = collector(**env, run=False)
        second.workdir = first.workdir
        second.env["OTELCOL_QUEUE_DIR"] = first.env["OTELCOL_QUEUE_DIR"]
        restarted = time.monotonic()
        second.start()
        assert wait_for(lambda: len(langfuse.spans(LANGFUSE_PATH)) >= sent, timeout_s=60)
        drained_s = time.monotonic() - restarted
    finally:
        langfuse.stop()
        backend.stop()
    assert len({s.span_id for s in langfuse.spans(LANGFUSE_PATH)}) == sent
    print(
        f"\ncollector SIGKILLed with {sent} spans queued: {sent} delivered "
        f"{drained_s:.1f}s after the restart"
    )
