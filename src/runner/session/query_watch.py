"""What the session driver itself reads from a query's events: its results, the background
tasks still running, the API error, and a retry that must end the session.

Measured (CLI 2.1.33x, two background subagents): the CLI answers each finished background
task with a turn of its own and a result, even when both finished during one turn; a query is
done at a result once no task is running and every finished task has had its turn. A CLI that
answered two in one turn would leave one result short: the driver then waits at most
`TURN_GRACE_S` for that turn to show its first sign (once it has, only TIMEOUT bounds it).
"""

from __future__ import annotations

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


class QueryWatch:
    def __init__(self, retries: RetryWatch) -> None:
        self._retries = retries
        self.results: list[QueryResult] = []
        self.pending: set[str] = set()
        self.notified = 0
        """Background tasks that finished: the CLI answers each with a further turn."""
        self._since_result = 0
        """Events since the last result: a turn under way."""
        self.api_error: str | None = None
        self.fatal: tuple[str, int | None] | None = None

    @property
    def turns_owed(self) -> int:
        """Finished tasks whose turn (and result) has not come yet."""
        return max(0, 1 + self.notified - len(self.results))

    @property
    def waiting_for_turn(self) -> bool:
        """Only a turn for a finished task is still to come (bounded by the driver)."""
        return (
            bool(self.results)
            and not self.pending
            and self.turns_owed > 0
            and self._since_result == 0
        )

    def react(self, event: RunnerEvent) -> bool:
        """True when the query is done (a result with no background task left)."""
        if not isinstance(event, TaskStarted | TaskFinished):  # the notices come before the turn
            self._since_result += 1
        match event:
            case CallFailed():
                self.api_error = event.error
            case TaskStarted():
                self.pending.add(event.task_id)
            case TaskFinished():
                if event.task_id in self.pending:
                    self.pending.discard(event.task_id)
                    self.notified += 1
            case QueryResult():
                self.results.append(event)
                self._since_result = 0
                return event.is_error or not (self.pending or self.turns_owed)
            case ApiRetry():
                fatal = self._retries.seen(event)
                if fatal is not None:
                    self.fatal = (fatal, event.status)
            case (
                SessionInitialized()
                | RequestSent()
                | CallStarted()
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
                | CompactionStarted()
                | Compacted()
                | CliCallReported()
                | CliToolReported()
                | CliHookRan()
            ):
                pass
            case _:
                assert_never(event)
        return False
