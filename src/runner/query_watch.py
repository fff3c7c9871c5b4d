"""What the session driver itself reads from a query's events: its results, the background
tasks still running, the API error, and a retry that must end the session."""

from __future__ import annotations

from typing import assert_never

from runner.api_retries import RetryWatch
from runner.events import (
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


class QueryWatch:
    def __init__(self, retries: RetryWatch) -> None:
        self._retries = retries
        self.results: list[QueryResult] = []
        self.pending: set[str] = set()
        self.api_error: str | None = None
        self.fatal: tuple[str, int | None] | None = None

    def react(self, event: RunnerEvent) -> bool:
        """True when the query is done (a result with no background task left)."""
        match event:
            case CallFailed():
                self.api_error = event.error
            case TaskStarted():
                self.pending.add(event.task_id)
            case TaskFinished():
                self.pending.discard(event.task_id)
            case QueryResult():
                self.results.append(event)
                return not self.pending or event.is_error
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
