"""Reproducible benchmarks: medians of repeated runs, alternatives measured side by side.

    .venv/bin/python benchmarks/run.py all            # every scenario, recorded settings
    .venv/bin/python benchmarks/run.py overhead --runs 5
    .venv/bin/python benchmarks/run.py all --quick    # smoke: 1 run, short delays (CI)

Scenarios: overhead, mapper, exit, startup, export, long, fleet (N concurrent sessions through
one collector of our build: benchmarks/fleet.py; `--sessions 1,5,20`). Results print as
Markdown tables; the recorded ones are in benchmarks/RESULTS.md. Everything talks to 127.0.0.1
only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.otlp_receiver import OTLPHttpReceiver  # noqa: E402

from benchmarks.common import (  # noqa: E402
    PY,
    bench_script,
    fmt,
    record_stream,
    session_env,
    span_count,
    stats,
)
from benchmarks.long_session import DiscardExporter, long_session  # noqa: E402
from runner.offline import (  # noqa: E402
    OfflineMessagesServer,
    Usage,
    text,
)


def run_variant(variant: str, script: list[Any], receiver: str) -> dict[str, float]:
    """One session process. Returns wall (process), session (driver), exit (after the end)."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        OfflineMessagesServer(script) as server,
    ):
        env = session_env(Path(tmp), server.url, variant, receiver)
        started = time.monotonic()
        proc = subprocess.Popen(
            [PY, str(ROOT / "benchmarks" / "variant_session.py"), variant],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ended_at = None
        session_ms = None
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event["type"] == "session_end":
                ended_at = time.monotonic()
                session_ms = event["duration_ms"]
        stderr = proc.stderr.read() if proc.stderr else ""
        code = proc.wait()
        exited = time.monotonic()
        if code != 0 or ended_at is None or session_ms is None:
            raise RuntimeError(f"{variant} session failed ({code}): {stderr[-2000:]}")
        first_request = min(c.started for c in server.served) if server.served else None
    return {
        "wall": exited - started,
        "session": session_ms / 1000,
        "exit": exited - ended_at,
        "first_request": first_request or 0.0,
    }


# --- 1. session overhead -----------------------------------------------------------------------


def overhead(runs: int, delay: float) -> str:
    variants = ["off", "otel", "langfuse-sdk", "plain", "peer"]
    receiver = OTLPHttpReceiver()
    results: dict[str, dict[str, list[float]]] = {v: {"wall": [], "session": []} for v in variants}
    spans: dict[str, int] = {}
    try:
        for _ in range(runs):  # interleaved, so drift hits every variant alike
            for variant in variants:
                before = len(receiver.requests)
                r = run_variant(variant, bench_script(delay), receiver.url)
                results[variant]["wall"].append(r["wall"])
                results[variant]["session"].append(r["session"])
                spans[variant] = sum(
                    span_count(req.body) for req in receiver.requests[before:] if req.status == 200
                )
    finally:
        receiver.stop()
    medians = {
        v: {k: stats(results[v][k])["median"] for k in ("wall", "session")} for v in variants
    }
    baseline_of = {
        "off": "off",
        "otel": "off",
        "langfuse-sdk": "off",
        "plain": "plain",
        "peer": "plain",
    }
    lines = [
        f"Session: 10 LLM calls ({delay} s each before the first byte), 10 Bash calls; "
        f"{runs} interleaved runs per variant.",
        "",
        "Ratios compare each variant with its own baseline, measured in the same run: the runner "
        "with telemetry off for the runner's paths; the same plain SDK loop uninstrumented for "
        "the peer (it wraps `receive_response`, which the runner does not use).",
        "",
        "| variant | process wall time | ratio | session time | ratio | spans exported |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "off": "runner, telemetry off (OTEL_SDK_DISABLED)",
        "otel": "runner, OTel path → receiver",
        "langfuse-sdk": "runner, Langfuse SDK path → receiver",
        "plain": "plain SDK loop, no telemetry",
        "peer": "plain SDK loop + openinference 0.1.22 → receiver",
    }
    for variant in variants:
        wall, session = stats(results[variant]["wall"]), stats(results[variant]["session"])
        base = medians[baseline_of[variant]]
        exported = spans.get(variant, 0) if variant not in ("off", "plain") else "—"
        lines.append(
            f"| {names[variant]} | {fmt(wall)} | {wall['median'] / base['wall']:.3f}× | "
            f"{fmt(session)} | {session['median'] / base['session']:.3f}× | {exported} |"
        )
    return "\n".join(lines)


# --- 2. agent-loop time per message -------------------------------------------------------------


def mapper(runs: int) -> str:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from runner.accounting import pricing
    from runner.otel import session_observer
    from runner.otel.attributes.content import ContentPolicy
    from runner.otel.telemetry_worker import TelemetryWorker
    from runner.redaction import Redactor

    stream = record_stream()
    pricing.load()
    messages = sum(1 for name, _ in stream if name == "on_event")
    on_loop: list[float] = []
    on_worker: list[float] = []
    per_message_total: list[float] = []
    for _ in range(max(runs, 5) * 4):
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))  # type: ignore[arg-type]

        def build(provider: TracerProvider = provider) -> Any:
            return session_observer(
                provider.get_tracer("bench"), ContentPolicy(False, Redactor()), attach=False
            )

        # What the agent loop pays in production: the telemetry worker's queue.
        worker = TelemetryWorker(build)
        for name, args in stream:
            t0 = time.perf_counter()
            getattr(worker, name)(*args)
            if name == "on_event":
                on_loop.append(time.perf_counter() - t0)
        worker.wait(30)
        # What the worker thread does per event: the tree builder and span renderer.
        model = build()
        total = 0.0
        for name, args in stream:
            t0 = time.perf_counter()
            getattr(model, name)(*args)
            elapsed = time.perf_counter() - t0
            total += elapsed
            if name == "on_event":
                on_worker.append(elapsed)
        per_message_total.append(total / messages)
        provider.shutdown()
    baseline = span_baseline()

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95)] * 1e6

    return "\n".join(
        [
            f"A recorded real session: {messages} runner events (SDK messages and hooks, "
            f"interpreted once), replayed {len(per_message_total)} times: through the "
            "telemetry worker as production runs it (the agent loop only queues), and "
            "through the session observer itself (tree builder + span renderer, what the "
            "worker thread does), both with a BatchSpanProcessor (discarding exporter).",
            "",
            "| measure | µs |",
            "|---|---|",
            f"| agent-loop time per event (queue put), median | "
            f"{statistics.median(on_loop) * 1e6:.2f} |",
            f"| agent-loop time per event, p95 | {p95(on_loop):.2f} |",
            f"| worker time per event, median | {statistics.median(on_worker) * 1e6:.1f} |",
            f"| worker time per event, p95 | {p95(on_worker):.1f} |",
            "| all telemetry work of a session ÷ events (every span included), median "
            f"| {statistics.median(per_message_total) * 1e6:.1f} |",
            f"| OTel SDK alone: start+end one span with 8 attributes, batch processor, median "
            f"| {baseline:.1f} |",
        ]
    )


def span_baseline() -> float:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))  # type: ignore[arg-type]
    tracer = provider.get_tracer("bench")
    attributes = {f"a{i}": i for i in range(8)}
    samples = []
    for _ in range(20):
        t0 = time.perf_counter()
        for _ in range(500):
            tracer.start_span("x", attributes=attributes).end()
        samples.append((time.perf_counter() - t0) / 500)
    provider.shutdown()
    return statistics.median(samples) * 1e6


# --- 3. exit time --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _backend(kind: str) -> tuple[OTLPHttpReceiver | None, str]:
    if kind == "refusing":
        return None, f"http://127.0.0.1:{_free_port()}"
    receiver = OTLPHttpReceiver(mode="hang" if kind == "hanging" else "ok")
    return receiver, receiver.url


def _baseline_exit(sdk: str, url: str) -> float:
    proc = subprocess.Popen(
        [PY, str(ROOT / "benchmarks" / "exit_baseline.py"), sdk, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    marked = time.monotonic()
    assert line.strip() == "END", line
    proc.wait(timeout=120)
    return time.monotonic() - marked


def exit_times(runs: int) -> str:
    script = [text("Done.", Usage(10, 5))]
    rows = [
        "| backend | runner (budget 3 s) | OTel SDK defaults | Langfuse SDK defaults |",
        "|---|---|---|---|",
    ]
    for kind in ("healthy", "refusing", "hanging"):
        receiver, url = _backend(kind)
        try:
            ours = [run_variant("otel", script, url)["exit"] for _ in range(runs)]
            baselines = {}
            for sdk in ("otel-sdk", "langfuse-sdk"):
                # Independent processes that mostly wait: run them side by side.
                values: list[float] = []

                def measure(sdk: str = sdk, url: str = url, values: list[float] = values) -> None:
                    values.append(_baseline_exit(sdk, url))

                threads = [threading.Thread(target=measure) for _ in range(runs)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                baselines[sdk] = stats(values)
        finally:
            if receiver:
                receiver.stop()
        rows.append(
            f"| {kind} | {fmt(stats(ours))} | {fmt(baselines['otel-sdk'])} | "
            f"{fmt(baselines['langfuse-sdk'])} |"
        )
    return "Time from the session's last stdout event (or END) to the process's exit.\n\n" + (
        "\n".join(rows)
    )


# --- 4. startup -----------------------------------------------------------------------------------


def startup(runs: int) -> str:
    version = []
    for _ in range(max(runs, 5) * 2):
        t0 = time.monotonic()
        subprocess.run(
            [str(Path(PY).parent / "claude-runner"), "--version"], check=True, capture_output=True
        )
        version.append(time.monotonic() - t0)
    receiver = OTLPHttpReceiver()
    variants = ("off", "otel", "langfuse-sdk")
    to_request: dict[str, list[float]] = {v: [] for v in variants}
    try:
        for _ in range(max(runs, 5) * 2):  # interleaved: each round runs every variant once
            for variant in variants:
                wall_start = time.time()
                r = run_variant(variant, [text("ok", Usage(1, 1))], receiver.url)
                to_request[variant].append(r["first_request"] - wall_start)
    finally:
        receiver.stop()
    rows = [
        f"| process start → first model request, {v} | {fmt(stats(to_request[v]))} |"
        for v in variants
    ]
    off = statistics.median(to_request["off"])
    for variant in variants[1:]:
        paired = [t - o for t, o in zip(to_request[variant], to_request["off"], strict=True)]
        rows.append(
            f"| {variant} − off, median of paired differences | "
            f"{statistics.median(paired) * 1000:+.0f} ms "
            f"(medians: {(statistics.median(to_request[variant]) - off) * 1000:+.0f} ms) |"
        )
    return "\n".join(
        [
            "| measure | time |",
            "|---|---|",
            f"| `claude-runner --version` | {fmt(stats(version))} |",
            *rows,
        ]
    )


# --- 5. export cost -------------------------------------------------------------------------------


def export_cost(runs: int) -> str:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from runner.otel import session_observer
    from runner.otel.attributes.content import ContentPolicy
    from runner.redaction import Redactor

    stream = record_stream()
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    model = session_observer(
        provider.get_tracer("bench"), ContentPolicy(False, Redactor()), attach=False
    )
    for name, args in stream:
        getattr(model, name)(*args)
    spans = list(memory.get_finished_spans())
    raw = encode_spans(spans).SerializeToString()
    packed = gzip.compress(raw)
    batch = (spans * (512 // len(spans) + 1))[:512]
    receiver = OTLPHttpReceiver()
    cpu: list[float] = []
    try:
        for compression in ("none", "gzip"):
            from opentelemetry.exporter.otlp.proto.http import Compression

            exporter = OTLPSpanExporter(
                endpoint=f"{receiver.url}/v1/traces",
                compression=Compression.Gzip
                if compression == "gzip"
                else Compression.NoCompression,
            )
            samples = []
            for _ in range(max(runs, 5) * 2):
                t0 = time.thread_time()
                exporter.export(batch)
                samples.append((time.thread_time() - t0) / len(batch) * 1e6)
            cpu.append(statistics.median(samples))
    finally:
        receiver.stop()
    return "\n".join(
        [
            f"Spans of one recorded session ({len(spans)} spans, content capture off).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| bytes per span on the wire, protobuf | {len(raw) / len(spans):.0f} B |",
            f"| bytes per span on the wire, protobuf + gzip | {len(packed) / len(spans):.0f} B |",
            "| exporter thread CPU per span (512-span batches, encode + POST), no gzip "
            f"| {cpu[0]:.1f} µs |",
            f"| exporter thread CPU per span, gzip | {cpu[1]:.1f} µs |",
        ]
    )


# --- main ---------------------------------------------------------------------------------------


def fleet_scenario(sessions: str, delay: float, runs: int, quick: bool) -> str:
    from benchmarks.fleet import fleet

    return fleet(
        [int(n) for n in sessions.split(",")],
        delay,
        runs,
        2.0 if quick else 10.0,
        side_by_side=not quick,
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = cpu
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenario",
        choices=["overhead", "mapper", "exit", "startup", "export", "long", "fleet", "all"],
    )
    parser.add_argument("--sessions", default="1,5,20", help="fleet: concurrent sessions, N,N,…")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.5, help="s before each LLM answer")
    parser.add_argument("--quick", action="store_true", help="1 run, no delay (CI smoke)")
    parser.add_argument("--calls", type=int, default=1000, help="LLM calls of the long session")
    args = parser.parse_args()
    runs, delay = (1, 0.0) if args.quick else (args.runs, args.delay)
    scenarios: dict[str, Callable[[], str]] = {
        "overhead": lambda: overhead(runs, delay),
        "mapper": lambda: mapper(runs),
        "exit": lambda: exit_times(runs),
        "startup": lambda: startup(runs),
        "export": lambda: export_cost(runs),
        "long": lambda: long_session(20 if args.quick else args.calls),
        "fleet": lambda: fleet_scenario(
            "1,2" if args.quick else args.sessions, delay, runs, args.quick
        ),
    }
    chosen = list(scenarios) if args.scenario == "all" else [args.scenario]
    print(f"# {time.strftime('%Y-%m-%d')} — {machine()}\n")
    for name in chosen:
        t0 = time.monotonic()
        body = scenarios[name]()
        print(f"## {name} ({time.monotonic() - t0:.0f} s)\n\n{body}\n", flush=True)


if __name__ == "__main__":
    main()
