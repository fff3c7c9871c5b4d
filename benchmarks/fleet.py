"""Capacity at fleet scale: N concurrent sessions → one collector of our build → a Langfuse-like
receiver, for N side by side in one run (`benchmarks/run.py fleet --sessions 1,5,20`).

Per N and per batch timeout (the shipped 200 ms beside the earlier 5 s, in the same run), with
a fresh collector (config.yaml: memory_limiter, batch 512 spans, file-backed queue): the
collector's CPU seconds and peak RSS, spans per collector CPU-second
(what one core carries), and the end-to-end export latency of every span (its end time in the
span → the receiver's answer). Per session, from the runner process itself (its own CPU, all
threads, without the Claude Code CLI child): CPU with telemetry on (to the collector) and off,
run as two batches of N side by side, so the difference is what telemetry costs a node.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.collector_process import Collector, build_collector
from tests.otlp_receiver import OTLPGrpcReceiver, OTLPHttpReceiver

from benchmarks.common import PY, ROOT, bench_script, session_env, span_count
from runner.offline import OfflineMessagesServer

LANGFUSE_PATH = "/api/public/otel/v1/traces"


@dataclass
class SessionCost:
    runner_cpu_s: float
    """The runner process's own CPU (user + system, every thread)."""
    total_cpu_s: float
    """Runner and its Claude Code CLI child (wait4)."""
    events: int
    wall_s: float


def _run_batch(n: int, variant: str, delay: float, endpoint: str) -> list[SessionCost]:
    """N sessions at once; each its own scripted model server, HOME and workspace."""
    with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
        servers = [OfflineMessagesServer(bench_script(delay)).start() for _ in range(n)]
        procs = []
        try:
            for i, server in enumerate(servers):
                root = Path(tmp) / f"s{i}"
                env = session_env(root, server.url, "off", "")
                env["SESSION_ID"] = f"fleet-{i}"
                env["BENCH_RUSAGE_FILE"] = str(root / "rusage.json")
                if variant == "on":
                    del env["OTEL_SDK_DISABLED"]
                    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
                proc = subprocess.Popen(
                    [PY, str(ROOT / "benchmarks" / "variant_session.py"), "off"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                procs.append((proc, root, time.monotonic()))
            costs = []
            for proc, root, started in procs:
                assert proc.stdout is not None
                events = sum(1 for _ in proc.stdout)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode != 0:
                    raise RuntimeError(f"a {variant} session failed ({proc.returncode})")
                own = json.loads((root / "rusage.json").read_text())
                costs.append(
                    SessionCost(
                        runner_cpu_s=own["user"] + own["system"],
                        total_cpu_s=usage.ru_utime + usage.ru_stime,
                        events=events,
                        wall_s=time.monotonic() - started,
                    )
                )
            return costs
        finally:
            for server in servers:
                server.stop()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latencies(receiver: OTLPHttpReceiver, path: str = LANGFUSE_PATH) -> list[float]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    out = []
    for request in receiver.requests:
        if request.path.endswith(path) and request.status == 200:
            message = ExportTraceServiceRequest()
            message.ParseFromString(request.body)
            for rs in message.resource_spans:
                for ss in rs.scope_spans:
                    out.extend(request.at - s.end_time_unix_nano / 1e9 for s in ss.spans)
    return out


def _direct(n: int, delay: float) -> dict[str, Any]:
    """The same N sessions exporting straight to the receiver, no collector: the share of the
    latency that is the runner's own (its 1 s export interval, and the machine's load)."""
    receiver = OTLPHttpReceiver()
    try:
        _run_batch(n, "on", delay, receiver.url)
        deadline = time.monotonic() + 60
        while len(_latencies(receiver, "/v1/traces")) < n * 22 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        receiver.stop()
    latencies = _latencies(receiver, "/v1/traces")
    return {
        "n": n,
        "spans": len(latencies),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": _percentile(latencies, 0.99) if latencies else float("nan"),
    }


BATCH_TIMEOUTS = ("5s", "200ms")
"""The collector's batch timeout before (5 s) and as shipped now (200 ms), side by side."""


def _one_size(binary: Path, n: int, delay: float, runs: int, batch_timeout: str) -> dict[str, Any]:
    from tests.support.backends import BASIC, LANGFUSE_AUTH

    receiver, backend = OTLPHttpReceiver(auth=BASIC), OTLPGrpcReceiver()
    workdir = Path(tempfile.mkdtemp(prefix="fleet-otelcol-"))
    collector = Collector(
        binary,
        "config.yaml",
        workdir,
        {
            "LANGFUSE_BASE_URL": receiver.url,
            "LANGFUSE_AUTH": LANGFUSE_AUTH,
            "TRACES_BACKEND_ENDPOINT": f"127.0.0.1:{backend.port}",
            "OTELCOL_BATCH_TIMEOUT": batch_timeout,
        },
    ).start()
    on: list[SessionCost] = []
    off: list[SessionCost] = []
    try:
        idle_rss, _, cpu_before = collector.usage()
        started = time.monotonic()
        for _ in range(runs):  # interleaved, so drift hits both alike
            off += _run_batch(n, "off", delay, "")
            on += _run_batch(n, "on", delay, collector.http_url)
        sessions_s = time.monotonic() - started
        spans_sent = runs * n * 22  # 1 session + 1 query + 10 chats + 10 tools

        def received() -> int:
            return sum(span_count(r.body) for r in receiver.requests if r.status == 200)

        deadline = time.monotonic() + 60
        while received() < spans_sent and time.monotonic() < deadline:
            time.sleep(0.2)
        _, peak_rss, cpu_after = collector.usage()
        refused = collector.counter("otelcol_receiver_refused_spans")
    finally:
        collector.kill()
        receiver.stop()
        backend.stop()
    latencies = _latencies(receiver)
    collector_cpu = cpu_after - cpu_before
    spans = received()
    return {
        "n": n,
        "batch_timeout": batch_timeout,
        "runs": runs,
        "spans": spans,
        "spans_sent": spans_sent,
        "refused": refused,
        "collector_cpu_s": collector_cpu,
        "spans_per_core_s": spans / collector_cpu if collector_cpu else float("nan"),
        "session_spans_per_s": spans / sessions_s,
        "idle_rss": idle_rss,
        "peak_rss": peak_rss,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": _percentile(latencies, 0.99) if latencies else float("nan"),
        "on": on,
        "off": off,
    }


def _session_request(spans_per_request: int) -> Any:
    """An OTLP request of real session spans (a recorded session's, repeated with fresh trace
    ids) as the runner sends them."""
    import random

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from benchmarks.common import record_stream
    from runner.otel import session_observer
    from runner.otel.attributes.content import ContentPolicy
    from runner.redaction import Redactor

    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    model = session_observer(
        provider.get_tracer("bench"), ContentPolicy(False, Redactor()), attach=False
    )
    for name, args in record_stream():
        getattr(model, name)(*args)
    spans = list(memory.get_finished_spans())
    request = encode_spans((spans * (spans_per_request // len(spans) + 1))[:spans_per_request])
    rng = random.Random(7)
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for i, span in enumerate(ss.spans):
                if i % len(spans) == 0:
                    trace_id = rng.randbytes(16)
                span.trace_id = trace_id
    return request


def flood(
    binary: Path, seconds: float, senders: int, batch_timeout: str = "200ms"
) -> dict[str, Any]:
    """Real session spans sent as fast as `senders` threads can (512 a request, gzip, as the
    runner's exporter sends) for `seconds`: what one collector carries, and what it does
    past that."""
    import gzip
    import http.client
    import threading

    from tests.support.backends import BASIC, LANGFUSE_AUTH

    body = gzip.compress(_session_request(512).SerializeToString())
    receiver = OTLPHttpReceiver(auth=BASIC, keep_bodies=False)
    backend = OTLPGrpcReceiver()
    workdir = Path(tempfile.mkdtemp(prefix="fleet-flood-"))
    collector = Collector(
        binary,
        "config.yaml",
        workdir,
        {
            "LANGFUSE_BASE_URL": receiver.url,
            "LANGFUSE_AUTH": LANGFUSE_AUTH,
            "TRACES_BACKEND_ENDPOINT": f"127.0.0.1:{backend.port}",
            "OTELCOL_BATCH_TIMEOUT": batch_timeout,
            "OTELCOL_MEMORY_LIMIT_MIB": "400",  # 80% of the Deployment's 512Mi limit
        },
    ).start()
    answers: dict[int, int] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=30)
        headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
        while not stop.is_set():
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                answers[response.status] = answers.get(response.status, 0) + 1

    peak_queue = 0.0
    try:
        _, _, cpu_before = collector.usage()
        threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() - started < seconds:
            time.sleep(0.5)
            peak_queue = max(
                peak_queue, collector.counter("otelcol_exporter_queue_size", "langfuse")
            )
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
        _, peak_rss, cpu_after = collector.usage()
        accepted = collector.counter("otelcol_receiver_accepted_spans")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = collector.counter("otelcol_exporter_sent_spans", "langfuse")
            if sent >= accepted:
                break
            time.sleep(0.5)
        counts = {
            name: collector.counter(f"otelcol_{name}")
            for name in (
                "receiver_refused_spans",
                "exporter_enqueue_failed_spans",
                "exporter_send_failed_spans",
            )
        }
        counts["exporter_sent_spans"] = collector.counter("otelcol_exporter_sent_spans", "langfuse")
    finally:
        stop.set()
        collector.kill()
        receiver.stop()
        backend.stop()
    cpu = cpu_after - cpu_before
    return {
        "batch_timeout": batch_timeout,
        "seconds": elapsed,
        "offered": sum(answers.values()) * 512 / elapsed,
        "answers": answers,
        "accepted": accepted,
        "accepted_per_s": accepted / elapsed,
        "cores": cpu / elapsed,
        "per_cpu_s": accepted / cpu if cpu else float("nan"),
        "peak_rss": peak_rss,
        "peak_queue": peak_queue,
        **counts,
    }


def fleet(
    sizes: list[int], delay: float, runs: int, flood_s: float = 10.0, side_by_side: bool = True
) -> str:
    """`side_by_side`: also the former 5 s batch timeout and the no-collector baseline (the
    smoke run measures the shipped configuration only)."""
    binary = build_collector()
    load_before = os.getloadavg()[0]
    timeouts = BATCH_TIMEOUTS if side_by_side else BATCH_TIMEOUTS[-1:]
    results = [_one_size(binary, n, delay, runs, t) for n in sizes for t in timeouts]
    direct = [_direct(n, delay) for n in sizes] if side_by_side else []
    floods = [flood(binary, flood_s, senders=4, batch_timeout=t) for t in timeouts]
    load_after = os.getloadavg()[0]
    lines = [
        f"Machine load average (1 min) {load_before:.1f} at the start, {load_after:.1f} at the "
        f"end, on {os.cpu_count()} cores: wall-clock figures (latency) grow with it, "
        "CPU-second figures much less.",
        "",
        f"Each session: 10 LLM calls ({delay} s each before the first byte), 10 Bash calls, "
        f"22 spans; N sessions at once, {runs} round(s) of an N-batch with telemetry off and "
        "an N-batch with telemetry on (OTLP/HTTP to the collector), interleaved. A fresh "
        "collector per N and batch timeout (config.yaml; 200 ms as shipped, 5 s before) → a "
        "Langfuse-like receiver on 127.0.0.1. Latency: a span's end → the receiver's answer.",
        "",
        "| N | spans received / sent | batch timeout | refused | collector CPU | spans per "
        "collector CPU-second | collector RSS idle → peak | export latency p50 / p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['n']} | {r['spans']} / {r['spans_sent']} | {r['batch_timeout']} | "
            f"{r['refused']:.0f} | "
            f"{r['collector_cpu_s']:.2f} s | {r['spans_per_core_s']:,.0f} | "
            f"{r['idle_rss']:.0f} → {r['peak_rss']:.0f} MiB | "
            f"{r['p50']:.2f} s / {r['p99']:.2f} s |"
        )
    for d in direct:
        lines.append(
            f"| {d['n']} | {d['spans']} / {d['n'] * 22} | no collector (runner → receiver) | – "
            f"| – | – | – | {d['p50']:.2f} s / {d['p99']:.2f} s |"
        )
    lines += [
        "",
        "Per session (medians over the N × runs sessions): the runner process's own CPU "
        "(every thread, without the CLI child), the same with its CLI child, and the "
        "telemetry difference per session and divided by the session's stdout events (mostly "
        "a fixed set-up cost, so not a per-event price).",
        "",
        "| N | runner CPU off | runner CPU on | telemetry costs | difference ÷ stdout events | "
        "runner + CLI CPU off / on | session wall off / on |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["batch_timeout"] != BATCH_TIMEOUTS[-1]:
            continue  # the runner's side does not depend on the collector's batch timeout
        on, off = r["on"], r["off"]
        cpu_on = statistics.median(c.runner_cpu_s for c in on)
        cpu_off = statistics.median(c.runner_cpu_s for c in off)
        events = statistics.median(c.events for c in on)
        lines.append(
            f"| {r['n']} | {cpu_off * 1000:.0f} ms | {cpu_on * 1000:.0f} ms | "
            f"{(cpu_on - cpu_off) * 1000:+.0f} ms | "
            f"{(cpu_on - cpu_off) / events * 1e6:+.0f} µs ({events:.0f} events) | "
            f"{statistics.median(c.total_cpu_s for c in off):.2f} / "
            f"{statistics.median(c.total_cpu_s for c in on):.2f} s | "
            f"{statistics.median(c.wall_s for c in off):.1f} / "
            f"{statistics.median(c.wall_s for c in on):.1f} s |"
        )
    lines += [
        "",
        f"Flood: real session spans (512 a request, gzip) from 4 threads for {flood_s:.0f} s "
        "at one collector per batch timeout (config.yaml, memory limit 400 MiB: 80% of the "
        "Deployment's 512Mi) → the receiver; the senders share the machine with the collector.",
        "",
        "| measure | " + " | ".join(f"batch timeout {f['batch_timeout']}" for f in floods) + " |",
        "|---|" + "---|" * len(floods),
    ]
    rows: list[tuple[str, Any]] = [
        (
            "offered / accepted",
            lambda f: f"{f['offered']:,.0f} / {f['accepted_per_s']:,.0f} spans/s",
        ),
        ("answers", lambda f: ", ".join(f"HTTP {k}: {v}" for k, v in sorted(f["answers"].items()))),
        ("collector CPU", lambda f: f"{f['cores']:.2f} cores"),
        ("**spans per collector CPU-second**", lambda f: f"**{f['per_cpu_s']:,.0f}**"),
        ("collector peak RSS", lambda f: f"{f['peak_rss']:.0f} MiB"),
        ("Langfuse queue, peak", lambda f: f"{f['peak_queue']:.0f} batches"),
        (
            "refused / dropped (queue full) / failed sends",
            lambda f: (
                f"{f['receiver_refused_spans']:.0f} / "
                f"{f['exporter_enqueue_failed_spans']:.0f} / {f['exporter_send_failed_spans']:.0f}"
            ),
        ),
        (
            "delivered to the receiver",
            lambda f: f"{f['exporter_sent_spans']:,.0f} of {f['accepted']:,.0f}",
        ),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(f) for f in floods) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(fleet([int(n) for n in sys.argv[1].split(",")], float(sys.argv[2]), int(sys.argv[3])))
