"""The relay: an OTLP/HTTP receiver on 127.0.0.1 that takes the Claude Code CLI's own telemetry,
so the runner stays the pod's only exporter and the CLI never holds a telemetry credential.

Threads and bounds:

    CLI ──POST /v1/{traces,logs,metrics}──▶ HTTP thread ──(bytes)──▶ bounded queue ──▶ decoder
                                            answers 200 at once       ≤ max_queued_bytes      │
                                                                                              ▼
                                                                      sink(CliSpan|CliLogEvent)

- The HTTP thread only reads the body and queues it: it never decodes (except the uncounted
  late path after `stop`) and never calls the sink, so a slow sink cannot slow the CLI down.
- The queue is bounded in bytes: a request that does not fit is dropped whole, counted, and
  warned about once. Bodies over `max_body_bytes` are refused (413) without being read in full.
- The decoder thread turns bodies into records and hands each to `sink`. The sink's contract:
  return quickly and never raise (enqueue, then work elsewhere); an exception is counted and
  warned about once, and the relay goes on.
- `stop(timeout_s)` closes the gate: it waits (bounded) for what was queued to reach the sink;
  what did not make it, and everything that arrives afterwards, is counted as late and warned
  about once. The listener keeps answering 200 after `stop` (the CLI may still be flushing as it
  exits, and a refused connection would only make it retry) until `close()`, which is bounded.

Metrics: the CLI's metrics (`claude_code.cost.usage`, `token.usage`, `session.count`,
`active_time.total`, ...) are counted and dropped. Every figure in them the runner already
exports from its own accounting, and each series is keyed by the CLI's session UUID and hashed
user id (one new series per session in the metrics backend); cli_environment turns them off at
the source. Log events are decoded for the runner to attach as span events.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from runner.cli_telemetry.records import (
    BadPayload,
    CliRecord,
    body_bytes,
    count_metric_points,
    decode_logs,
    decode_spans,
)

log = logging.getLogger("runner.otel")

Signal = Literal["traces", "logs", "metrics"]
PATHS: dict[str, Signal] = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
MAX_BODY_BYTES = 8 * 1024 * 1024
"""One export request; the CLI's are a few kB (5 kB for a 6-span batch, measured)."""
MAX_QUEUED_BYTES = 16 * 1024 * 1024
"""Bodies waiting for the decoder; ~3,000 requests of the CLI's usual size."""
_STOP = object()


@dataclass(frozen=True, kw_only=True)
class RelayCounts:
    """What the relay saw, for the session's final report."""

    requests: int = 0
    """Export requests accepted (all three signals)."""
    spans: int = 0
    """Spans delivered to the sink."""
    log_events: int = 0
    """Log events delivered to the sink."""
    metric_points: int = 0
    """Metric data points received and dropped (by design; see the module docstring)."""
    dropped_requests: int = 0
    """Requests dropped whole because the queue was full."""
    dropped_bytes: int = 0
    rejected_requests: int = 0
    """Requests refused: unknown path, too large, or not OTLP (400/404/413)."""
    late_spans: int = 0
    """Spans that reached the relay after `stop` (or were still queued when it gave up)."""
    late_log_events: int = 0
    sink_errors: int = 0


@dataclass
class _Queued:
    signal: Signal
    body: bytes
    json_body: bool


class CliTelemetryRelay:
    """Receives the CLI's OTLP/HTTP on 127.0.0.1 and hands typed records to `sink`.

    Usage: `relay = CliTelemetryRelay(sink).start()`; give the CLI `relay.endpoint`; at the
    session's end `counts = relay.stop(timeout_s)`; `relay.close()` when the process is done."""

    def __init__(
        self,
        sink: Callable[[CliRecord], None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
    ) -> None:
        self._sink = sink
        self._max_body = max_body_bytes
        self._max_queued = max_queued_bytes
        self._queue: queue.SimpleQueue[_Queued | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued_bytes = 0
        self._counts: dict[str, int] = dict.fromkeys(RelayCounts.__dataclass_fields__, 0)
        self._warned: set[str] = set()
        self._stopped = False
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self._server_thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="cli-telemetry-relay",
            daemon=True,
        )
        self._decoder = threading.Thread(
            target=self._decode_loop, name="cli-telemetry-decoder", daemon=True
        )
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------------

    def connect(self, sink: Callable[[CliRecord], None]) -> None:
        """Deliver records to `sink` from now on (the session's event stream, once it exists:
        before the CLI starts)."""
        self._sink = sink

    def start(self) -> CliTelemetryRelay:
        self._server_thread.start()
        self._decoder.start()
        return self

    @property
    def endpoint(self) -> str:
        """The OTLP/HTTP base URL for the CLI (`OTEL_EXPORTER_OTLP_ENDPOINT`)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self, timeout_s: float) -> RelayCounts:
        """Deliver what is queued within `timeout_s`, then count the rest and all later arrivals
        as late. Never blocks longer than `timeout_s`; idempotent."""
        with self._lock:
            already = self._stopped
            self._stopped = True
        if not already:
            self._queue.put(_STOP)
        if self._decoder.ident is not None:  # started
            self._decoder.join(max(0.0, timeout_s))
        if self._decoder.is_alive():
            self._count_late_in_queue()
        return self.counts()

    def close(self) -> None:
        """Stop listening (bounded by the server's 0.1 s poll); idempotent. Implies `stop(0)`."""
        if self._closed:
            return
        self._closed = True
        self.stop(0)
        if self._server_thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def counts(self) -> RelayCounts:
        with self._lock:
            return RelayCounts(**self._counts)

    # --- the HTTP thread --------------------------------------------------------------------

    def _accept(self, signal: Signal, raw: bytes, encoding: str, json_body: bool) -> int:
        """Called on the HTTP thread with a request's body: queue it; return the HTTP status."""
        try:
            body = body_bytes(raw, encoding)
        except BadPayload as exc:
            self._reject(str(exc))
            return 400
        late = full = False
        with self._lock:
            if self._stopped:
                late = True
            elif self._queued_bytes + len(body) > self._max_queued:
                self._counts["dropped_requests"] += 1
                self._counts["dropped_bytes"] += len(body)
                full = True
            else:
                self._queued_bytes += len(body)
                self._counts["requests"] += 1
                # under the lock: nothing is queued behind `stop`'s end marker
                self._queue.put(_Queued(signal, body, json_body))
        if late:
            self._count_late(signal, body, json_body)
        elif full:
            self._warn_once(
                "full",
                "telemetry: Claude Code's telemetry comes faster than the runner takes it; "
                "dropping what does not fit (%d MiB queued)",
                self._max_queued // (1024 * 1024),
            )
        return 200  # after a drop too: a retry would only add to the load; the drop is counted

    def _reject(self, reason: str) -> None:
        with self._lock:
            self._counts["rejected_requests"] += 1
        self._warn_once("rejected", "telemetry: refused a request from Claude Code (%s)", reason)

    # --- the decoder thread -----------------------------------------------------------------

    def _decode_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, _Queued)
            with self._lock:
                self._queued_bytes -= len(item.body)
            self._deliver(item)

    def _deliver(self, item: _Queued) -> None:
        try:
            records = _decode(item.signal, item.body, item.json_body)
        except BadPayload as exc:
            self._reject(str(exc))
            return
        if isinstance(records, int):
            self._add("metric_points", records)
            return
        delivered = {"spans": 0, "log_events": 0}
        for record in records:
            try:
                self._sink(record)
            except Exception as exc:  # noqa: BLE001 - the sink must not raise; keep relaying
                self._add("sink_errors", 1)
                name = type(exc).__name__
                self._warn_once("sink", "telemetry: lost a Claude Code record (%s: %s)", name, exc)
                continue
            delivered["spans" if item.signal == "traces" else "log_events"] += 1
        for key, value in delivered.items():
            self._add(key, value)

    # --- late and counted ---------------------------------------------------------------------

    def _count_late_in_queue(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Queued):
                self._count_late(item.signal, item.body, item.json_body)

    def _count_late(self, signal: Signal, body: bytes, json_body: bool) -> None:
        if signal == "metrics":
            return
        try:
            records = _decode(signal, body, json_body)
        except BadPayload:
            return
        count = records if isinstance(records, int) else len(records)
        self._add("late_spans" if signal == "traces" else "late_log_events", count)
        self._warn_once(
            "late",
            "telemetry: Claude Code's telemetry arrived after the session's telemetry was closed "
            "(RUNNER_EXIT_BUDGET); it is counted, not exported",
        )

    def _add(self, key: str, value: int) -> None:
        with self._lock:
            self._counts[key] += value

    def _warn_once(self, kind: str, message: str, *args: Any) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        log.warning(message, *args)


def _decode(signal: Signal, body: bytes, json_body: bool) -> list[CliRecord] | int:
    if signal == "traces":
        return list(decode_spans(body, json_body=json_body))
    if signal == "logs":
        return list(decode_logs(body, json_body=json_body))
    return count_metric_points(body, json_body=json_body)


def _handler(relay: CliTelemetryRelay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:
            signal = PATHS.get(self.path.split("?", 1)[0])
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            content_type = (self.headers.get("Content-Type") or "").lower()
            json_body = "json" in content_type
            if signal is None:
                relay._reject(f"unknown path {self.path[:80]!r}")
                self._answer(404, json_body, close=True)
                return
            if length < 0 or length > relay._max_body:
                relay._reject(f"body of {length} bytes")
                self._answer(413, json_body, close=True)
                return
            raw = self.rfile.read(length)
            status = relay._accept(
                signal, raw, self.headers.get("Content-Encoding") or "", json_body
            )
            self._answer(status, json_body)

        def _answer(self, status: int, json_body: bool, close: bool = False) -> None:
            payload = b"{}" if json_body else b""
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if json_body else "application/x-protobuf"
            )
            self.send_header("Content-Length", str(len(payload)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

    return Handler
