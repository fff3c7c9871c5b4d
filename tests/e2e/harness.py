"""Drive the real `claude-runner` process against a scripted OfflineMessagesServer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.offline import OfflineMessagesServer, Script, offline_environment
from runner.offline.script import Step
from runner.offline.server import Jitter

# Sonnet 4.5 list prices, USD per million tokens: what Claude Code charges for the test model
# (measured: 1-hour cache writes at 2x input).
PRICE = {
    "input": 3.0,
    "output": 15.0,
    "cache_write": 3.75,
    "cache_write_1h": 6.0,
    "cache_read": 0.3,
}


def expected_cost(usage: dict[str, Any]) -> float:
    """The cost Claude Code reports for one call of the test model with this (raw) usage."""
    one_hour = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0)
    return (
        usage["input_tokens"] * PRICE["input"]
        + usage["output_tokens"] * PRICE["output"]
        + (usage["cache_creation_input_tokens"] - one_hour) * PRICE["cache_write"]
        + one_hour * PRICE["cache_write_1h"]
        + usage["cache_read_input_tokens"] * PRICE["cache_read"]
    ) / 1e6


@dataclass
class Finished:
    code: int
    events: list[dict[str, Any]]
    stderr: str
    server: OfflineMessagesServer
    elapsed_s: float
    stdout_raw: str = ""
    exit_after_end_s: float | None = None
    """Seconds from the session_end event on stdout to the process's exit."""

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def end(self) -> dict[str, Any]:
        ends = self.of_type("session_end")
        assert len(ends) == 1, f"expected one session_end, got {len(ends)}: {self.stderr}"
        return ends[0]


@dataclass
class Running:
    proc: subprocess.Popen[str]
    server: OfflineMessagesServer
    started: float
    events: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.raw.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"type": "<not json>", "line": line})
                if self.events[-1].get("type") == "session_end":
                    self.ended_at = time.monotonic()
                self._cond.notify_all()

    def wait_for(self, kind: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event.get("type") == kind:
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no {kind} event; got {[e['type'] for e in self.events]}")
                self._cond.wait(min(left, 0.2))

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("condition not reached")
            time.sleep(0.05)

    def send(self, payload: dict[str, Any] | str) -> None:
        assert self.proc.stdin is not None
        line = payload if isinstance(payload, str) else json.dumps(payload)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def finish(self, timeout: float = 90) -> Finished:
        try:
            self.proc.wait(timeout=timeout)
            exited_at = time.monotonic()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.server.stop()
        self._reader.join(timeout=5)
        assert self.proc.stderr is not None
        return Finished(
            code=self.proc.returncode,
            events=list(self.events),
            stderr=self.proc.stderr.read(),
            server=self.server,
            elapsed_s=exited_at - self.started,
            stdout_raw="".join(self.raw),
            exit_after_end_s=None if self.ended_at is None else exited_at - self.ended_at,
        )

    _reader: threading.Thread = field(init=False)
    ended_at: float | None = None


class Runner:
    """Starts `python -m runner run` with an isolated HOME/workspace under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.workspace.mkdir(exist_ok=True)

    def env(self, server_url: str, **overrides: str | None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
        env = {
            **base,
            **offline_environment(server_url, self.root),
            "SESSION_ID": "e2e-session",
            "PROMPT": "Do the scripted task.",
            "WORKSPACE_PATH": str(self.workspace),
            "ALLOWED_TOOLS": "Bash",
            "TIMEOUT": "60",
            "OTEL_SDK_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(overrides)
        return {k: v for k, v in env.items() if v is not None}

    def start(
        self,
        script: Script | list[Step],
        *,
        args: tuple[str, ...] = (),
        stdin: bool = False,
        api_key: str | None = None,
        jitter: Jitter | None = None,
        **env: str | None,
    ) -> Running:
        """`api_key`: the server refuses any other key (HTTP 401, as the real API does);
        `jitter`: the server answers after seeded random delays."""
        server = OfflineMessagesServer(script, api_key=api_key, jitter=jitter).start()
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "run", *args],
            env=self.env(server.url, **env),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        running = Running(proc=proc, server=server, started=time.monotonic())
        running._reader = threading.Thread(target=running._pump, daemon=True)
        running._reader.start()
        return running

    def run(self, script: Script | list[Step], **kw: Any) -> Finished:
        return self.start(script, **kw).finish()
