"""Measure what resuming a Claude Code session (the SDK's `resume` option) does, by scenario.

Drives the real claude-agent-sdk and its bundled Claude Code CLI (no runner code in between)
against the scripted Messages API server (runner.offline) on 127.0.0.1, and writes, per
scenario, JSON lines under tests/data/resume/<scenario>.jsonl:

- `{"kind": "run", ...}`: one CLI process: its options, elapsed seconds, the exception (if any),
  the CLI's stderr tail, and the files under its CLAUDE_CONFIG_DIR after it ended;
- `{"kind": "message", "run": ..., ...}`: every SDK message it yielded (the dataclass as is);
- `{"kind": "request", "run": ..., ...}`: every POST /v1/messages the server received: the
  messages array (length, roles, a short text of each block), `metadata`, the session header;
- `{"kind": "span", "run": ..., ...}`: (telemetry scenario) the CLI's own spans, decoded.

Each scenario runs in a temporary directory of its own (HOME, CLAUDE_CONFIG_DIR, TMPDIR,
XDG_RUNTIME_DIR, workspace); a resumed run reuses, or copies, the earlier run's directories as
the scenario says. Every CLI run is bounded (RUN_TIMEOUT_S).

    .venv/bin/python scripts/measure_resume.py [--out DIR] [SCENARIO ...]

docs/resume.md reads the files this writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import claude_agent_sdk
from claude_agent_sdk import (
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ResultMessage,
    SystemMessage,
    query,
)

from runner.offline import OfflineMessagesServer, offline_environment
from runner.offline.script import Reply, Step, ToolUse, Usage, bash, text

RUN_TIMEOUT_S = 120.0
MODEL = "claude-sonnet-4-5"
CLI = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


# --------------------------------------------------------------------------- the model side


def _block_summary(block: Any) -> dict[str, Any]:
    if not isinstance(block, dict):
        return {"type": "str", "text": str(block)[:80]}
    kind = block.get("type")
    out: dict[str, Any] = {"type": kind}
    if kind == "text":
        out["text"] = str(block.get("text", ""))[:80]
    elif kind == "tool_use":
        out["name"], out["id"] = block.get("name"), block.get("id")
    elif kind == "tool_result":
        inner = block.get("content")
        if isinstance(inner, list):
            inner = " ".join(str(b.get("text", "")) for b in inner if isinstance(b, dict))
        out["tool_use_id"], out["text"] = block.get("tool_use_id"), str(inner)[:80]
    return out


def _digest(value: Any) -> str:
    """A short hash of a JSON value with `cache_control` markers dropped (they move from
    request to request; the prompt cache keys on the content)."""
    import hashlib

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k != "cache_control"}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return hashlib.sha256(json.dumps(strip(value), sort_keys=True).encode()).hexdigest()[:12]


def summarise_request(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    messages = body.get("messages") or []
    summary = []
    for m in messages:
        content = m.get("content")
        blocks = [{"type": "text", "text": content[:80]}] if isinstance(content, str) else content
        summary.append({"role": m.get("role"), "blocks": [_block_summary(b) for b in blocks or []]})
    system = body.get("system")
    return {
        "model": body.get("model"),
        "n_messages": len(messages),
        "roles": "".join((m.get("role") or "?")[0] for m in messages),
        "messages": summary,
        "system_chars": len(json.dumps(system)) if system is not None else 0,
        "metadata": body.get("metadata"),
        "session_header": headers.get("x-claude-code-session-id"),
        "tools": len(body.get("tools") or []),
        "digest": {
            "system": _digest(system),
            "tools": _digest(body.get("tools")),
            "messages": [_digest(m) for m in messages],
        },
    }


class RecordingServer(OfflineMessagesServer):
    """The scripted server, also keeping a summary of every request body it received."""

    def __init__(self, steps: Sequence[Step]) -> None:
        super().__init__(list(steps))
        self.requests: list[dict[str, Any]] = []
        self.run = ""
        base = self._httpd.RequestHandlerClass
        server = self

        class Recording(base):  # type: ignore[valid-type,misc]
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                entry = {
                    "kind": "request",
                    "run": server.run,
                    "path": self.path,
                    "t": round(time.time(), 3),
                    **summarise_request(body, {k.lower(): v for k, v in self.headers.items()}),
                }
                server.requests.append(entry)
                self.rfile = io.BytesIO(raw)
                super().do_POST()

        self._httpd.RequestHandlerClass = Recording

    def start(self) -> RecordingServer:
        super().start()
        return self


class SpanCapture:
    """An OTLP/HTTP endpoint keeping the CLI's spans (protobuf), tagged with the current run."""

    def __init__(self) -> None:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
            ExportLogsServiceRequest,
        )
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
        )
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        kinds: dict[str, tuple[str, Any]] = {
            "/v1/traces": ("span", ExportTraceServiceRequest),
            "/v1/logs": ("log", ExportLogsServiceRequest),
            "/v1/metrics": ("metric", ExportMetricsServiceRequest),
        }

        self.spans: list[dict[str, Any]] = []
        self.run = ""
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    raw = gzip.decompress(raw)
                kind = kinds.get(self.path)
                if kind is not None:
                    request = kind[1]()
                    request.ParseFromString(raw)
                    capture.add(kind[0], MessageToDict(request))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, kind: str, body: dict[str, Any]) -> None:
        def attrs(items: list[dict[str, Any]]) -> dict[str, Any]:
            return {a["key"]: next(iter(a["value"].values()), None) for a in items}

        base = {"kind": kind, "run": self.run}
        if kind == "span":
            for rs in body.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for span in ss.get("spans", []):
                        self.spans.append(
                            {
                                **base,
                                "name": span.get("name"),
                                "traceId": span.get("traceId"),
                                "spanId": span.get("spanId"),
                                "parentSpanId": span.get("parentSpanId"),
                                "attributes": attrs(span.get("attributes", [])),
                            }
                        )
        elif kind == "log":
            for rl in body.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for record in sl.get("logRecords", []):
                        body_value = next(iter((record.get("body") or {}).values()), None)
                        self.spans.append(
                            {
                                **base,
                                "body": body_value,
                                "attributes": attrs(record.get("attributes", [])),
                            }
                        )
        else:
            for rm in body.get("resourceMetrics", []):
                for sm in rm.get("scopeMetrics", []):
                    for metric in sm.get("metrics", []):
                        data = next(
                            (
                                v
                                for k, v in metric.items()
                                if isinstance(v, dict) and "dataPoints" in v
                            ),
                            {},
                        )
                        for point in data.get("dataPoints", []):
                            self.spans.append(
                                {
                                    **base,
                                    "name": metric.get("name"),
                                    "temporality": data.get("aggregationTemporality"),
                                    "value": point.get("asDouble", point.get("asInt")),
                                    "attributes": attrs(point.get("attributes", [])),
                                }
                            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def telemetry_env(endpoint: str) -> dict[str, str]:
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_TRACES_EXPORT_INTERVAL": "500",
        "OTEL_LOGS_EXPORT_INTERVAL": "500",
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
    }


# --------------------------------------------------------------------------- the client side


def message_record(run: str, message: Any) -> dict[str, Any]:
    is_instance = dataclasses.is_dataclass(message) and not isinstance(message, type)
    data = dataclasses.asdict(message) if is_instance else {"repr": message}
    return {"kind": "message", "run": run, "class": type(message).__name__, **data}


def config_files(config_dir: Path) -> list[str]:
    out = []
    for path in sorted(config_dir.rglob("*")):
        if path.is_file():
            out.append(f"{path.relative_to(config_dir)} ({path.stat().st_size} B)")
    return out


def error_fields(error: BaseException | None) -> dict[str, Any] | None:
    if error is None:
        return None
    fields = ("exit_code", "subtype", "errors", "terminal_reason", "data", "stderr")
    return {"class": type(error).__name__, **{f: getattr(error, f, None) for f in fields}}


def claude_json(env: Env) -> Any:
    """The CLI's global state file (HOME/.claude.json, or CLAUDE_CONFIG_DIR/.claude.json)."""
    for path in (env.config_dir / ".claude.json", Path(env.vars["HOME"]) / ".claude.json"):
        if path.exists():
            try:
                return {"path": str(path), "content": json.loads(path.read_text())}
            except ValueError:
                return {"path": str(path), "content": None}
    return None


def transcripts(env: Env) -> list[dict[str, Any]]:
    """Per transcript file: its records by type, the session ids they name, and the fields
    that hold usage or cost."""
    out = []
    for path in sorted(env.config_dir.glob("projects/**/*.jsonl")):
        types: dict[str, int] = {}
        sessions: set[str] = set()
        costly: set[str] = set()
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            kind = str(record.get("type"))
            sub = record.get("subtype")
            key = f"{kind}/{sub}" if sub else kind
            types[key] = types.get(key, 0) + 1
            if record.get("sessionId"):
                sessions.add(record["sessionId"])
            for field in ("costUSD", "cost", "total_cost_usd", "usage"):
                if field in record or field in (record.get("message") or {}):
                    costly.add(f"{kind}.{field}")
        out.append(
            {
                "path": str(path.relative_to(env.config_dir)),
                "records": types,
                "session_ids": sorted(sessions),
                "usage_or_cost_fields": sorted(costly),
            }
        )
    return out


class Env:
    """One isolated directory set: HOME (+ .claude as CLAUDE_CONFIG_DIR), TMPDIR,
    XDG_RUNTIME_DIR. The workspace is separate, so two homes can share one cwd."""

    def __init__(self, root: Path, server_url: str, extra: dict[str, str] | None = None) -> None:
        self.root = root
        self.vars = {**offline_environment(server_url, root), **(extra or {})}

    @property
    def config_dir(self) -> Path:
        return Path(self.vars["CLAUDE_CONFIG_DIR"])

    def copy_to(self, root: Path, server_url: str) -> Env:
        shutil.copytree(self.root, root, symlinks=True)
        extra = {k: v for k, v in self.vars.items() if k.startswith(("OTEL_", "CLAUDE_CODE_E"))}
        return Env(root, server_url, extra)


class Recorder:
    def __init__(self, server: RecordingServer, spans: SpanCapture | None = None) -> None:
        self.server = server
        self.spans = spans
        self.lines: list[dict[str, Any]] = []

    def options(self, env: Env, cwd: Path, stderr: list[str], **kw: Any) -> ClaudeAgentOptions:
        kw.setdefault("allowed_tools", ["Bash"])
        return ClaudeAgentOptions(
            cwd=str(cwd),
            model=MODEL,
            env=env.vars,
            stderr=stderr.append,
            **kw,
        )

    def _start(self, run: str) -> None:
        self.server.run = run
        if self.spans is not None:
            self.spans.run = run

    def _end(
        self,
        run: str,
        env: Env,
        cwd: Path,
        opts: dict[str, Any],
        started: float,
        stderr: list[str],
        error: BaseException | None,
        messages: list[Any],
    ) -> dict[str, Any]:
        elapsed = round(time.monotonic() - started, 2)
        if self.spans is not None:
            time.sleep(1.5)  # the CLI flushes at exit; anything late still lands in this run
        for m in messages:
            self.lines.append(message_record(run, m))
        record = {
            "kind": "run",
            "run": run,
            "cwd": str(cwd),
            "config_dir": str(env.config_dir),
            "options": opts,
            "elapsed_s": elapsed,
            "error": None if error is None else f"{type(error).__name__}: {error}",
            "error_fields": error_fields(error),
            "stderr_tail": [line[:400] for line in stderr[-15:]],
            "config_files": config_files(env.config_dir),
            "claude_json": claude_json(env),
            "transcripts": transcripts(env),
        }
        self.lines.append(record)
        results = [m for m in messages if isinstance(m, ResultMessage)]
        print(
            f"  {run}: {elapsed}s, {len(messages)} messages, results "
            f"{[(r.session_id[:8], r.num_turns, r.total_cost_usd) for r in results]}, "
            f"error {record['error']!r}",
            file=sys.stderr,
        )
        return record

    async def batch(self, run: str, env: Env, cwd: Path, prompt: str, **kw: Any) -> list[Any]:
        """One `query()` call: one CLI process, one prompt."""
        self._start(run)
        stderr: list[str] = []
        messages: list[Any] = []
        error: BaseException | None = None
        started = time.monotonic()

        async def go() -> None:
            async for m in query(prompt=prompt, options=self.options(env, cwd, stderr, **kw)):
                messages.append(m)

        try:
            await asyncio.wait_for(go(), RUN_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the exception is a measured fact
            error = exc
        self._end(
            run,
            env,
            cwd,
            {"mode": "query", "prompt": prompt, **kw},
            started,
            stderr,
            error,
            messages,
        )
        return messages

    async def interactive(
        self, run: str, env: Env, cwd: Path, prompts: list[str], **kw: Any
    ) -> list[Any]:
        """A ClaudeSDKClient: one CLI process, several queries. A query ends at a result when
        no background task it started is still running (a finished one brings another turn)."""
        self._start(run)
        stderr: list[str] = []
        messages: list[Any] = []
        error: BaseException | None = None
        started = time.monotonic()

        phase = {"at": "connect"}

        async def go() -> None:
            async with ClaudeSDKClient(options=self.options(env, cwd, stderr, **kw)) as client:
                for prompt in prompts:
                    phase["at"] = f"query {prompt!r}"
                    messages.append({"marker": "query", "prompt": prompt})
                    await client.query(prompt)
                    open_tasks: set[str] = set()
                    stream = client.receive_messages().__aiter__()
                    while True:
                        try:
                            m = await asyncio.wait_for(anext(stream), 60)
                        except (StopAsyncIteration, TimeoutError):
                            break
                        messages.append(m)
                        if isinstance(m, SystemMessage):
                            task = m.data.get("task_id")
                            if m.subtype == "task_started" and task:
                                open_tasks.add(task)
                            elif m.subtype == "task_notification" and task:
                                open_tasks.discard(task)
                        if isinstance(m, ResultMessage) and not open_tasks:
                            break

        try:
            await asyncio.wait_for(go(), RUN_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001
            error = exc
        markers = [m for m in messages if isinstance(m, dict)]
        real = [m for m in messages if not isinstance(m, dict)]
        opts = {"mode": "client", "prompts": prompts, "ended_in": phase["at"], **kw}
        self._end(run, env, cwd, opts, started, stderr, error, real)
        del markers
        return real


async def killed_client(
    rec: Recorder, run: str, env: Env, cwd: Path, prompt: str, sig: int
) -> list[Any]:
    """A ClaudeSDKClient whose CLI gets `sig` (by its own pid) right after the first result,
    as when a Job's pod is killed between turns."""
    rec._start(run)
    stderr: list[str] = []
    messages: list[Any] = []
    error: BaseException | None = None
    started = time.monotonic()
    client = ClaudeSDKClient(options=rec.options(env, cwd, stderr))
    try:
        await asyncio.wait_for(client.connect(), RUN_TIMEOUT_S)
        await client.query(prompt)
        async for m in client.receive_messages():
            messages.append(m)
            if isinstance(m, ResultMessage):
                break
        process = client._transport._process  # type: ignore[union-attr]
        os.kill(process.pid, sig)
        await asyncio.sleep(0.5)
    except Exception as exc:  # noqa: BLE001
        error = exc
    # the CLI is gone: whatever disconnect says is expected
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), 30)
    mode = f"client, signal {signal.Signals(sig).name} to the CLI after the result"
    rec._end(run, env, cwd, {"mode": mode, "prompt": prompt}, started, stderr, error, messages)
    return messages


async def scenario_killed(tmp: Path) -> Recorder:
    """The CLI is SIGKILLed (then, another session: SIGTERMed) after its first result; then
    the session is resumed."""
    server = RecordingServer(run_steps(RUN1, RUN2, RUN1, RUN2)).start()
    rec = Recorder(server)
    try:
        workspace = tmp / "workspace"
        workspace.mkdir()
        env = Env(tmp / "h", server.url)
        for sig in (signal.SIGKILL, signal.SIGTERM):
            name = sig.name.lower()
            sid = session_of(
                await killed_client(
                    rec, f"1-{name}", env, workspace, "FIRST task: run echo one.", sig
                )
            )
            await rec.batch(
                f"2-resume-after-{name}", env, workspace, "SECOND task: run echo two.", resume=sid
            )
    finally:
        server.stop()
    rec.lines.extend(server.requests)
    return rec


def session_of(messages: list[Any]) -> str:
    for m in messages:
        if isinstance(m, ResultMessage):
            return m.session_id
    raise RuntimeError("no ResultMessage: the run failed")


def transcript(env: Env, session: str) -> Path:
    (found,) = list(env.config_dir.glob(f"projects/*/{session}.jsonl"))
    return found


# --------------------------------------------------------------------------- scripts

# Usage per call chosen so each call's cost (Sonnet 4.5 list prices) is distinguishable:
# run 1: $0.019500 + $0.001290 ; run 2: $0.003021 + $0.002286 ; run 3: $0.000915 + ...
RUN1 = [
    bash("echo one", Usage(1000, 100, 0, 4000), say="Running one.", match="FIRST"),
    text("First done.", Usage(20, 30, 4000, 0), match="one"),
]
RUN2 = [
    bash("echo two", Usage(7, 40, 5000, 300), match="SECOND"),
    text("Second done.", Usage(5, 50, 5300, 0), match="two"),
]
RUN3 = [text("Third done.", Usage(3, 60, 500, 0), match="THIRD")]
SPARE = [text("spare", Usage(1, 1)) for _ in range(4)]


def run_steps(*groups: Sequence[Step]) -> list[Step]:
    return [step for group in groups for step in group] + SPARE


# --------------------------------------------------------------------------- scenarios


async def scenario_batch(tmp: Path) -> Recorder:
    """A batch run, then resumes of it: same home+cwd; again (a chain); fork_session; a fresh
    home holding only the transcript; the same home from another cwd; an unknown id."""
    server = RecordingServer(
        run_steps(
            RUN1,
            RUN2,
            RUN3,
            [text("Fork done.", Usage(4, 70, 600, 0), match="FORK")],
            [text("Copied done.", Usage(6, 80, 700, 0), match="COPIED")],
            [text("Other cwd done.", Usage(8, 90, 800, 0), match="OTHERCWD")],
            [text("Continue done.", Usage(9, 95, 900, 0), match="CONTINUE")],
            [text("Never.", Usage(1, 1), match="MISSING")],
            [text("Stripped done.", Usage(2, 85, 1000, 0), match="NOCOST")],
            [text("Chosen id done.", Usage(3, 75, 1100, 0), match="CHOSEN")],
            [text("Odd slug done.", Usage(4, 65, 1400, 0), match="ODDSLUG")],
            [
                bash("echo budget", Usage(5, 25, 1200, 0), match="BUDGET"),
                text("Budget done.", Usage(5, 25, 1300, 0), match="budget"),
            ],
            [
                bash("echo budget", Usage(5, 25, 1200, 0), match="BUDGET"),
                text("Budget done.", Usage(5, 25, 1300, 0), match="budget"),
            ],
        )
    ).start()
    rec = Recorder(server)
    try:
        workspace = tmp / "workspace"
        workspace.mkdir()
        first = Env(tmp / "h1", server.url)
        sid = session_of(await rec.batch("1-first", first, workspace, "FIRST task: run echo one."))
        pristine = first.copy_to(tmp / "h1-after-first", server.url)

        second = pristine.copy_to(tmp / "h2", server.url)
        sid2 = session_of(
            await rec.batch("2-resume", second, workspace, "SECOND task: run echo two.", resume=sid)
        )
        await rec.batch("3-resume-again", second, workspace, "THIRD task.", resume=sid2)

        fork = pristine.copy_to(tmp / "h-fork", server.url)
        await rec.batch("4-fork", fork, workspace, "FORK task.", resume=sid, fork_session=True)

        copied = Env(tmp / "h-copied", server.url)
        target = copied.config_dir / transcript(pristine, sid).relative_to(pristine.config_dir)
        target.parent.mkdir(parents=True)
        shutil.copy2(transcript(pristine, sid), target)
        await rec.batch("5-only-transcript", copied, workspace, "COPIED task.", resume=sid)

        other_cwd = tmp / "workspace-other"
        other_cwd.mkdir()
        moved = pristine.copy_to(tmp / "h-other-cwd", server.url)
        await rec.batch("6-other-cwd", moved, other_cwd, "OTHERCWD task.", resume=sid)

        cont = pristine.copy_to(tmp / "h-continue", server.url)
        await rec.batch("7-continue", cont, workspace, "CONTINUE task.", continue_conversation=True)

        stripped = Env(tmp / "h-no-cost-state", server.url)
        target = stripped.config_dir / transcript(pristine, sid).relative_to(pristine.config_dir)
        target.parent.mkdir(parents=True)
        kept = [
            line
            for line in transcript(pristine, sid).read_text().splitlines(keepends=True)
            if json.loads(line).get("type") != "cost-state"
        ]
        target.write_text("".join(kept))
        await rec.batch(
            "9-transcript-without-cost-state", stripped, workspace, "NOCOST task.", resume=sid
        )

        chosen = pristine.copy_to(tmp / "h-chosen", server.url)
        await rec.batch(
            "10-fork-chosen-id",
            chosen,
            workspace,
            "CHOSEN task.",
            resume=sid,
            fork_session=True,
            session_id=str(uuid.UUID(int=42)),
        )

        odd = Env(tmp / "h-odd-slug", server.url)
        (odd.config_dir / "projects" / "not-the-cwd").mkdir(parents=True)
        shutil.copy2(transcript(pristine, sid), odd.config_dir / "projects" / "not-the-cwd")
        await rec.batch(
            "13-transcript-under-another-slug", odd, workspace, "ODDSLUG task.", resume=sid
        )

        # max_budget_usd on resume: 0.02 is below the earlier run's $0.02121 and above this
        # run's $0.00153; 0.0005 is below this run's first call ($0.00075)
        for label, limit in (("11-resume-budget-0.02", 0.02), ("12-resume-budget-0.0005", 0.0005)):
            budget = pristine.copy_to(tmp / f"h-{label}", server.url)
            await rec.batch(
                label,
                budget,
                workspace,
                "BUDGET task: run echo budget.",
                resume=sid,
                max_budget_usd=limit,
            )

        missing = pristine.copy_to(tmp / "h-missing", server.url)
        await rec.batch(
            "8-missing-id", missing, workspace, "MISSING task.", resume=str(uuid.uuid4())
        )
    finally:
        server.stop()
    rec.lines.extend(server.requests)
    return rec


async def scenario_interactive(tmp: Path) -> Recorder:
    """A ClaudeSDKClient with two queries, then a resumed ClaudeSDKClient with one."""
    server = RecordingServer(run_steps(RUN1, RUN2, RUN3)).start()
    rec = Recorder(server)
    try:
        workspace = tmp / "workspace"
        workspace.mkdir()
        env = Env(tmp / "h", server.url)
        sid = session_of(
            await rec.interactive(
                "1-client",
                env,
                workspace,
                ["FIRST task: run echo one.", "SECOND task: run echo two."],
            )
        )
        await rec.interactive("2-client-resumed", env, workspace, ["THIRD task."], resume=sid)
        await rec.interactive(
            "3-client-missing-id", env, workspace, ["MISSING task."], resume=str(uuid.uuid4())
        )
    finally:
        server.stop()
    rec.lines.extend(server.requests)
    return rec


async def scenario_telemetry(tmp: Path) -> Recorder:
    """The CLI's own spans (OTLP to a local capture) for a run and its resume."""
    server = RecordingServer(run_steps(RUN1, RUN2)).start()
    spans = SpanCapture()
    rec = Recorder(server, spans)
    try:
        workspace = tmp / "workspace"
        workspace.mkdir()
        env = Env(tmp / "h", server.url, telemetry_env(spans.url))
        sid = session_of(await rec.batch("1-first", env, workspace, "FIRST task: run echo one."))
        await rec.batch("2-resume", env, workspace, "SECOND task: run echo two.", resume=sid)
    finally:
        server.stop()
        spans.stop()
    rec.lines.extend(server.requests)
    rec.lines.extend(spans.spans)
    return rec


COMPACT = [
    text("<summary>Earlier: echo one ran.</summary>", Usage(900, 200, 0, 0), match="CRITICAL"),
    text("<summary>Earlier: echo one ran.</summary>", Usage(900, 200, 0, 0), match="CRITICAL"),
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
        match="SUBAGENT",
    ),
    bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
    text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6), match="sub done"),
]


async def scenario_compact_subagent(tmp: Path) -> Recorder:
    """A batch run, then a resumed ClaudeSDKClient: `/compact` first, then a subagent."""
    server = RecordingServer(
        run_steps(RUN1, COMPACT, SUBAGENT, [text("After.", Usage(10, 10, 100, 0), match="AFTER")])
    ).start()
    rec = Recorder(server)
    try:
        workspace = tmp / "workspace"
        workspace.mkdir()
        env = Env(tmp / "h", server.url)
        sid = session_of(await rec.batch("1-first", env, workspace, "FIRST task: run echo one."))
        await rec.interactive(
            "2-resumed-compact-subagent",
            env,
            workspace,
            ["/compact", "SUBAGENT task: delegate it."],
            resume=sid,
            allowed_tools=["Bash", "Agent", "Task"],
        )
        copied = Env(tmp / "h-copied", server.url)
        target = copied.config_dir / transcript(env, sid).relative_to(env.config_dir)
        target.parent.mkdir(parents=True)
        shutil.copy2(transcript(env, sid), target)
        await rec.batch("3-only-main-transcript", copied, workspace, "AFTER task.", resume=sid)
    finally:
        server.stop()
    rec.lines.extend(server.requests)
    return rec


SCENARIOS: dict[str, Callable[[Path], Any]] = {
    "batch": scenario_batch,
    "interactive": scenario_interactive,
    "telemetry": scenario_telemetry,
    "compact_subagent": scenario_compact_subagent,
    "killed": scenario_killed,
}


def cli_version() -> str:
    out = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/data/resume"))
    parser.add_argument("--keep", type=Path, help="keep each scenario's directories under KEEP")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for key in [
        k for k in os.environ if k.startswith(("OTEL_", "LANGFUSE_", "CLAUDE", "ANTHROPIC_"))
    ]:
        del os.environ[key]
    os.environ.pop("TRACEPARENT", None)
    header = {
        "kind": "versions",
        "claude_agent_sdk": claude_agent_sdk.__version__,
        "cli": cli_version(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for name in args.scenarios:
        started = time.monotonic()
        print(f"{name}:", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix=f"resume-{name}-") as tmp:
            if args.keep is not None:
                tmp = str(args.keep / name)
                Path(tmp).mkdir(parents=True)
            rec = asyncio.run(SCENARIOS[name](Path(tmp)))
            # temporary paths are replaced by placeholders, so reruns diff cleanly
            lines = [json.dumps({**header, "scenario": name})]
            lines += [json.dumps(line, default=str).replace(tmp, "$TMP") for line in rec.lines]
        path = args.out / f"{name}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        print(f"{name}: {path} ({time.monotonic() - started:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
