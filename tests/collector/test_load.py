"""Many sessions through one collector while Langfuse is slow and then down: nothing is lost,
the collector's memory stays under its limit, and the sessions' exits stay within their budget.
Past the limit, what is refused is counted at both ends. The figures (throughput per core,
latency, memory per session count) are in benchmarks/RESULTS.md (`benchmarks/run.py fleet`)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from runner.offline import Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector_process import free_port, wait_for
from tests.e2e.harness import Runner, Running
from tests.otlp_receiver import OTLPGrpcReceiver, OTLPHttpReceiver
from tests.support.backends import BASIC, LANGFUSE_AUTH, LANGFUSE_PATH, TELEMETRY_ON

SESSIONS = 20
STEPS = 4
SPANS = 1 + 1 + (STEPS + 1) + STEPS  # session, query, chats, tools
BUDGET = 2
TELEMETRY = {**TELEMETRY_ON, "RUNNER_EXIT_BUDGET": str(BUDGET)}
LIMIT_MIB = 256
DOWN_S = 10


def _script() -> list[object]:
    steps: list[object] = [bash(f"echo {i}", Usage(40, 8), delay_s=0.3) for i in range(STEPS)]
    return [*steps, text("Done.", Usage(40, 8), delay_s=0.3)]


def _start(root: object, n: int, endpoint: str) -> Running:
    return Runner(root).start(  # type: ignore[arg-type]
        _script(),  # type: ignore[arg-type]
        **TELEMETRY,
        SESSION_ID=f"load-{n}",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )


@pytest.mark.timeout(400)
def test_twenty_sessions_lose_nothing_while_langfuse_is_slow_then_down(
    collector: StartCollector, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    langfuse = OTLPHttpReceiver(auth=BASIC, port=port, delay_s=0.2)  # 200 ms a request
    backend = OTLPGrpcReceiver()
    otelcol = collector(
        LANGFUSE_BASE_URL=langfuse.url,
        LANGFUSE_AUTH=LANGFUSE_AUTH,
        TRACES_BACKEND_ENDPOINT=f"127.0.0.1:{backend.port}",
        OTELCOL_MEMORY_LIMIT_MIB=str(LIMIT_MIB),
    )
    peak = [0.0, 0.0]  # RSS MiB, Langfuse queue (batches)
    sampling = threading.Event()

    def sample() -> None:  # RSS through the run (beside the kernel's VmHWM), and the queue
        while not sampling.is_set():
            peak[0] = max(peak[0], otelcol.usage()[0])
            queue = otelcol.counter("otelcol_exporter_queue_size", "langfuse")
            peak[1] = max(peak[1], queue)
            sampling.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    received: list[OTLPHttpReceiver] = [langfuse]
    total = SESSIONS * SPANS

    def arrived() -> int:
        return len({s.span_id for r in received for s in r.spans(LANGFUSE_PATH)})

    try:
        sessions = [
            _start(tmp_path_factory.mktemp(f"s{n}"), n, otelcol.http_url) for n in range(SESSIONS)
        ]
        # Langfuse slow while the sessions run, then down for DOWN_S, then back (still slow).
        assert wait_for(lambda: arrived() >= total // 5, timeout_s=240), arrived()
        langfuse.stop()
        arrived_before = arrived()
        time.sleep(DOWN_S)
        received.append(OTLPHttpReceiver(auth=BASIC, port=port, delay_s=0.2))
        done = [s.finish(timeout=240) for s in sessions]
        assert wait_for(lambda: arrived() >= total, timeout_s=120), f"{arrived()} of {total}"
        time.sleep(0.5)  # a duplicate, if any, would arrive now
        accepted = otelcol.counter("otelcol_receiver_accepted_spans")
        refused = otelcol.counter("otelcol_receiver_refused_spans")
        dropped = otelcol.counter("otelcol_exporter_enqueue_failed_spans")
        sent = otelcol.counter("otelcol_exporter_sent_spans", "langfuse")
        _, hwm, cpu = otelcol.usage()
    finally:
        sampling.set()
        sampler.join(timeout=5)
        for r in received:
            r.stop()
        backend.stop()
    assert all(d.code == 0 for d in done), [d.stderr[-500:] for d in done if d.code]
    # Nothing lost: every span of every session, once (a retry after a lost answer would show
    # as a duplicate: the receiver answers every request it reads).
    spans = [s for r in received for s in r.spans(LANGFUSE_PATH)]
    assert len({s.span_id for s in spans}) == total == len(spans)
    assert sum(1 for s in spans if s.name == "agentic-session") == SESSIONS
    # The outage really held spans back: the collector queued them (on disk) and retried.
    assert arrived_before < total and peak[1] > 0, (arrived_before, peak[1])
    # The exits did not wait for Langfuse: the collector took every span at once, so no
    # runner spent its exit budget or lost a span (each says so on stderr when it does).
    assert not [
        d.stderr for d in done if "not delivered" in d.stderr or "budget" in d.stderr.lower()
    ]
    exits = [d.exit_after_end_s or 0.0 for d in done]
    assert max(exits) < 30, exits  # not stuck (the wall figure measures the machine's load)
    # The collector's own counters agree: all accepted and sent, none refused or dropped.
    assert (accepted, refused, dropped, sent) == (total, 0, 0, total)
    # Memory stayed under the limit the memory_limiter holds it to (the queue is on disk).
    log = otelcol.log.read_text()
    assert re.search(rf'"limit_mib": {LIMIT_MIB}\b', log), log[-2000:]
    assert hwm < LIMIT_MIB and peak[0] < LIMIT_MIB, (hwm, peak[0])
    print(
        f"\n{SESSIONS} sessions, {total} spans, Langfuse 200 ms a request then down {DOWN_S}s "
        f"({arrived_before} had arrived; up to {peak[1]:.0f} batches queued): {len(spans)} "
        f"received, once each; collector peak RSS "
        f"{hwm:.0f} MiB (limit {LIMIT_MIB}), {cpu:.1f} s CPU; exits after the session end "
        f"{min(exits):.2f}-{max(exits):.2f}s (budget {BUDGET})"
    )


def test_past_its_memory_limit_the_collector_refuses_and_both_ends_count_it(
    collector: StartCollector, runner: Runner
) -> None:
    """A limit below what the collector itself needs: every request is refused (HTTP 503),
    counted in otelcol_receiver_refused_spans; the runner retries within its exit budget,
    then reports what it could not deliver; the session itself succeeds."""
    langfuse, backend = OTLPHttpReceiver(auth=BASIC), OTLPGrpcReceiver()
    try:
        otelcol = collector(
            LANGFUSE_BASE_URL=langfuse.url,
            LANGFUSE_AUTH=LANGFUSE_AUTH,
            TRACES_BACKEND_ENDPOINT=f"127.0.0.1:{backend.port}",
            OTELCOL_MEMORY_LIMIT_MIB="2",
        )
        assert wait_for(lambda: "Refusing data" in otelcol.log.read_text(), timeout_s=30)
        done = runner.run(
            _script(),
            **TELEMETRY,
            OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
        )
        refused = otelcol.counter("otelcol_receiver_refused_spans")
        accepted = otelcol.counter("otelcol_receiver_accepted_spans")
    finally:
        langfuse.stop()
        backend.stop()
    assert done.code == 0, done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s <= BUDGET + 4
    (report,) = [line for line in done.stderr.splitlines() if "not delivered" in line]
    lost = int(re.search(r"(\d+) of (\d+) spans", report).group(1))  # type: ignore[union-attr]
    assert lost == SPANS, report
    # Refused at the collector's door (HTTP 503), counted there; nothing got in.
    assert refused >= 1 and accepted == 0, (refused, accepted)
    assert not langfuse.spans(LANGFUSE_PATH)
    print(f"\npast the limit: {report.strip()}; the collector refused {refused:.0f} spans")
