"""The CLI telemetry relay's cost: per CLI span, and on a session's wall time.

    .venv/bin/python benchmarks/cli_relay.py                 # both scenarios, recorded settings
    .venv/bin/python benchmarks/cli_relay.py span --runs 15
    .venv/bin/python benchmarks/cli_relay.py session --runs 5
    .venv/bin/python benchmarks/cli_relay.py all --quick     # smoke: 1 run each

`span` replays the real CLI's export requests (tests/data/cli_telemetry, CLI 2.1.332) into a
relay over HTTP and measures, per span: decoding alone (protobuf → CliSpan), and the whole path
(POST, answer, queue, decode, sink), wall and CPU. `session` runs the same scripted session with
the CLI's telemetry off, relayed, and aimed at a relay that is gone, interleaved.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from google.protobuf.json_format import ParseDict  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from benchmarks.common import fmt, stats  # noqa: E402
from runner.cli_telemetry import CliRecord, CliTelemetryRelay  # noqa: E402
from runner.cli_telemetry.records import decode_spans  # noqa: E402
from runner.config import RunnerConfig  # noqa: E402
from runner.launcher import run_session  # noqa: E402
from runner.offline import OfflineMessagesServer, offline_environment  # noqa: E402
from runner.offline.script import Reply, ToolUse, Usage, text  # noqa: E402
from runner.otel import session_observer  # noqa: E402
from runner.otel.attributes.content import ContentPolicy  # noqa: E402
from runner.otel.export.cli_environment import relay_environment  # noqa: E402
from runner.otel.telemetry import CLI_RECORD_WAIT_S  # noqa: E402
from runner.output.stdout_events import EventWriter  # noqa: E402
from runner.redaction import Redactor  # noqa: E402

CAPTURES = ROOT / "tests" / "data" / "cli_telemetry"


def captured_trace_bodies() -> list[bytes]:
    """Every traces request the real CLI sent in the recorded scenarios, as protobuf bytes."""
    bodies = []
    for path in sorted(CAPTURES.glob("*.json")):
        for request in json.loads(path.read_text())["requests"]:
            if request["path"] == "/v1/traces":
                message = ParseDict(request["body"], ExportTraceServiceRequest())
                bodies.append(message.SerializeToString())
    return bodies


class _Counter:
    def __init__(self, target: int) -> None:
        self.got, self.target, self.done = 0, target, threading.Event()

    def add(self, record: CliRecord) -> None:
        self.got += 1
        if self.got == self.target:
            self.done.set()


def span_cost(runs: int) -> str:
    bodies = captured_trace_bodies()
    spans_per_pass = sum(len(decode_spans(b)) for b in bodies)
    size = statistics.median(len(b) / max(1, len(decode_spans(b))) for b in bodies)
    decode_us: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(20):
            for body in bodies:
                decode_spans(body)
        decode_us.append((time.perf_counter() - started) / (20 * spans_per_pass) * 1e6)

    wall_us: list[float] = []
    cpu_us: list[float] = []
    answer_ms: list[float] = []
    target = 10 * spans_per_pass
    for _ in range(runs):
        counter = _Counter(target)
        relay = CliTelemetryRelay(counter.add).start()
        url = relay.endpoint + "/v1/traces"
        cpu0, started = time.process_time(), time.perf_counter()
        for _ in range(10):
            for body in bodies:
                sent = time.perf_counter()
                request = urllib.request.Request(
                    url, data=body, headers={"Content-Type": "application/x-protobuf"}
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                answer_ms.append((time.perf_counter() - sent) * 1e3)
        counter.done.wait(30)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0  # includes the sender (urllib), an upper bound
        relay.close()
        wall_us.append(wall / target * 1e6)
        cpu_us.append(cpu / target * 1e6)
    return "\n".join(
        [
            "## cli relay: cost per CLI span",
            "",
            f"Real CLI export requests: {len(bodies)} requests, {spans_per_pass} spans, "
            f"median {size:.0f} bytes per span (protobuf). Median of {runs} runs.",
            "",
            "| measure | per span |",
            "|---|---|",
            f"| decode only (protobuf → CliSpan) | {fmt(stats(decode_us), 'µs', 1)} |",
            f"| relay path, wall (POST → answer → queue → decode → sink), 1 sender "
            f"| {fmt(stats(wall_us), 'µs', 1)} |",
            f"| relay path, CPU of the process (sender included: upper bound) "
            f"| {fmt(stats(cpu_us), 'µs', 1)} |",
            f"| HTTP answer time per request (not per span) | {fmt(stats(answer_ms), 'ms', 2)} |",
            "",
        ]
    )


def session_script(delay: float) -> list[Any]:
    """6 LLM calls, 5 Bash tools: a short agentic session."""
    steps: list[Any] = [
        Reply(
            content=(ToolUse("Bash", {"command": f"echo step-{i}", "description": "step"}),),
            usage=Usage(200 + i, 40, 4000, 50),
            delay_s=delay,
        )
        for i in range(5)
    ]
    steps.append(text("Done.", Usage(300, 60, 4900, 0), delay_s=delay))
    return steps


def one_session(variant: str, delay: float) -> tuple[float, float, float, int]:
    """Wall time, time to the first LLM request, time from the last answer to the end, and
    the records the relay delivered. The runner's telemetry observer (tree, spans, in memory)
    runs in every variant; relayed, the driver merges the CLI's records into it and each
    query's end waits for them (bounded), as a session with RUNNER_CLI_TELEMETRY does."""
    relay = CliTelemetryRelay(lambda record: None).start()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    observer = session_observer(
        provider.get_tracer("bench"),
        ContentPolicy(False, Redactor()),
        attach=False,
        cli_wait_s=CLI_RECORD_WAIT_S if variant == "relayed" else None,
    )
    server = OfflineMessagesServer(session_script(delay)).start()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
            root = Path(tmp)
            (root / "workspace").mkdir()
            os.environ.update(offline_environment(server.url, root))
            cli_env: dict[str, str] = {}
            if variant != "off":
                cli_env = relay_environment(relay.endpoint)
                trace_id, span_id = random.getrandbits(128) | 1, random.getrandbits(64) | 1
                cli_env["TRACEPARENT"] = f"00-{trace_id:032x}-{span_id:016x}-01"
            if variant == "relay gone":
                relay.close()
            config = RunnerConfig(
                session_id="bench-relay",
                prompt="Do the scripted task.",
                timeout_s=120,
                workspace=root / "workspace",
                allowed_tools=("Bash",),
                cli_env=cli_env,
            )
            started, started_epoch = time.perf_counter(), time.time()
            outcome = run_session(
                config,
                EventWriter(io.StringIO()),
                [observer],
                cli_relay=relay if variant == "relayed" else None,
            )
            wall, ended_epoch = time.perf_counter() - started, time.time()
            calls = server.message_calls
            first = min(c.started for c in calls) - started_epoch
            after_last = ended_epoch - max(c.ended for c in calls)
            counts = relay.stop(3)
            if not outcome.ok:
                raise RuntimeError(f"{variant}: {outcome.error_message}")
    finally:
        relay.close()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
    return wall, first, after_last, counts.spans + counts.log_events


def session_cost(runs: int, delay: float) -> str:
    variants = ["off", "relayed", "relay gone"]
    walls: dict[str, list[float]] = {v: [] for v in variants}
    firsts: dict[str, list[float]] = {v: [] for v in variants}
    lasts: dict[str, list[float]] = {v: [] for v in variants}
    records: dict[str, list[int]] = {v: [] for v in variants}
    one_session("off", delay)  # warm the CLI binary's pages
    for _ in range(runs):
        for variant in variants:  # interleaved: drift hits every variant alike
            wall, first, after_last, got = one_session(variant, delay)
            walls[variant].append(wall)
            firsts[variant].append(first)
            lasts[variant].append(after_last)
            records[variant].append(got)
    off = statistics.median(walls["off"])
    rows = [
        "## cli relay: session wall time, CLI telemetry off vs relayed",
        "",
        f"6 LLM calls ({delay * 1000:.0f} ms to first byte each), 5 Bash tools; the runner's "
        f"session driver and its telemetry observer (spans in memory); relayed: the CLI's "
        f"records merged into the tree, each query's end waiting for them (bounded); median of "
        f"{runs} runs, interleaved.",
        "",
        "| CLI telemetry | session wall time | vs off | start → first LLM request "
        "| last answer → session end | records relayed |",
        "|---|---|---|---|---|---|",
    ]
    for variant in variants:
        s = stats(walls[variant])
        rows.append(
            f"| {variant} | {fmt(s)} | {s['median'] - off:+.3f} s | "
            f"{fmt(stats(firsts[variant]))} | {fmt(stats(lasts[variant]))} | "
            f"{statistics.median(records[variant]):.0f} |"
        )
    return "\n".join([*rows, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="all", choices=["all", "span", "session"])
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    out = []
    if args.scenario in ("all", "span"):
        out.append(span_cost(1 if args.quick else args.runs or 15))
    if args.scenario in ("all", "session"):
        out.append(session_cost(1 if args.quick else args.runs or 5, 0.0 if args.quick else 0.05))
    print("\n".join(out))


if __name__ == "__main__":
    main()
