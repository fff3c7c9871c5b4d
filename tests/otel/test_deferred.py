"""Telemetry built beside the session: calls made before the build are replayed in order, the
replay does not wait for the next event, a failed build is one warning and nothing else, and
the preset ids are the session span's."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from runner.config import Tenancy
from runner.events import CallStarted, RequestSent
from runner.otel.deferred import DeferredObserver, PresetIds
from runner.types import QueryStart, SessionOutcome, SessionStart, Usage

START = SessionStart("s", "m", False, "/w", Tenancy(), "p", 1)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda value: self.calls.append((name, value))


def test_calls_wait_for_the_first_answer_then_replay_in_order() -> None:
    gate = threading.Event()
    target = Recorder()

    def build() -> Any:
        gate.wait(5)
        return target

    deferred = DeferredObserver(build)
    deferred.on_session_start(START)
    deferred.on_query_start(QueryStart(1, "p", 2))
    deferred.on_event(RequestSent(3))  # not yet: the CLI still builds its request
    assert not deferred._thread.is_alive()
    started = CallStarted(None, "m1", "m", Usage(), 4, True)
    deferred.on_event(started)  # the model is answering: build now
    gate.set()
    assert deferred.wait(5)
    deferred.on_session_end(SessionOutcome("success", 0, 9))
    assert [name for name, _ in target.calls] == [
        "on_session_start",
        "on_query_start",
        "on_event",
        "on_event",
        "on_session_end",
    ]
    assert target.calls[3][1] is started


def test_the_replay_runs_on_the_loop_without_waiting_for_another_event() -> None:
    target = Recorder()

    async def session() -> None:
        deferred = DeferredObserver(lambda: target)
        deferred.on_session_start(START)
        deferred.on_event(CallStarted(None, "m1", "m", Usage(), 4, True))
        for _ in range(100):  # a long tool run: no event arrives
            await asyncio.sleep(0.01)
            if target.calls:
                break

    asyncio.run(session())
    assert [name for name, _ in target.calls] == ["on_session_start", "on_event"]


def test_a_failed_build_is_one_warning_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def build() -> Any:
        raise RuntimeError("no exporter")

    deferred = DeferredObserver(build)
    with caplog.at_level(logging.WARNING, logger="runner.otel"):
        deferred.on_session_start(START)
        deferred.on_session_end(SessionOutcome("success", 0, 9))  # starts, waits, drops
    assert [r.message for r in caplog.records if "setup failed" in r.message] == [
        "telemetry: setup failed (RuntimeError: no exporter); the session runs without telemetry"
    ]


def test_preset_ids_are_the_first_spans_and_the_rest_are_random() -> None:
    provider = TracerProvider(id_generator=PresetIds(0xABC, 0xDEF))
    tracer = provider.get_tracer("t")
    first = tracer.start_span("session")
    second = tracer.start_span("other")
    assert (first.get_span_context().trace_id, first.get_span_context().span_id) == (0xABC, 0xDEF)
    assert second.get_span_context().trace_id not in (0, 0xABC)
    assert second.get_span_context().span_id not in (0, 0xDEF)
