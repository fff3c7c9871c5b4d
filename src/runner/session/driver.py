"""The session driver: runs one Claude Agent SDK session and hands its stream to an observer.

It builds `ClaudeAgentOptions` from `RunnerConfig`, drives a `ClaudeSDKClient` through one query
(batch) or many (interactive), enforces TIMEOUT and IDLE_TIMEOUT, turns SIGTERM/SIGINT into a
clean interrupt, and always ends with exactly one `on_session_end`. It knows nothing of spans.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from runner import environment_variables as ev
from runner.config import RunnerConfig
from runner.errors import (
    BudgetExceeded,
    ConfigError,
    IdleTimeout,
    ModelError,
    RunnerError,
    SessionInterrupted,
    SessionTimeout,
)
from runner.events.types import (
    QueryResult,
)
from runner.session.api_retries import RetryWatch
from runner.session.cli_stderr import StderrTail
from runner.session.event_stream import EventStream
from runner.session.options import agent_options
from runner.session.query_watch import QueryWatch
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    SessionObserver,
    SessionOutcome,
    SessionStart,
    SessionStatus,
)

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

    from runner.cli_telemetry import CliRecord, CliTelemetryRelay
    from runner.session.resume import ResumeState
    from runner.session.stdin_input import InputChannel

log = logging.getLogger("runner")

INTERRUPT_GRACE_S = 2.0
"""How long to wait for the CLI to acknowledge an interrupt before leaving the client."""
CLI_SETTLE_S = 1.5
"""With the CLI's telemetry relayed: how long a query's end may wait for the CLI's records of
its calls (it exports every tenth of a second: runner.otel.export.cli_environment)."""
CLI_QUIET_S = 0.15
"""... and then for its log events (hooks), exported on a timer of their own: until the relay
has been quiet this long."""
POLL_S = 0.1
"""While a query waits for a message, how often stopped subagents' transcripts are looked at."""
CLOSE_GRACE_S = 15.0
"""Beyond TIMEOUT, how long starting and closing the CLI may take before the session is cut."""

_STATUS: dict[type[RunnerError], SessionStatus] = {
    SessionTimeout: "timeout",
    IdleTimeout: "idle_timeout",
    SessionInterrupted: "interrupted",
    ModelError: "model_error",
    BudgetExceeded: "budget_exceeded",
}
BUDGET_SUBTYPE = "error_max_budget_usd"


class SessionDriver:
    """Runs one session. `run()` never raises for session failures: it returns the outcome."""

    def __init__(
        self,
        config: RunnerConfig,
        observer: SessionObserver,
        input_channel: InputChannel | None = None,
        cli_relay: CliTelemetryRelay | None = None,
        resume: ResumeState | None = None,
    ) -> None:
        """`resume`: the earlier run's conversation to continue (runner.session.resume)."""
        self.config = config
        self._resume = resume
        self.observer = observer
        self.input = input_channel
        self._queries: list[QueryOutcome] = []
        self._stop_signal: int | None = None
        self._task: asyncio.Task[Any] | None = None
        self._open_query: int | None = None
        self._stream = EventStream(
            observer,
            session_model=config.model,
            baseline=resume.baseline if resume is not None else None,
        )
        self._cli_relay = cli_relay
        self._retries = RetryWatch()
        self.stderr = StderrTail()

    # --- public -------------------------------------------------------------------------

    def request_stop(self, signum: int) -> None:
        """Ask the running session to stop (from a signal handler on the loop)."""
        if self._stop_signal is None:
            self._stop_signal = signum
            if self._task is not None and not self._task.done():
                self._task.cancel()

    async def run(self) -> SessionOutcome:
        started = time.monotonic()
        cfg = self.config
        if self._cli_relay is not None:  # before the CLI starts: its records reach the stream
            self._cli_relay.connect(_on_loop(asyncio.get_running_loop(), self._stream))
        self.observer.on_session_start(
            SessionStart(
                session_id=cfg.session_id,
                model=cfg.model,
                interactive=cfg.interactive,
                workspace=str(cfg.workspace),
                tenancy=cfg.tenancy,
                prompt=cfg.prompt,
                at_ns=time.time_ns(),
                resume=self._resume.info if self._resume is not None else None,
            )
        )
        error: RunnerError | None = None
        # TIMEOUT bounds the conversation inside the client (with a clean interrupt); this outer
        # bound also covers a CLI that hangs while starting or closing.
        outer = None if cfg.timeout_s is None else cfg.timeout_s + CLOSE_GRACE_S
        try:
            self._task = asyncio.ensure_future(self._run_client())
            async with asyncio.timeout(outer):
                await self._task
        except TimeoutError:
            error = SessionTimeout(f"session exceeded TIMEOUT={cfg.timeout_s:g}s")
        except asyncio.CancelledError:
            if self._stop_signal is None:
                raise
            error = SessionInterrupted(self._stop_signal)
        except RunnerError as exc:
            error = exc
        except Exception as exc:  # the CLI crashed or the SDK failed
            error = self._resume_refused(exc)
            if error is None:
                said = self.stderr.summary()
                error = RunnerError(
                    f"{type(exc).__name__}: {exc}" + (f"; the CLI said: {said}" if said else "")
                )
                log.debug("session failed", exc_info=True)
        finally:
            if error is not None:
                self._end_open_query(error)
            outcome = SessionOutcome(
                status="success" if error is None else _STATUS.get(type(error), "error"),
                exit_code=0 if error is None else error.exit_code,
                at_ns=time.time_ns(),
                queries=tuple(self._queries),
                error_type=None if error is None else error.error_type,
                error_message=None if error is None else str(error),
                duration_ms=int((time.monotonic() - started) * 1000),
                cli_stderr=tuple(self.stderr.lines) if error is not None else (),
                figures=self._stream.session_figures(),
                resume=self._resume.info if self._resume is not None else None,
                reported_cumulative_usd=self._stream.ledger.reported_cumulative_usd,
            )
            self.observer.on_session_end(outcome)
        return outcome

    def _resume_refused(self, exc: Exception) -> ConfigError | None:
        """A resume the CLI refused (it found no such conversation): a configuration error."""
        from runner.session.resume import is_missing_conversation

        if self._resume is None or not is_missing_conversation(exc):
            return None
        sid = self._resume.info.claude_session_id
        return ConfigError(
            f"{ev.IS_RESUME}=true but the Claude Code CLI found no conversation {sid}: restore "
            f"{ev.CLAUDE_CONFIG_DIR} (at least projects/*/{sid}.jsonl) from the earlier run, or "
            f"set {ev.RESUME_SESSION_ID} to the session to continue"
        )

    # --- the client ---------------------------------------------------------------------

    async def _run_client(self) -> None:
        from claude_agent_sdk import ClaudeSDKClient

        # The credential check runs while the CLI starts (~1 s): it costs the session nothing.
        preflight = asyncio.ensure_future(self._preflight()) if self.config.preflight else None
        try:
            async with ClaudeSDKClient(self._options()) as client:
                if preflight is not None:
                    await preflight
                await self._run_conversation(client)
        finally:
            if preflight is not None and not preflight.done():
                preflight.cancel()

    async def _preflight(self) -> None:
        import os

        from runner.session.preflight import check_model_access

        result = await asyncio.to_thread(check_model_access, {**os.environ, **self.config.cli_env})
        if result.fatal:
            raise ModelError(result.message, status=result.status, kind=result.verdict)
        log.debug("model credentials: %s: %s", result.verdict, result.message)

    async def _run_conversation(self, client: ClaudeSDKClient) -> None:
        try:
            async with asyncio.timeout(self.config.timeout_s):
                await self._converse(client)
        except TimeoutError:
            await self._interrupt(client)
            limit = self.config.timeout_s
            raise SessionTimeout(f"session exceeded TIMEOUT={limit:g}s") from None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            await self._interrupt(client)
            raise

    async def _interrupt(self, client: ClaudeSDKClient) -> None:
        """Make the CLI drop its in-flight request so the client can close at once."""
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(client.interrupt(), INTERRUPT_GRACE_S)

    async def _converse(self, client: ClaudeSDKClient) -> None:
        prompt = self.config.prompt
        if self.config.interactive and self.input is not None:
            self.input.start()
            if prompt is None:
                prompt = await self._next_user_message()
        index = 0
        while prompt is not None:
            index += 1
            await self._query(client, index, prompt)
            if not self.config.interactive or self.input is None:
                break
            prompt = await self._next_user_message()

    async def _next_user_message(self) -> str | None:
        assert self.input is not None
        limit = self.config.idle_timeout_s
        try:
            return await self.input.next_message(limit)
        except TimeoutError:
            raise IdleTimeout(f"no user message for IDLE_TIMEOUT={limit:g}s") from None

    async def _query(self, client: ClaudeSDKClient, index: int, prompt: str) -> None:
        """One query. It ends at a result when no background task (a subagent started with
        run_in_background) is still running: the CLI answers a finished background task with
        a further turn and a further result, which belong to this query."""
        self._open_query = index
        self._stream.start_query(QueryStart(index=index, prompt=prompt, at_ns=time.time_ns()))
        await client.query(prompt)
        watch = await self._read_query(client, index)
        if not watch.results:
            raise RunnerError("the Claude Code CLI ended the query without a result")
        await self._wait_for_cli()
        outcome = self._outcome(index, watch.results, watch.api_error)
        outcome = self._finish_query(outcome)
        if outcome.is_error:
            detail = outcome.error_message or outcome.subtype or "query failed"
            if outcome.subtype == BUDGET_SUBTYPE:
                spent = outcome.cumulative_cost_usd or 0.0
                raise BudgetExceeded(
                    f"MAX_BUDGET_USD={self.config.max_budget_usd:g} reached: the session has cost "
                    f"${spent:.6f} (Claude Code stops after the call that crosses it): raise "
                    f"MAX_BUDGET_USD to let such a session finish"
                )
            if outcome.error_type == ModelError.error_type:
                raise ModelError(detail, status=outcome.api_error_status, kind=watch.api_error)
            raise RunnerError(detail)

    async def _read_query(self, client: ClaudeSDKClient, index: int) -> QueryWatch:
        """Hand the query's messages on until it is done (QueryWatch): its result, and after
        it whatever Claude Code still owes, each wait bounded unless Claude Code is at work.
        While it waits, stopped subagents whose transcripts completed are handed on too."""
        watch = QueryWatch(self._retries)
        messages = client.receive_messages().__aiter__()
        pending: asyncio.Future[object] | None = None
        said: str | None = None
        try:
            while (wait := watch.waiting(time.monotonic())) is not None:
                if watch.results and wait.reason != said:
                    said = wait.reason
                    bound = "" if wait.seconds is None else f" (at most {wait.seconds:.2f} s)"
                    log.debug("query %d: after its result, waiting for %s%s", index, said, bound)
                if pending is None:
                    pending = asyncio.ensure_future(_next(messages))
                limit = POLL_S if wait.seconds is None else min(wait.seconds, POLL_S)
                done, _ = await asyncio.wait({pending}, timeout=limit)
                if not done:
                    for event in self._stream.poll():
                        watch.react(event, time.monotonic())
                    continue
                message, pending = pending.result(), None
                if message is _END:
                    log.debug("query %d: the CLI's stream ended", index)
                    break
                for event in self._stream.message(message):
                    watch.react(event, time.monotonic())
                if watch.fatal is not None:
                    fatal, status = watch.fatal
                    self._end_open_query(ModelError(fatal, status=status))
                    await self._interrupt(client)
                    raise ModelError(fatal, status=status)
            else:
                if said is not None and watch.results:
                    log.debug("query %d: done (%s)", index, "idle" if watch.idle else "no wait")
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
        return watch

    async def _wait_for_cli(self) -> None:
        """With the CLI's telemetry relayed, the query's end waits (bounded) for the CLI's
        records of its calls: a call only the CLI reports (a compaction's summary) is then
        counted as itself, and the last call gets its facts."""
        if self._cli_relay is None:
            return
        deadline = time.monotonic() + CLI_SETTLE_S
        stream = self._stream
        while time.monotonic() < deadline:
            stream.poll()
            quiet = time.time_ns() - stream.cli_last_ns > CLI_QUIET_S * 1e9
            if quiet and not stream.ledger.cli_outstanding():
                return
            await asyncio.sleep(0.02)

    def _outcome(
        self, index: int, results: list[QueryResult], api_error: str | None
    ) -> QueryOutcome:
        last = results[-1]
        error_type = error_message = None
        if last.is_error:
            is_api = api_error is not None or last.api_error_status is not None
            error_type = ModelError.error_type if is_api else (last.subtype or "error")
            if last.subtype == BUDGET_SUBTYPE:
                error_type = BudgetExceeded.error_type
            detail = "; ".join(last.errors) or (last.result or "")
            status = f"HTTP {last.api_error_status}: " if last.api_error_status else ""
            error_message = f"{status}{detail}".strip() or (api_error or last.subtype)
        return QueryOutcome(
            index=index,
            at_ns=time.time_ns(),
            is_error=last.is_error,
            subtype=last.subtype,
            num_turns=sum(r.num_turns for r in results),
            duration_ms=sum(r.duration_ms for r in results),
            cumulative_cost_usd=last.total_cost_usd,
            error_type=error_type,
            error_message=error_message,
            api_error_status=last.api_error_status,
            sdk_session_id=last.sdk_session_id,
            answer=None if last.is_error else last.result,
        )

    def _finish_query(self, outcome: QueryOutcome) -> QueryOutcome:
        self._open_query = None
        outcome = self._stream.end_query(outcome)
        self._queries.append(outcome)
        return outcome

    def _end_open_query(self, error: RunnerError) -> None:
        if self._open_query is None:
            return
        self._finish_query(
            QueryOutcome(
                index=self._open_query,
                at_ns=time.time_ns(),
                is_error=True,
                subtype=error.error_type,
                error_type=error.error_type,
                error_message=str(error),
            )
        )

    # --- options ------------------------------------------------------------------------

    def _options(self) -> ClaudeAgentOptions:
        resume = self._resume.info.claude_session_id if self._resume is not None else None
        return agent_options(self.config, self._hook, self.stderr, resume=resume)

    async def _hook(self, data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            self._stream.hook(data)
        return {}


_END = object()
"""The CLI's stream ended."""


async def _next(messages: AsyncIterator[object]) -> object:
    try:
        return await anext(messages)
    except StopAsyncIteration:
        return _END


def _on_loop(loop: asyncio.AbstractEventLoop, stream: EventStream) -> Callable[[CliRecord], None]:
    """The relay's sink (on its decoder thread): each record onto the session's loop. Once the
    loop has closed, the session is over and its records have nowhere to go (the relay counts
    what arrives after its stop)."""

    def sink(record: CliRecord) -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stream.cli_record, record)

    return sink
