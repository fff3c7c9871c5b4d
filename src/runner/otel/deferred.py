"""Telemetry set up while the session waits for the model, not before the session starts.

Building the export pipeline costs ~80 ms of CPU (imports and objects; the Langfuse SDK path
~0.5 s). Done first, it delays the session by that much; done on a thread during the CLI's start
or while the CLI prepares its first request, it still competes with the CLI for the machine's
cores (measured: +22 ms to the first model request on 2 cores). So it starts once the first model
request is out (the first call event), when the session only waits for the model;
the session's first events wait in a buffer until then:

- `DeferredObserver` stands in for the session observer: it buffers calls until the real one
  is ready, then replays them in order and forwards the rest. At the session's end it waits for
  the build (bounded) so nothing is lost; a build that fails or overruns is one warning.
- `PresetIds` fixes the session span's ids before the span exists, so the CLI can be given the
  session's TRACEPARENT at its start (explicit CLI env wins over the SDK's own injection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from runner.events import CallFailed, CallStarted, QueryResult, RunnerEvent
from runner.types import QueryOutcome, QueryStart, SessionObserver, SessionOutcome, SessionStart

log = logging.getLogger("runner.otel")
START_ON = (CallStarted, CallFailed, QueryResult)
"""Events that mean the first model request is out and answered in part: the session now waits
for the model. (The CLI's `requesting` status comes while it still builds the request.)"""
BUILD_WAIT_S = 10.0
"""How long the session's end waits for a build still under way (a cold Langfuse import)."""


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


class DeferredObserver:
    """A SessionObserver whose target is built on a thread by `build`."""

    def __init__(self, build: Callable[[], SessionObserver | None]) -> None:
        self._target: SessionObserver | None = None
        self._buffer: list[tuple[str, Any]] = []
        self._ready = threading.Event()
        self._failed = False
        self._loop: asyncio.AbstractEventLoop | None = None

        def run() -> None:
            try:
                self._target = build()
            except Exception as exc:
                self._failed = True
                log.warning(
                    "telemetry: setup failed (%s: %s); the session runs without telemetry",
                    type(exc).__name__,
                    exc,
                )
                log.debug("telemetry setup failure", exc_info=True)
            finally:
                self._ready.set()
                loop = self._loop
                if loop is not None:  # replay now, not at the next event (a long tool run)
                    with contextlib.suppress(RuntimeError):  # the loop is closed
                        loop.call_soon_threadsafe(self._drain)

        self._thread = threading.Thread(target=run, name="telemetry-setup", daemon=True)

    def start(self) -> None:
        """Start the build (idempotent)."""
        if not self._thread.is_alive() and not self._ready.is_set():
            with contextlib.suppress(RuntimeError):  # started already
                self._thread.start()

    def wait(self, timeout_s: float) -> bool:
        """Wait for the build; True when it finished (successfully or not)."""
        return self._ready.wait(timeout_s)

    def _call(self, name: str, argument: Any) -> None:
        if not self._ready.is_set():
            if self._loop is None:
                with contextlib.suppress(RuntimeError):  # no loop: replayed at the next call
                    self._loop = asyncio.get_running_loop()
            self._buffer.append((name, argument))
            return
        self._drain()
        if self._target is not None:
            getattr(self._target, name)(argument)

    def _drain(self) -> None:
        """Replay the buffered calls, in order, to the built observer (on the loop's thread)."""
        target = self._target
        buffered, self._buffer = self._buffer, []
        if target is not None:
            for method, value in buffered:
                getattr(target, method)(value)

    def on_session_start(self, event: SessionStart) -> None:
        self._call("on_session_start", event)

    def on_query_start(self, event: QueryStart) -> None:
        self._call("on_query_start", event)

    def on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, START_ON):
            self.start()
        self._call("on_event", event)

    def on_query_end(self, event: QueryOutcome) -> None:
        self.start()
        self._call("on_query_end", event)

    def on_session_end(self, event: SessionOutcome) -> None:
        self.start()
        if not self.wait(BUILD_WAIT_S) and not self._failed:
            log.warning(
                "telemetry: setup still running after the session (%gs); its spans are lost",
                BUILD_WAIT_S,
            )
            return
        self._call("on_session_end", event)
