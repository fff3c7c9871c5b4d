"""Run one session on a fresh event loop, with signal handling and the stdin channel wired."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from runner.config import RunnerConfig
from runner.output.stdout_events import EventWriter
from runner.session.driver import SessionDriver
from runner.session.observers import ObserverGroup
from runner.session.stdin_input import InputChannel
from runner.session.types import SessionObserver, SessionOutcome

if TYPE_CHECKING:
    from runner.cli_telemetry import CliTelemetryRelay
    from runner.scores import Score
    from runner.session.resume import ResumeState

log = logging.getLogger("runner")


def run_session(
    config: RunnerConfig,
    writer: EventWriter,
    observers: Sequence[SessionObserver] = (),
    *,
    stdin: TextIO | None = None,
    cli_relay: CliTelemetryRelay | None = None,
    on_feedback: Callable[[Score], None] | None = None,
    resume: ResumeState | None = None,
) -> SessionOutcome:
    """Run the session described by `config`; stdout events go to `writer`, the stream to
    `observers` too; `cli_relay`: the CLI's own telemetry joins the stream; `on_feedback`:
    takes stdin feedback lines' scores (interactive); `resume`: the earlier run's conversation
    to continue. Returns the outcome; never raises for a failed session."""
    return asyncio.run(_run(config, writer, observers, stdin, cli_relay, on_feedback, resume))


async def _run(
    config: RunnerConfig,
    writer: EventWriter,
    observers: Sequence[SessionObserver],
    stdin: TextIO | None,
    cli_relay: CliTelemetryRelay | None,
    on_feedback: Callable[[Score], None] | None = None,
    resume: ResumeState | None = None,
) -> SessionOutcome:
    def input_error(line: int, message: str) -> None:
        log.warning("stdin line %d skipped: %s", line, message)
        writer.emit("input_error", time.time_ns(), line=line, message=message)

    def feedback(line: int, payload: dict[str, Any]) -> None:
        from runner.scores import ScoreError, parse_feedback

        try:
            score = parse_feedback(payload)
        except ScoreError as exc:
            input_error(line, f"feedback {exc}")
            return
        if score.query is not None and score.query > writer.query:
            input_error(line, f"feedback query: there is no query {score.query} (yet)")
            return
        if score.query is None and writer.query:
            score = dataclasses.replace(score, query=writer.query)
        writer.feedback(time.time_ns(), score)
        if on_feedback is not None:
            on_feedback(score)

    channel = (
        InputChannel(stdin, on_error=input_error, on_feedback=feedback if on_feedback else None)
        if config.interactive
        else None
    )
    driver = SessionDriver(
        config, ObserverGroup([writer, *observers]), channel, cli_relay, resume=resume
    )
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, _stop, driver, signum)
    try:
        return await driver.run()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def _stop(driver: SessionDriver, signum: int) -> None:
    log.warning("received %s: interrupting the session", signal.Signals(signum).name)
    driver.request_stop(signum)
