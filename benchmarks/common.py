"""What the benchmarks share: the scripted sessions they run, the environment of a session
process, the OTLP span count of a payload, and the summary statistics they print."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runner.offline import (
    OfflineMessagesServer,
    Reply,
    Text,
    ToolUse,
    Usage,
    offline_environment,
    text,
)

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PUBLIC, SECRET = "pk-lf-bench-0000", "sk-lf-bench-0000"


def stats(values: Iterable[float]) -> dict[str, float]:
    v = sorted(values)
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "n": len(v)}


def fmt(s: dict[str, float], unit: str = "s", digits: int = 3) -> str:
    low, high = f"{s['min']:.{digits}f}", f"{s['max']:.{digits}f}"
    return f"{s['median']:.{digits}f} {unit} ({low}–{high}, n={s['n']:.0f})"


def bench_script(delay: float) -> list[Any]:
    """10 LLM calls (each `delay` s before its first byte), 10 Bash tool calls."""
    steps: list[Any] = [
        Reply(
            content=(
                Text("Two things first."),
                ToolUse("Bash", {"command": "echo a"}),
                ToolUse("Bash", {"command": "echo b"}),
            ),
            usage=Usage(1500, 120, 0, 4000),
            delay_s=delay,
        )
    ]
    for i in range(8):
        steps.append(
            Reply(
                content=(ToolUse("Bash", {"command": f"echo step-{i}"}),),
                usage=Usage(200 + i, 40 + i, 4000 + 100 * i, 50),
                delay_s=delay,
            )
        )
    steps.append(text("All ten steps are done.", Usage(300, 60, 4900, 0), delay_s=delay))
    return steps


def session_env(root: Path, model_url: str, variant: str, receiver: str) -> dict[str, str]:
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
    env.update(offline_environment(model_url, root))
    env.update(
        SESSION_ID="bench",
        PROMPT="Run the ten steps.",
        WORKSPACE_PATH=str(workspace),
        ALLOWED_TOOLS="Bash",
        TIMEOUT="300",
        RUNNER_LOG_LEVEL="WARNING",
        RUNNER_TRACE_VIEW="false",
        PYTHONPATH=str(ROOT),
    )
    if variant in ("otel", "langfuse-sdk"):
        env.update(
            LANGFUSE_PUBLIC_KEY=PUBLIC, LANGFUSE_SECRET_KEY=SECRET, LANGFUSE_BASE_URL=receiver
        )
        if variant == "langfuse-sdk":
            env["TELEMETRY_MODE"] = "langfuse-sdk"
    elif variant in ("off", "plain"):
        env["OTEL_SDK_DISABLED"] = "true"
    elif variant == "peer":  # not OTEL_SDK_DISABLED: the peer's provider would honour it
        env["PEER_OTLP_ENDPOINT"] = f"{receiver}/v1/traces"
    return env


def span_count(body: bytes) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    message = ExportTraceServiceRequest()
    try:
        message.ParseFromString(body)
    except Exception:  # noqa: BLE001 - a metrics payload or junk
        return 0
    return sum(len(ss.spans) for rs in message.resource_spans for ss in rs.scope_spans)


class Recorder:
    """A SessionObserver that keeps the stream for replay."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def record_stream(delay: float = 0.0) -> list[tuple[str, tuple[Any, ...]]]:
    from runner.config import RunnerConfig
    from runner.launcher import run_session
    from runner.output.stdout_events import EventWriter

    recorder = Recorder()
    with (
        tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp,
        OfflineMessagesServer(bench_script(delay)) as server,
    ):
        root = Path(tmp)
        saved = dict(os.environ)
        os.environ.update(offline_environment(server.url, root))
        (root / "ws").mkdir()
        try:
            config = RunnerConfig(
                session_id="bench",
                prompt="Run the ten steps.",
                workspace=root / "ws",
                allowed_tools=("Bash",),
            )
            import io

            run_session(config, EventWriter(io.StringIO()), [recorder])  # type: ignore[list-item]
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return recorder.calls
