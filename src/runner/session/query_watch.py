"""What the session driver itself reads from a query's events: its results, the background
tasks still running, whether Claude Code is done, the API error, and a retry that must end the
session.

When is a query done? Claude Code promises no order between its results, task notices, hooks
and transcripts, so the answer rests on Claude Code's own word where it gives one:

- The CLI reports its session state when asked (`CLAUDE_CODE_EMIT_SESSION_STATE_EVENTS`, set by
  the driver). Measured (CLI 2.1.332): `idle` follows the query's last result; while a
  background subagent runs, or its follow-up turn is owed, there is no `idle` after a result.
  So with state reported, a query is done at a result once the CLI has said `idle`.
- Without it (an older CLI, or the operator turned it off), the task frames decide: a
  foreground subagent (`is_backgrounded: false`) owes nothing; each background task that
  finished owes the main thread one more turn and result (measured with two background
  subagents finishing in one turn: two further results).

Every wait after a result is bounded and said in a debug line, except while Claude Code itself
is at work: a background task still running, or a turn it has begun (a new message of the main
thread — never an event the runner, its ledger or a transcript poll made).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

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
from runner.session.api_retries import RetryWatch

DEFERRING_TASK_TYPES = frozenset({"local_agent", "local_workflow"})
"""Tasks whose end wakes the main thread for a further turn (as the SDK's own query tracks
them). A background shell may run for ever (`tail -f`) and is bounded by Claude Code itself."""
TURN_GRACE_S = 5.0
"""Without session state: how long a query waits for the first sign of a turn the CLI owes a
finished background task."""
IDLE_GRACE_S = 1.0
"""With session state: how long a query whose work is all done waits for the CLI's `idle`
after its result (measured: it comes within milliseconds)."""


@dataclass(frozen=True, slots=True)
class Wait:
    """What a query still waits for after a result: `seconds` from now at most, or None for
    as long as Claude Code is at work (TIMEOUT bounds it)."""

    seconds: float | None
    reason: str


class QueryWatch:
    def __init__(self, retries: RetryWatch) -> None:
        self._retries = retries
        self.results: list[QueryResult] = []
        self.background: set[str] = set()
        """Background tasks running."""
        self._foreground: set[str] = set()
        self._ended: set[str] = set()
        self.background_finished = 0
        """Background tasks that finished: without session state, each owes a turn."""
        self.state_reported = False
        self.idle = False
        """The CLI's last word on its session was `idle`."""
        self.turn_begun = False
        """A main-thread message since the last result: Claude Code began a further turn."""
        self._result_at: float | None = None
        self.api_error: str | None = None
        self.fatal: tuple[str, int | None] | None = None

    @property
    def turns_owed(self) -> int:
        """Finished background tasks whose turn (and result) has not come yet."""
        return max(0, 1 + self.background_finished - len(self.results))

    def react(self, event: RunnerEvent, now: float) -> None:
        """Take one event in (`now`: a monotonic clock, for the bounded waits)."""
        match event:
            case SessionStateChanged():
                self.state_reported = True
                self.idle = event.state == "idle"
            case QueryResult():
                self.results.append(event)
                self._result_at = now
                self.turn_begun = False
            case TaskStarted():
                self._task_started(event)
            case TaskFinished():
                if event.task_id not in self._ended:
                    self._ended.add(event.task_id)
                    self._foreground.discard(event.task_id)
                    if event.task_id in self.background:
                        self.background.discard(event.task_id)
                        self.background_finished += 1
            case CallFailed():
                self.api_error = event.error
            case ApiRetry():
                fatal = self._retries.seen(event)
                if fatal is not None:
                    self.fatal = (fatal, event.status)
            case SessionInitialized() | RequestSent() | CompactionStarted():
                self.turn_begun = True  # only the main thread says these
            case CallStarted() | AssistantText() | ToolRequested():
                if event.thread is None:
                    self.turn_begun = True
            case (
                CallFinished()
                | SubagentCall()
                | CallRecorded()
                | ToolStarted()
                | ToolFinished()
                | ToolResult()
                | SubagentStarted()
                | SubagentFinished()
                | Compacted()
                | CliCallReported()
                | CliToolReported()
                | CliHookRan()
            ):
                pass  # hooks, transcripts, the ledger and the CLI's records: not a turn
            case _:
                assert_never(event)

    def waiting(self, now: float) -> Wait | None:
        """None when the query is done; else what it waits for. Before its first result a
        query waits for Claude Code (TIMEOUT bounds it)."""
        if not self.results:
            return Wait(None, "the query's result")
        if self.results[-1].is_error:
            return None
        if self.state_reported:
            if self.idle:
                return None
            if self.background:
                return Wait(None, f"Claude Code's idle: {len(self.background)} background task(s)")
            if self.turn_begun or self.turns_owed:
                return Wait(None, "Claude Code's idle: a further turn")
            return self._bounded(now, IDLE_GRACE_S, "Claude Code's idle after the result")
        if self.background:
            return Wait(None, f"{len(self.background)} background task(s) still running")
        if not self.turns_owed:
            return None
        if self.turn_begun:
            return Wait(None, "the turn a finished background task was owed, under way")
        return self._bounded(now, TURN_GRACE_S, "the turn a finished background task is owed")

    def _bounded(self, now: float, grace_s: float, reason: str) -> Wait | None:
        since = now - (self._result_at if self._result_at is not None else now)
        left = grace_s - since
        return Wait(left, reason) if left > 0 else None

    def _task_started(self, event: TaskStarted) -> None:
        task = event.task_id
        if task in self._ended:
            return
        if task in self._foreground:
            if event.background:  # a foreground subagent moved to the background
                self._foreground.discard(task)
                self.background.add(task)
            return
        if event.task_type is None and event.tool_use_id is None:
            return  # moved to the background, but not a task this watch follows
        if (event.task_type or "local_agent") not in DEFERRING_TASK_TYPES:
            return
        if event.background is False:
            self._foreground.add(task)
        else:  # a background task (a CLI that does not say: measured, they were)
            self.background.add(task)
