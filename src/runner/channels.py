"""The session's I/O channels: JSON-lines events on stdout, JSON-lines user input on stdin.

stdout carries one JSON object per line (schema in README, "stdout events"), so `kubectl logs`
shows the session and a program can follow it. Text in events is redacted and truncated.
stdin, in interactive mode, carries `{"type":"user_message","text":"..."}` and
`{"type":"end_session"}`; a malformed line is reported and skipped, EOF ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from runner.events import (
    ApiRetry,
    AssistantText,
    Compacted,
    RunnerEvent,
    SubagentCall,
    SubagentStarted,
    ToolRequested,
    ToolResult,
)
from runner.redaction import Redactor, default_redactor
from runner.rollup import SubagentRollup, model_breakdown
from runner.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart

log = logging.getLogger("runner")

EVENT_SCHEMA_VERSION = 1


def _ts(at_ns: int) -> str:
    return datetime.fromtimestamp(at_ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")


class EventWriter:
    """A SessionObserver that writes the session as JSON lines (one event per line)."""

    def __init__(self, stream: TextIO | None = None, redactor: Redactor | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._redactor = redactor or default_redactor()
        self._session_id = ""
        self._query = 0
        self._subagents = SubagentRollup()
        self._models: dict[str, Any] = {}
        self._compactions = 0

    def emit(self, event_type: str, at_ns: int, **fields: Any) -> None:
        record = {"type": event_type, "ts": _ts(at_ns), "session_id": self._session_id, **fields}
        if self._query and "query" not in record:
            record["query"] = self._query
        line = json.dumps(record, ensure_ascii=False, default=str)
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # stdout closed: the session goes on
            pass

    def _text(self, value: object) -> str:
        return self._redactor.clean_value(value)

    def on_session_start(self, event: SessionStart) -> None:
        self._session_id = event.session_id
        self.emit(
            "session_start",
            event.at_ns,
            schema=EVENT_SCHEMA_VERSION,
            model=event.model,
            interactive=event.interactive,
            workspace=event.workspace,
            namespace=event.tenancy.namespace,
            project=event.tenancy.project,
            user_id=event.tenancy.user_id,
        )

    def on_query_start(self, event: QueryStart) -> None:
        self._query = event.index
        self.emit("user_message", event.at_ns, text=self._text(event.prompt))

    def on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, SubagentStarted):
            self._subagents.started(event)
        elif isinstance(event, SubagentCall):
            self._subagents.call(event)
        elif isinstance(event, Compacted):
            self._compactions += 1
            self.emit(
                "compaction",
                event.at_ns,
                trigger=event.trigger,
                pre_tokens=event.pre_tokens,
                post_tokens=event.post_tokens,
            )
        elif isinstance(event, ApiRetry):
            self.emit(
                "api_retry",
                event.at_ns,
                attempt=event.attempt,
                max_retries=event.max_retries,
                delay_ms=event.delay_ms,
                error_status=event.status,
                error=self._text(event.error),
            )
        elif isinstance(event, AssistantText):
            if event.kind == "text" and event.text:
                self.emit(
                    "assistant_text",
                    event.at_ns,
                    text=self._text(event.text),
                    parent_tool_use_id=event.thread,
                )
        elif isinstance(event, ToolRequested):
            self.emit(
                "tool_use",
                event.at_ns,
                id=event.tool_use_id,
                name=event.name,
                input=self._text(event.arguments),
                parent_tool_use_id=event.thread,
            )
        elif isinstance(event, ToolResult):
            self.emit(
                "tool_result",
                event.at_ns,
                tool_use_id=event.tool_use_id,
                content=self._text(event.content if event.content is not None else ""),
                is_error=event.is_error,
                parent_tool_use_id=event.thread,
            )

    def on_query_end(self, event: QueryOutcome) -> None:
        self.emit(
            "result",
            event.at_ns,
            subtype=event.subtype,
            is_error=event.is_error,
            num_turns=event.num_turns,
            duration_ms=event.duration_ms,
            usage=event.usage.as_dict(),
            total_cost_usd=event.cost_usd,
            error_type=event.error_type,
            error=self._text(event.error_message) if event.error_message else None,
            api_error_status=event.api_error_status,
            subagents=self._subagents.end_query(),
        )
        if event.model_usage:
            self._models = model_breakdown(event.model_usage)  # cumulative: the last wins

    def on_session_end(self, event: SessionOutcome) -> None:
        if event.error_type:
            extra = {"cli_stderr": list(event.cli_stderr)} if event.cli_stderr else {}
            self.emit(
                "error",
                event.at_ns,
                error_type=event.error_type,
                message=self._text(event.error_message or event.error_type),
                **extra,
            )
        self.emit(
            "session_end",
            event.at_ns,
            query=None,
            status=event.status,
            exit_code=event.exit_code,
            queries=len(event.queries),
            num_turns=event.num_turns,
            duration_ms=event.duration_ms,
            usage=event.usage.as_dict(),
            total_cost_usd=round(event.cost_usd, 12),
            subagents=self._subagents.session(),
            models=self._models,
            compactions=self._compactions,
            peak_rss_mb=_peak_rss_mb(),
        )


def _peak_rss_mb() -> float:
    """The runner process's peak resident memory (the CLI child is not included)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- stdin -------------------------------------------------------------------------------


END_SESSION = None
"""What `InputChannel.next_message()` returns when the session should end."""


def parse_input_line(line: str) -> tuple[str | None, str | None]:
    """Parse one stdin line. Returns (kind, text-or-error): kind is `user_message`,
    `end_session`, `skip` (blank), or None with a one-line error."""
    stripped = line.strip()
    if not stripped:
        return "skip", None
    try:
        payload = json.loads(stripped)
    except ValueError:
        return None, "not JSON; send one object per line, e.g. " + json.dumps(
            {"type": "user_message", "text": "..."}
        )
    if not isinstance(payload, dict):
        return None, "not a JSON object; send e.g. " + json.dumps({"type": "end_session"})
    kind = payload.get("type")
    if kind == "end_session":
        return "end_session", None
    if kind == "user_message":
        text = payload.get("text")
        if isinstance(text, str) and text.strip():
            return "user_message", text
        return None, 'user_message needs a non-empty string "text"'
    return None, f"unknown type {kind!r}; use user_message or end_session"


class InputChannel:
    """Reads user messages from a text stream on a daemon thread (works for pipes and ttys).

    Malformed lines are reported through `on_error` and skipped; EOF and end_session both end
    the session.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        on_error: Callable[[int, str], None] | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._on_error = on_error or (lambda n, msg: log.warning("stdin line %d: %s", n, msg))
        self._queue: asyncio.Queue[str | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        threading.Thread(target=self._pump, name="stdin-reader", daemon=True).start()

    def _put(self, item: str | None) -> None:
        assert self._loop is not None and self._queue is not None
        with contextlib.suppress(RuntimeError):  # loop closed: the session is over
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _pump(self) -> None:
        number = 0
        try:
            for line in self._stream:
                number += 1
                kind, value = parse_input_line(line)
                if kind == "user_message":
                    self._put(value)
                elif kind == "end_session":
                    break
                elif kind is None:
                    self._report(number, value or "malformed")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self._report(number + 1, f"unreadable input ({type(exc).__name__}); input closed")
        self._put(END_SESSION)

    def _report(self, number: int, message: str) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._on_error, number, message)

    async def next_message(self, timeout_s: float | None) -> str | None:
        """The next user message, END_SESSION at EOF/end_session; TimeoutError when idle."""
        assert self._queue is not None, "start() first"
        if timeout_s is None:
            return await self._queue.get()
        async with asyncio.timeout(timeout_s):
            return await self._queue.get()
