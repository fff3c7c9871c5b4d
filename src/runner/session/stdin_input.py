"""User input on stdin, in interactive mode: JSON lines `{"type":"user_message","text":"..."}` and
`{"type":"end_session"}`; a malformed line is reported and skipped, EOF ends the session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

log = logging.getLogger("runner")

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
