"""Telemetry off the agent loop: built while the session waits for the model, run on a thread.

Building the export pipeline costs ~80 ms of CPU (imports and objects; the price database
~0.2 s more; the Langfuse SDK path ~0.5 s). Done first, it delays the session by that much; done
while the CLI starts or prepares its first request, it still competes with the CLI for the
machine's cores (measured: +22 ms to the first model request on 2 cores). And turning events
into spans costs 1-35 µs an event (span creation, attributes, prices), which the agent loop
should not pay.

So `TelemetryWorker` stands in for the session observer on the loop: each call is put on a queue
(well under a microsecond) and a worker thread does the rest, in order. The worker builds the
observer once the first model answer has started (the first call event: the session then only
waits for the model), then replays what was queued and follows the stream. At the session's end
`wait()` lets the caller wait for the worker, bounded. A build or observer that fails is one
warning, and the session goes on: the session end still reaches a failed observer, its chance to
end the spans it opened.

`PresetIds` fixes the session span's ids before the span exists, so the CLI can be given the
session's TRACEPARENT at its start (explicit CLI env wins over the SDK's own injection).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from typing import Any, assert_never

from runner.events.types import (
    ApiRetry,
    AssistantText,
    CallFailed,
    CallFinished,
    CallRecorded,
    CallStarted,
    CliCallReported,
    CliHookRan,
    CliToolReported,
    Compacted,
    CompactionStarted,
    QueryResult,
    RequestSent,
    RunnerEvent,
    SessionInitialized,
    SessionStateChanged,
    SubagentCall,
    SubagentFinished,
    SubagentStarted,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
)
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    SessionObserver,
    SessionOutcome,
    SessionStart,
)

log = logging.getLogger("runner.otel")
_END = "on_session_end"


def model_is_answering(event: RunnerEvent) -> bool:
    """The first model request is out and answered in part: the session now waits for the
    model, and telemetry can be built. (The CLI's `requesting` status comes while it still
    builds the request.)"""
    match event:
        case CallStarted() | CallFailed() | QueryResult():
            return True
        case (
            SessionInitialized()
            | RequestSent()
            | CallFinished()
            | SubagentCall()
            | CallRecorded()
            | AssistantText()
            | ToolRequested()
            | ToolStarted()
            | ToolFinished()
            | ToolResult()
            | SubagentStarted()
            | SubagentFinished()
            | TaskStarted()
            | TaskFinished()
            | SessionStateChanged()
            | ApiRetry()
            | CompactionStarted()
            | Compacted()
            | CliCallReported()
            | CliToolReported()
            | CliHookRan()
        ):
            return False
        case _:
            assert_never(event)


def warn_setup_failed(exc: BaseException) -> None:
    """The one warning a telemetry setup failure gives (the session goes on without it)."""
    log.warning(
        "telemetry: setup failed (%s: %s); the session runs without telemetry",
        type(exc).__name__,
        exc,
    )
    log.debug("telemetry setup failure", exc_info=True)


class PresetIds:
    """Hands out the preset trace id and span id first (the session span), then random ids.
    (An IdGenerator by shape: importing the SDK's trace package here would cost ~40 ms of the
    main thread's start.)"""

    def __init__(self, trace_id: int, span_id: int) -> None:
        self._trace_id: int | None = trace_id
        self._span_id: int | None = span_id
        self._lock = threading.Lock()

    def generate_trace_id(self) -> int:
        with self._lock:
            preset, self._trace_id = self._trace_id, None
        return preset if preset is not None else random.getrandbits(128) or 1

    def generate_span_id(self) -> int:
        with self._lock:
            preset, self._span_id = self._span_id, None
        return preset if preset is not None else random.getrandbits(64) or 1

    def is_trace_id_random(self) -> bool:
        """The W3C random flag: our trace ids are random (a joined trace's are its own)."""
        return True


class TelemetryWorker:
    """A SessionObserver that hands every call to a worker thread, which builds the real
    observer with `build` and feeds it in order."""

    def __init__(self, build: Callable[[], SessionObserver | None]) -> None:
        self._build = build
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="telemetry", daemon=True)
        self._started = False

    def start(self) -> None:
        """Start the worker (idempotent)."""
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def wait(self, timeout_s: float) -> bool:
        """Wait until the worker has handled the session's end; True when it has."""
        return self._done.wait(timeout_s)

    # --- SessionObserver (on the agent loop: a queue put each) -----------------------------

    def on_session_start(self, event: SessionStart) -> None:
        self._queue.put(("on_session_start", event))

    def on_query_start(self, event: QueryStart) -> None:
        self._queue.put(("on_query_start", event))

    def on_event(self, event: RunnerEvent) -> None:
        self._queue.put(("on_event", event))
        if not self._started and model_is_answering(event):
            self.start()

    def on_query_end(self, event: QueryOutcome) -> None:
        self._queue.put(("on_query_end", event))
        self.start()

    def on_session_end(self, event: SessionOutcome) -> None:
        self._queue.put((_END, event))
        self.start()

    # --- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        target: SessionObserver | None = None
        try:
            target = self._build()
        except Exception as exc:  # noqa: BLE001 - telemetry never fails a session
            warn_setup_failed(exc)
        broken = False
        try:
            while True:
                name, value = self._queue.get()
                if target is not None and (not broken or name == _END):
                    try:
                        getattr(target, name)(value)
                    except Exception as exc:
                        if not broken:
                            broken = True
                            log.warning(
                                "telemetry failed (%s: %s); it is skipped for the rest of the "
                                "session",
                                type(exc).__name__,
                                exc,
                            )
                            log.debug("telemetry failure", exc_info=True)
                if name == _END:
                    return
        finally:
            self._done.set()
