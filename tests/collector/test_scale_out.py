"""Scale-out that stays correct: a front collector routes each trace by trace id to one of the
sampling collectors (our traceidrouting exporter), so every trace is decided whole, once. Kept:
every error trace, every expensive session, a fraction of the rest. The front finds the samplers
as it does in a cluster, from DNS (the shipped config.front.yaml): here a local DNS server
(tests/collector/dns.py) answers with 127.0.0.x addresses, one per sampler, all on one port."""

from __future__ import annotations

import random
import time
from collections import defaultdict

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from runner.offline import Failure, Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector.dns import ChangingDNS
from tests.collector_process import Collector, free_port, wait_for
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, LANGFUSE_AUTH, LANGFUSE_PATH, TELEMETRY_ON

TRACES = 60
SPANS_PER_TRACE = 5


def _send_traces(endpoint: str) -> dict[str, str]:
    """TRACES synthetic sessions, their spans sent one request each, interleaved across
    traces (so a trace arrives in many batches). Returns trace id (hex) → kind."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("sessions")
    kinds: dict[str, str] = {}
    roots = []
    for i in range(TRACES):
        kind = ("error", "expensive", "cheap", "cheap", "cheap")[i % 5]
        root = tracer.start_span("agentic-session")
        root.set_attribute("agentic_session.cost_usd", 2.5 if kind == "expensive" else 0.01)
        if kind == "error":
            root.set_status(Status(StatusCode.ERROR, "model_error"))
        kinds[format(root.get_span_context().trace_id, "032x")] = kind
        roots.append(root)
    children = [
        tracer.start_span(f"chat {n}", context=set_span_in_context(root))
        for root in roots
        for n in range(SPANS_PER_TRACE - 1)
    ]
    random.Random(7).shuffle(children)
    for span in children:
        span.end()
    for root in roots:
        root.end()
    provider.shutdown()
    return kinds


def _samplers(
    collector: StartCollector, projects: list[OTLPHttpReceiver], port: int, **env: str
) -> list[Collector]:
    """Sampler n listens for OTLP/gRPC on 127.0.0.{n+2}:port and exports to projects[n]."""
    return [
        collector(
            "config.sampling.yaml",
            LANGFUSE_BASE_URL=project.url,
            LANGFUSE_AUTH=LANGFUSE_AUTH,
            EXPENSIVE_SESSION_USD="1.0",
            OTELCOL_REPLICA=f"sampler-{n}",
            OTELCOL_OTLP_GRPC_ENDPOINT=f"127.0.0.{n + 2}:{port}",
            **env,
        )
        for n, project in enumerate(projects)
    ]


def _front(collector: StartCollector, dns: ChangingDNS, port: int) -> Collector:
    return collector(
        "config.front.yaml",
        SAMPLER_HOSTNAME="otelcol-sampler.test.svc.cluster.local",
        SAMPLER_PORT=str(port),
        SAMPLER_NAMESERVER=dns.nameserver,
        SAMPLER_RESOLVE_INTERVAL="500ms",
    )


def test_every_trace_is_decided_whole_at_exactly_one_sampler(
    collector: StartCollector, runner: Runner
) -> None:
    projects = [OTLPHttpReceiver(auth=BASIC), OTLPHttpReceiver(auth=BASIC)]
    dns = ChangingDNS(["127.0.0.2", "127.0.0.3"])
    try:
        port = free_port()
        _samplers(collector, projects, port, OTELCOL_DECISION_WAIT="3s", SAMPLE_PERCENT="50")
        front = _front(collector, dns, port)
        kinds = _send_traces(f"{front.http_url}/v1/traces")
        # Two real sessions through the front too: one fails (kept), one is cheap.
        failed = runner.run(
            [Failure(529)] * 3, **TELEMETRY_ON, OTEL_EXPORTER_OTLP_ENDPOINT=front.http_url
        )
        assert failed.code == 3, failed.stderr
        cheap = runner.run(
            [bash("echo x", Usage(5, 5)), text("ok", Usage(5, 5))],
            **TELEMETRY_ON,
            OTEL_EXPORTER_OTLP_ENDPOINT=front.http_url,
        )
        assert cheap.code == 0, cheap.stderr
        must_keep = [t for t, k in kinds.items() if k != "cheap"]

        def kept() -> dict[str, set[int]]:
            where: dict[str, set[int]] = defaultdict(set)
            for n, project in enumerate(projects):
                for span in project.spans(LANGFUSE_PATH):
                    where[span.trace_id.hex()].add(n)
            return where

        assert wait_for(lambda: all(t in kept() for t in must_keep), timeout_s=60)
        time.sleep(4)  # the last decisions (decision_wait 3 s)
    finally:
        dns.stop()
        for project in projects:
            project.stop()
    assert dns.queries >= 1
    where = kept()
    spans_per_trace: dict[str, int] = defaultdict(int)
    for project in projects:
        for span in project.spans(LANGFUSE_PATH):
            spans_per_trace[span.trace_id.hex()] += 1
    # Whole traces, each at exactly one sampler.
    assert all(len(at) == 1 for at in where.values()), {t: at for t, at in where.items()}
    for trace_id, kind in kinds.items():
        if trace_id in where:
            assert spans_per_trace[trace_id] == SPANS_PER_TRACE, (trace_id, kind)
    # Errors and expensive sessions always; a fraction of the rest.
    assert all(t in where for t in must_keep)
    cheap_ids = [t for t, k in kinds.items() if k == "cheap"]
    kept_cheap = sum(1 for t in cheap_ids if t in where)
    assert 0 < kept_cheap < len(cheap_ids), kept_cheap
    # The failed real session's whole trace is kept, with its root in ERROR.
    roots = [
        s
        for p in projects
        for s in p.spans(LANGFUSE_PATH)
        if s.name == "agentic-session" and attributes(s).get("session.id") == "e2e-session"
    ]
    assert any(s.status.code == 2 for s in roots)
    # Both samplers took a share of the traces.
    assert {n for at in where.values() for n in at} == {0, 1}
    print(
        f"\n{TRACES + 2} traces through 1 front and 2 samplers: {len(where)} kept "
        f"({len(must_keep)} error/expensive, {kept_cheap} of {len(cheap_ids)} cheap), "
        f"each at one sampler: {sum(1 for at in where.values() if 0 in at)} / "
        f"{sum(1 for at in where.values() if 1 in at)}"
    )


def test_a_sampler_added_mid_run_takes_new_traces_and_splits_none(
    collector: StartCollector,
) -> None:
    """The sampling StatefulSet scales from 1 to 2 replicas while sessions run: the headless
    Service's answer changes and the front follows it, with no config edit or restart. Traces
    under way stay whole at the first sampler; traces begun after the change spread over both;
    every trace arrives whole at exactly one sampler."""
    projects = [OTLPHttpReceiver(auth=BASIC), OTLPHttpReceiver(auth=BASIC)]
    dns = ChangingDNS(["127.0.0.2"])
    try:
        port = free_port()
        _samplers(collector, projects, port, OTELCOL_DECISION_WAIT="5s", SAMPLE_PERCENT="100")
        front = _front(collector, dns, port)
        provider = TracerProvider()
        exporter = OTLPSpanExporter(endpoint=f"{front.http_url}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("sessions")

        def children(root: object, n: int) -> None:
            for i in range(n):
                tracer.start_span(f"chat {i}", context=set_span_in_context(root)).end()  # type: ignore[arg-type]

        early = [tracer.start_span("agentic-session") for _ in range(30)]
        for root in early:
            children(root, 2)
        assert wait_for(lambda: len(projects[0].spans(LANGFUSE_PATH)) >= 60, timeout_s=60)
        dns.answer(["127.0.0.2", "127.0.0.3"])
        assert wait_for(lambda: "127.0.0.3" in front.log.read_text(), timeout_s=30), (
            front.log.read_text()[-2000:]
        )
        for root in early:  # the sessions under way go on, then end
            children(root, 2)
            root.end()
        late = [tracer.start_span("agentic-session") for _ in range(30)]
        for root in late:
            children(root, 3)
            root.end()
        provider.shutdown()
        total = 30 * 5 + 30 * 4
        assert wait_for(
            lambda: sum(len(p.spans(LANGFUSE_PATH)) for p in projects) >= total, timeout_s=60
        )
        time.sleep(1)  # nothing more may arrive: a duplicate would show below
    finally:
        dns.stop()
        for project in projects:
            project.stop()
    at: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for n, project in enumerate(projects):
        for span in project.spans(LANGFUSE_PATH):
            at[span.trace_id.hex()][n] += 1

    def trace_id(root: object) -> str:
        return format(root.get_span_context().trace_id, "032x")  # type: ignore[attr-defined]

    for root in early:
        assert dict(at[trace_id(root)]) == {0: 5}, at[trace_id(root)]
    late_at = [dict(at[trace_id(root)]) for root in late]
    assert all(len(where) == 1 and sum(where.values()) == 4 for where in late_at), late_at
    on_new = sum(1 for where in late_at if 1 in where)
    assert 0 < on_new < 30, on_new  # the new replica took a share of the new traces
    print(
        f"\nscale-up 1→2 samplers mid-run: 30 traces under way stayed whole at sampler 0; "
        f"of 30 new traces {on_new} went to the new sampler; {total} spans, none split"
    )
