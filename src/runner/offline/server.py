"""A local Messages API server that streams scripted answers, for the demo and the tests.

It speaks what the Claude Code CLI needs: `POST /v1/messages` with `stream: true` answered as
server-sent events (`message_start` with usage, content blocks with deltas, `message_delta` with
the stop reason and output usage, `message_stop`), or an HTTP error in the API's error format.
It binds 127.0.0.1 only, and records every call it served so tests can compare.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from runner.offline.script import Block, Failure, Reply, Script, Step, Text, ToolUse

DEFAULT_MODEL = "claude-sonnet-4-5"


@dataclass(frozen=True)
class Jitter:
    """Seeded random delays: before each answer (up to `answer_s`) and between the events of a
    stream (up to `event_s`), so tests meet the orders a real model's timing makes between
    Claude Code's messages, hooks, transcripts and task notices. The same seed draws the same
    delays in the same order of requests."""

    seed: int
    answer_s: float = 0.3
    event_s: float = 0.03


@dataclass
class ServedCall:
    """One request the server answered."""

    path: str
    model: str
    status: int
    step: int | None
    """Index of the script step served; None when the script was exhausted."""
    message_id: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None
    tool_use_ids: list[str] = field(default_factory=list)
    last_user_text: str = ""
    started: float = 0.0
    ended: float = 0.0
    user_texts: list[str] = field(default_factory=list)
    """The text of every user message the request carried, in order (the history it sent)."""


def _last_user_text(body: dict[str, Any]) -> str:
    """Text of the request's last user turn (text blocks and tool results)."""
    messages = body.get("messages") or []
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        parts: list[str] = []
        for block in content or []:
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, str):
                    parts.append(inner)
                elif isinstance(inner, list):
                    parts.extend(str(b.get("text", "")) for b in inner if isinstance(b, dict))
        return "\n".join(parts)
    return ""


class OfflineMessagesServer:
    """Serves a `Script` on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        script: Script | list[Step],
        *,
        port: int = 0,
        api_key: str | None = None,
        jitter: Jitter | None = None,
    ) -> None:
        """`api_key`: when set, every request must carry it (`x-api-key`, or a bearer
        token) or is answered 401 `authentication_error`, as the real API does. `jitter`:
        seeded random delays (see `Jitter`)."""
        self.script = script if isinstance(script, Script) else Script(list(script))
        self.api_key = api_key
        self.jitter = jitter
        self._random = random.Random(jitter.seed if jitter else 0)
        self.served: list[ServedCall] = []
        self._taken = [False] * len(self.script.steps)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered in full."""
        with self._lock:
            return self._in_flight

    @property
    def exhausted_calls(self) -> list[ServedCall]:
        return [c for c in self.served if c.step is None]

    @property
    def message_calls(self) -> list[ServedCall]:
        """Calls that streamed a message (status 200)."""
        return [c for c in self.served if c.status == 200 and c.step is not None]

    def start(self) -> OfflineMessagesServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="offline-messages-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; idempotent."""
        if self._thread is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> OfflineMessagesServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _take(self, user_text: str) -> tuple[int | None, Step | None]:
        with self._lock:
            for index, step in enumerate(self.script.steps):
                if self._taken[index]:
                    continue
                if step.match is not None and step.match not in user_text:
                    continue
                self._taken[index] = True
                return index, step
        return None, None

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_offline_{next(self._ids):04d}"

    def _record(self, call: ServedCall) -> None:
        with self._lock:
            self.served.append(call)

    def _delay(self, most_s: float) -> None:
        """A seeded random pause of up to `most_s` (jitter mode only)."""
        if self.jitter is None or most_s <= 0:
            return
        with self._lock:
            pause = self._random.uniform(0, most_s)
        time.sleep(pause)

    def _enter(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # quiet: the served log is the record

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _authorized(self, path: str) -> bool:
                if server.api_key is None:
                    return True
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if server.api_key in (self.headers.get("x-api-key"), bearer):
                    return True
                server._record(ServedCall(path=path, model="", status=401, step=None))
                self._json(401, _error_body("authentication_error", "invalid x-api-key"))
                return False

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if not self._authorized(path):
                    return
                if path.endswith("/v1/models"):
                    models = [{"type": "model", "id": DEFAULT_MODEL, "display_name": "Sonnet"}]
                    self._json(200, {"data": models, "has_more": False})
                    return
                self._json(404, {"type": "error", "error": {"type": "not_found_error"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not self._authorized(self.path.split("?", 1)[0]):
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.split("?", 1)[0]
                model = str(body.get("model") or DEFAULT_MODEL)
                if not path.endswith("/v1/messages"):
                    server._record(ServedCall(path=path, model=model, status=404, step=None))
                    self._json(404, {"type": "error", "error": {"type": "not_found_error"}})
                    return
                user_text = _last_user_text(body)
                index, step = server._take(user_text)
                call = ServedCall(
                    path=path,
                    model=model,
                    status=500,
                    step=index,
                    last_user_text=user_text,
                    started=time.time(),
                    user_texts=_user_texts(body),
                )
                server._enter(1)
                try:
                    if step is None:
                        self._json(500, _error_body("api_error", "offline script exhausted"))
                    elif isinstance(step, Failure):
                        time.sleep(step.delay_s)
                        call.status = step.status
                        self._json(step.status, _error_body(step.error_type, step.message))
                    else:
                        call.status = 200
                        self._stream(step, call)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    server._enter(-1)
                    call.ended = time.time()
                    server._record(call)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status in (429, 529):
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, call: ServedCall) -> None:
                time.sleep(reply.delay_s)
                if server.jitter is not None:
                    server._delay(server.jitter.answer_s)
                message_id = server._next_id("msg")
                model = reply.model or call.model
                call.model, call.message_id = model, message_id
                call.usage = reply.usage.as_dict()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                self._event(
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {
                            "id": message_id,
                            "type": "message",
                            "role": "assistant",
                            "model": model,
                            "content": [],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": reply.usage.start_snapshot(),
                        },
                    },
                )
                for index, block in enumerate(reply.content):
                    if reply.cut_after_blocks is not None and index >= reply.cut_after_blocks:
                        call.status = 0  # connection cut mid-response
                        return
                    self._block(index, block, call)
                if reply.cut_after_blocks is not None and reply.cut_after_blocks <= len(
                    reply.content
                ):
                    call.status = 0
                    return
                call.stop_reason = reply.stop_reason
                self._event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                        "usage": {"output_tokens": reply.usage.output_tokens},
                    },
                )
                self._event("message_stop", {"type": "message_stop"})

            def _block(self, index: int, block: Block, call: ServedCall) -> None:
                if isinstance(block, Text):
                    start: dict[str, Any] = {"type": "text", "text": ""}
                    delta: dict[str, Any] = {"type": "text_delta", "text": block.text}
                else:
                    assert isinstance(block, ToolUse)
                    tool_id = block.id or server._next_id("toolu")
                    call.tool_use_ids.append(tool_id)
                    start = {"type": "tool_use", "id": tool_id, "name": block.name, "input": {}}
                    delta = {"type": "input_json_delta", "partial_json": json.dumps(block.input)}
                self._event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                )
                self._event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
                self._event("content_block_stop", {"type": "content_block_stop", "index": index})

            def _event(self, name: str, payload: dict[str, Any]) -> None:
                if server.jitter is not None:
                    server._delay(server.jitter.event_s)
                self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _user_texts(body: dict[str, Any]) -> list[str]:
    """The text of each user message of a request (text blocks joined; tool results left out)."""
    out: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict)]
            out.append("\n".join(t for t in texts if isinstance(t, str) and t))
    return out
