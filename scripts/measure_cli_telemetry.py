"""Measure what the Claude Code CLI's own telemetry sends, scenario by scenario.

Runs real sessions (the runner's session driver, the real SDK and the bundled CLI) against the
scripted Messages API server, with the CLI's OTLP export pointed at a local capture server, and
writes one JSON file per scenario: what each OTLP request held (decoded from protobuf), when it
arrived, what the scripted server served (message ids, tool_use ids) and the runner's stdout.

    .venv/bin/python scripts/measure_cli_telemetry.py [--out DIR] [SCENARIO ...]

Scenarios: see SCENARIOS below. The files under tests/data/cli_telemetry/ were written by it;
docs/cli-telemetry.md reads them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from runner.config import RunnerConfig
from runner.launcher import run_session
from runner.offline import OfflineMessagesServer, offline_environment
from runner.offline.script import Reply, Step, ToolUse, Usage, bash, text
from runner.output.stdout_events import EventWriter

MESSAGES = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
}


@dataclass
class Capture:
    """An OTLP/HTTP endpoint that keeps every request, decoded, with its arrival time."""

    t0: float = field(default_factory=time.time)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = raw
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    body = gzip.decompress(raw)
                kind = MESSAGES.get(self.path)
                entry: dict[str, Any] = {
                    "path": self.path,
                    "t_s": round(time.time() - capture.t0, 3),
                    "content_type": self.headers.get("Content-Type"),
                    "content_encoding": self.headers.get("Content-Encoding"),
                    "user_agent": self.headers.get("User-Agent"),
                    "bytes": len(raw),
                }
                if kind is not None and "json" not in (entry["content_type"] or ""):
                    message = kind()
                    message.ParseFromString(body)
                    entry["body"] = MessageToDict(message)
                else:
                    entry["body_text"] = body.decode("utf-8", "replace")
                capture.requests.append(entry)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def telemetry_env(endpoint: str, interval_ms: int = 1000) -> dict[str, str]:
    ms = str(interval_ms)
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_TRACES_EXPORT_INTERVAL": ms,
        "OTEL_METRIC_EXPORT_INTERVAL": ms,
        "OTEL_LOGS_EXPORT_INTERVAL": ms,
    }


@dataclass
class Scenario:
    script: list[Step]
    allowed_tools: tuple[str, ...] = ("Bash",)
    permission_mode: str | None = None
    prompt: str | None = "Do the scripted task."
    messages: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    """Extra CLI env (on top of the telemetry env); a None value unsets."""
    prepare: Callable[[Path, Path], None] | None = None
    """(home, workspace) -> None: files the scenario needs before the CLI starts."""
    interval_ms: int = 1000


def _hook_settings(home: Path, workspace: Path) -> None:
    """A PreToolUse command hook in the user settings and a PostToolUse one in the project's."""
    marker = workspace.parent / "hooks-ran.txt"
    user = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": f"echo user-pre >> {marker}"}],
                }
            ]
        }
    }
    project = {
        "hooks": {
            "PostToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": f"echo project-post >> {marker}"}],
                }
            ]
        }
    }
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    (home / ".claude" / "settings.json").write_text(json.dumps(user))
    (workspace / ".claude").mkdir(parents=True, exist_ok=True)
    (workspace / ".claude" / "settings.json").write_text(json.dumps(project))


BASH = [
    bash("echo relay-test", Usage(1200, 85, 0, 3400), say="Running it."),
    text("Done: relay-test.", Usage(95, 38, 3620, 0)),
]
SUBAGENT = [
    Reply(
        content=(
            ToolUse(
                "Agent",
                {
                    "description": "sub task",
                    "prompt": "SUBTASK: run echo",
                    "subagent_type": "general-purpose",
                },
            ),
        ),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
    text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]
COMPACT = [
    text("First answer.", Usage(150_000, 40, 0, 2000), match="first"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    bash("echo after", Usage(3000, 20), match="third"),
    text("Third answer.", Usage(3100, 25)),
]
# Spare answers for auxiliary calls (titles, topic detection...) the CLI may make.
SPARE = [text('{"title": "spare"}', Usage(10, 5)) for _ in range(6)]

SCENARIOS: dict[str, Scenario] = {
    "allowed_tool": Scenario(BASH),
    "denied_tool": Scenario(
        [
            bash("touch denied.txt", Usage(1200, 85, 0, 3400)),
            text("It was denied.", Usage(95, 38, 3620, 0)),
        ],
        allowed_tools=("Read",),
        permission_mode="default",
    ),
    "hooks": Scenario(BASH, prepare=_hook_settings),
    "subagent": Scenario(SUBAGENT, allowed_tools=("Bash", "Agent", "Task")),
    "compaction": Scenario(COMPACT, prompt="first", messages=["/compact", "third"]),
    "nonessential_traffic": Scenario(
        [text('{"title": "Scripted task"}', Usage(50, 7), match="Write the title"), *BASH],
        env={"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": None},  # type: ignore[dict-item]
    ),
    "slow_tool_interval_default": Scenario(
        [bash("sleep 4", Usage(100, 10)), text("Slept.", Usage(100, 10))],
        env={
            "OTEL_TRACES_EXPORT_INTERVAL": None,  # type: ignore[dict-item]
            "OTEL_LOGS_EXPORT_INTERVAL": None,  # type: ignore[dict-item]
            "OTEL_METRIC_EXPORT_INTERVAL": None,  # type: ignore[dict-item]
        },
    ),
    "slow_tool_interval_500": Scenario(
        [bash("sleep 4", Usage(100, 10)), text("Slept.", Usage(100, 10))], interval_ms=500
    ),
    "slow_tool_bsp_500": Scenario(
        [bash("sleep 4", Usage(100, 10)), text("Slept.", Usage(100, 10))],
        env={
            "OTEL_TRACES_EXPORT_INTERVAL": None,  # type: ignore[dict-item]
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "OTEL_BLRP_SCHEDULE_DELAY": "500",
        },
    ),
}


def cli_version() -> str:
    import claude_agent_sdk

    binary = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def run(name: str, scenario: Scenario, out_dir: Path) -> Path:
    capture = Capture()
    server = OfflineMessagesServer(scenario.script + SPARE).start()
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=f"cli-telemetry-{name}-") as tmp:
        root = Path(tmp)
        workspace = root / "workspace"
        workspace.mkdir()
        base = offline_environment(server.url, root)
        if scenario.prepare is not None:
            scenario.prepare(Path(base["HOME"]), workspace)
        trace_id, span_id = random.getrandbits(128), random.getrandbits(64)
        traceparent = f"00-{trace_id:032x}-{span_id:016x}-01"
        cli_env = {
            **telemetry_env(capture.url, scenario.interval_ms),
            "TRACEPARENT": traceparent,
        }
        for key, value in scenario.env.items():
            if value is None:
                cli_env.pop(key, None)
                base.pop(key, None)
            else:
                cli_env[key] = value
        for key in [k for k in os.environ if k.startswith(("OTEL_", "LANGFUSE_", "CLAUDE_CODE_"))]:
            del os.environ[key]
        os.environ.update(base)
        if scenario.env.get("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "") is None:
            # the session driver defaults it to 1 unless the operator's environment has it
            os.environ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = ""
        config = RunnerConfig(
            session_id=f"measure-{name}",
            prompt=scenario.prompt,
            interactive=scenario.messages is not None,
            timeout_s=90,
            workspace=workspace,
            allowed_tools=scenario.allowed_tools,
            permission_mode=scenario.permission_mode,  # type: ignore[arg-type]
            cli_env=cli_env,
        )
        stdin = None
        if scenario.messages is not None:
            lines = [json.dumps({"type": "user_message", "text": m}) for m in scenario.messages]
            stdin = io.StringIO("\n".join(lines) + "\n")
        out = io.StringIO()
        capture.t0 = time.time()
        outcome = run_session(config, EventWriter(out), [], stdin=stdin)
        ended = round(time.time() - capture.t0, 3)
        time.sleep(3)  # anything the CLI sends late (it has exited: nothing should come)
        ran = root / "hooks-ran.txt"
        hooks_ran = ran.read_text() if ran.exists() else ""
        os.environ.clear()
        os.environ.update(saved)
    server.stop()
    capture.stop()
    record = {
        "scenario": name,
        "cli_version": cli_version(),
        "traceparent": traceparent,
        "cli_env": {k: v for k, v in cli_env.items() if k != "TRACEPARENT"},
        "allowed_tools": list(scenario.allowed_tools),
        "permission_mode": scenario.permission_mode,
        "session_ok": outcome.ok,
        "session_end_s": ended,
        "hooks_ran": hooks_ran.split(),
        "served": [
            {
                "message_id": c.message_id,
                "status": c.status,
                "step": c.step,
                "tool_use_ids": c.tool_use_ids,
                "last_user_text": c.last_user_text[:120],
                "started_s": round(c.started - capture.t0, 3),
                "ended_s": round(c.ended - capture.t0, 3),
                "usage": c.usage,
            }
            for c in server.served
        ],
        "stdout": [json.loads(line) for line in out.getvalue().splitlines()],
        "requests": capture.requests,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/data/cli_telemetry"))
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.scenarios:
        started = time.monotonic()
        path = run(name, SCENARIOS[name], args.out)
        print(f"{name}: {path} ({time.monotonic() - started:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
