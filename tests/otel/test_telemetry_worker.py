"""Telemetry off the agent loop: calls queue in order, the worker builds the observer once the
model is answering and replays them, a failed build or observer is one warning and nothing
else, and the preset ids are the session span's."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from runner.accounting.usage import Usage
from runner.config import Tenancy
from runner.events.types import CallStarted, RequestSent
from runner.otel.telemetry_worker import PresetIds, TelemetryWorker
from runner.session.types import QueryStart, SessionOutcome, SessionStart

START = SessionStart(
    session_id="s",
    model="m",
    interactive=False,
    workspace="/w",
    tenancy=Tenancy(),
    prompt="p",
    at_ns=1,
)
END = SessionOutcome(status="success", exit_code=0, at_ns=9)


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_on = fail_on

    def __getattr__(self, name: str) -> Any:
        def record(value: Any) -> None:
            self.calls.append((name, value))
            if name == self.fail_on:
                raise RuntimeError("broken observer")

        return record


def test_calls_queue_until_the_model_answers_then_replay_in_order() -> None:
    gate = threading.Event()
    target = Recorder()

    def build() -> Any:
        gate.wait(5)
        return target

    worker = TelemetryWorker(build)
    worker.on_session_start(START)
    worker.on_query_start(QueryStart(index=1, prompt="p", at_ns=2))
    worker.on_event(RequestSent(at_ns=3))  # not yet: the CLI still builds its request
    assert not worker._started
    started = CallStarted(
        thread=None, message_id="m1", model="m", usage=Usage(), streamed=True, at_ns=4
    )
    worker.on_event(started)  # the model is answering: build now
    gate.set()
    worker.on_session_end(END)
    assert worker.wait(5)
    assert [name for name, _ in target.calls] == [
        "on_session_start",
        "on_query_start",
        "on_event",
        "on_event",
        "on_session_end",
    ]
    assert target.calls[3][1] is started


def test_the_worker_follows_the_stream_without_waiting_for_the_next_event() -> None:
    target = Recorder()
    worker = TelemetryWorker(lambda: target)
    worker.on_session_start(START)
    worker.on_event(
        CallStarted(thread=None, message_id="m1", model="m", usage=Usage(), streamed=True, at_ns=4)
    )
    deadline = time.monotonic() + 5
    while len(target.calls) < 2 and time.monotonic() < deadline:  # a long tool run: no event
        time.sleep(0.01)
    assert [name for name, _ in target.calls] == ["on_session_start", "on_event"]
    worker.on_session_end(END)
    assert worker.wait(5)


def test_a_failed_build_is_one_warning_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def build() -> Any:
        raise RuntimeError("no exporter")

    worker = TelemetryWorker(build)
    with caplog.at_level(logging.WARNING, logger="runner.otel"):
        worker.on_session_start(START)
        worker.on_session_end(END)  # starts the worker; it ends at once
        assert worker.wait(5)
    assert [r.message for r in caplog.records if "setup failed" in r.message] == [
        "telemetry: setup failed (RuntimeError: no exporter); the session runs without telemetry"
    ]


def test_a_failing_observer_is_skipped_but_still_gets_the_session_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = Recorder(fail_on="on_query_start")
    worker = TelemetryWorker(lambda: target)
    with caplog.at_level(logging.WARNING, logger="runner.otel"):
        worker.on_session_start(START)
        worker.on_query_start(QueryStart(index=1, prompt="p", at_ns=2))
        worker.on_event(
            CallStarted(
                thread=None, message_id="m1", model="m", usage=Usage(), streamed=True, at_ns=4
            )
        )
        worker.on_session_end(END)
        assert worker.wait(5)
    assert [name for name, _ in target.calls] == [
        "on_session_start",
        "on_query_start",
        "on_session_end",  # its chance to end the spans it opened
    ]
    assert len([r for r in caplog.records if "skipped" in r.message]) == 1


def test_preset_ids_are_the_first_spans_and_the_rest_are_random() -> None:
    provider = TracerProvider(id_generator=PresetIds(0xABC, 0xDEF))  # type: ignore[arg-type]
    tracer = provider.get_tracer("t")
    first = tracer.start_span("session")
    second = tracer.start_span("other")
    assert (first.get_span_context().trace_id, first.get_span_context().span_id) == (0xABC, 0xDEF)
    assert second.get_span_context().trace_id not in (0, 0xABC)
    assert second.get_span_context().span_id not in (0, 0xDEF)
