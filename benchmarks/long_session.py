"""A long autonomous session: N LLM calls and N tool calls (default 1,000 each).

Two measures, both against what the pipeline holds growing with the session:
- the real `claude-runner` process exporting to a local receiver, its RSS sampled from /proc
  while the session runs (the CLI child is not counted);
- the session's recorded event stream replayed in-process through the session observer (tree
  builder + span renderer + batch processor, discarding exporter): µs per event in the first
  and the last tenth of the session, and the Python heap the observer holds (tracemalloc).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from tests.otlp_receiver import OTLPHttpReceiver  # noqa: E402

from runner.offline import (  # noqa: E402
    OfflineMessagesServer,
    Reply,
    ToolUse,
    Usage,
    offline_environment,
    text,
)


class DiscardExporter:
    """A span exporter that accepts everything and does nothing (the benchmarks' sink)."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


def script(calls: int) -> list[Any]:
    steps: list[Any] = [
        Reply(
            content=(ToolUse("Bash", {"command": f"echo {i}", "description": "step"}),),
            usage=Usage(20, 10, 100 + i, 5),
        )
        for i in range(calls - 1)
    ]
    steps.append(text("Done.", Usage(20, 10, 100 + calls, 0)))
    return steps


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_rss(calls: int) -> list[tuple[int, float]]:
    """(LLM calls served so far, runner RSS MB) samples over one real session."""
    receiver = OTLPHttpReceiver()
    samples: list[tuple[int, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-long-") as tmp,
        OfflineMessagesServer(script(calls)) as server,
    ):
        root = Path(tmp)
        (root / "ws").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
        env.update(offline_environment(server.url, root))
        env.update(
            SESSION_ID="bench-long",
            PROMPT="Run every step.",
            WORKSPACE_PATH=str(root / "ws"),
            ALLOWED_TOOLS="Bash",
            TIMEOUT="3000",
            RUNNER_LOG_LEVEL="WARNING",
            RUNNER_TRACE_VIEW="false",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_METRICS_EXPORTER="none",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            while proc.poll() is None:
                rss = _rss_mb(proc.pid)
                if rss is not None:
                    samples.append((len(server.served), rss))
                time.sleep(0.25)
        finally:
            receiver.stop()
        if proc.returncode != 0:
            raise RuntimeError(f"long session failed: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    return samples


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda value: self.calls.append((name, value))


def record(calls: int) -> list[tuple[str, Any]]:
    from runner.config import RunnerConfig
    from runner.launcher import run_session
    from runner.output.stdout_events import EventWriter

    recorder = _Recorder()
    saved = dict(os.environ)
    with (
        tempfile.TemporaryDirectory(prefix="bench-long-rec-") as tmp,
        OfflineMessagesServer(script(calls)) as server,
    ):
        root = Path(tmp)
        (root / "ws").mkdir()
        os.environ.update(offline_environment(server.url, root))
        try:
            config = RunnerConfig(
                session_id="bench-long",
                prompt="Run every step.",
                workspace=root / "ws",
                allowed_tools=("Bash",),
                timeout_s=3000,
            )
            run_session(config, EventWriter(io.StringIO()), [recorder])  # type: ignore[list-item]
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return recorder.calls


def replay(
    stream: list[tuple[str, Any]], *, trace_heap: bool
) -> tuple[list[float], list[tuple[int, int]]]:
    """µs per on_event call, in order; with `trace_heap`, (events so far, Python heap bytes
    after the export queue is flushed) samples instead of meaningful timings."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from runner.accounting import pricing
    from runner.otel import session_observer
    from runner.otel.attributes.content import ContentPolicy
    from runner.redaction import Redactor

    pricing.load()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))  # type: ignore[arg-type]
    observer = session_observer(
        provider.get_tracer("bench"), ContentPolicy(False, Redactor()), attach=False
    )
    per_event: list[float] = []
    heap: list[tuple[int, int]] = []
    if trace_heap:
        tracemalloc.start()
    step = max(1, len(stream) // 20)
    for index, (name, value) in enumerate(stream):
        t0 = time.perf_counter()
        getattr(observer, name)(value)
        if name == "on_event":
            per_event.append((time.perf_counter() - t0) * 1e6)
        if trace_heap and index % step == 0:
            provider.force_flush()  # what the export queue holds is bounded apart (BSP limits)
            heap.append((len(per_event), tracemalloc.get_traced_memory()[0]))
    if trace_heap:
        tracemalloc.stop()
    provider.shutdown()
    return per_event, heap


def long_session(calls: int) -> str:
    samples = process_rss(calls)
    stream = record(calls)
    timings = [replay(stream, trace_heap=False)[0] for _ in range(5)]
    per_event = [statistics.median(values) for values in zip(*timings, strict=True)]
    _, heap = replay(stream, trace_heap=True)
    tenth = max(1, len(per_event) // 10)
    first, last = per_event[:tenth], per_event[-tenth:]

    def rss_at(fraction: float) -> str:
        target = int(calls * fraction)
        found = [rss for served, rss in samples if served >= target] or [samples[-1][1]]
        return f"{found[0]:.1f}"

    heap_rows = [heap[len(heap) // 10], heap[len(heap) // 2], heap[-1]] if len(heap) > 2 else heap
    return "\n".join(
        [
            f"A session of {calls} LLM calls and {calls - 1} Bash tool calls through the real "
            f"CLI, OTLP/HTTP to a local receiver ({len(samples)} RSS samples, every 0.25 s).",
            "",
            "| runner RSS (MB) after | 10% | 25% | 50% | 75% | 100% of calls (last sample) | "
            "peak |",
            "|---|---|---|---|---|---|---|",
            f"| | {rss_at(0.1)} | {rss_at(0.25)} | {rss_at(0.5)} | {rss_at(0.75)} | "
            f"{rss_at(1.0)} | {max(r for _, r in samples):.1f} |",
            "",
            f"The recorded stream ({len(per_event)} runner events) replayed through the session "
            "observer (median of 5 replays per event):",
            "",
            "| measure | first tenth | last tenth |",
            "|---|---|---|",
            f"| µs per event, median | {statistics.median(first):.1f} | "
            f"{statistics.median(last):.1f} |",
            f"| µs per event, p95 | {sorted(first)[int(len(first) * 0.95)]:.1f} | "
            f"{sorted(last)[int(len(last) * 0.95)]:.1f} |",
            "",
            "| events replayed | "
            + " | ".join(str(n) for n, _ in heap_rows)
            + " |\n|---|"
            + "---|" * len(heap_rows)
            + "\n| Python heap traced (KB) | "
            + " | ".join(f"{b / 1024:.0f}" for _, b in heap_rows)
            + " |",
            "",
            "The heap figures include bounded buffers that fill early: the batch processor's last "
            "batch (≤ 512 spans) and the finished-tool ids kept against late hooks (≤ 256).",
        ]
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(long_session(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
