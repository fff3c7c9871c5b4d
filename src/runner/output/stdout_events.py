"""The session on stdout: one JSON object per line (schema in README, "stdout events"), so
`kubectl logs` shows the session and a program can follow it. Text in events is redacted and
truncated. Every figure (usage, cost, subagents, models) is the ledger's (runner.ledger.ledger), the
same the trace shows.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO, assert_never

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
from runner.redaction import Redactor, default_redactor
from runner.session.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart

log = logging.getLogger("runner")

EVENT_SCHEMA_VERSION = 1
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
"""Characters other line readers (str.splitlines, JavaScript) take for line breaks: escaped, so
one event is always one line."""


def _ts(at_ns: int) -> str:
    return datetime.fromtimestamp(at_ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")


class EventWriter:
    """A SessionObserver that writes the session as JSON lines (one event per line)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        redactor: Redactor | None = None,
        trace: Callable[[], Mapping[str, object]] | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._redactor = redactor or default_redactor()
        self._trace = trace
        """The session's trace (id, traceparent, URLs) for session_start and session_end."""
        self._session_id = ""
        self._query = 0
        self._compactions = 0

    def emit(self, event_type: str, at_ns: int, **fields: Any) -> None:
        record = {"type": event_type, "ts": _ts(at_ns), "session_id": self._session_id, **fields}
        if self._query and "query" not in record:
            record["query"] = self._query
        line = json.dumps(record, ensure_ascii=False, default=str).translate(_LINE_BREAKS)
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # stdout closed: the session goes on
            pass

    def _text(self, value: object) -> str:
        return self._redactor.clean_value(value)

    def on_session_start(self, event: SessionStart) -> None:
        self._session_id = event.session_id
        self.emit(
            "session_start",
            event.at_ns,
            schema=EVENT_SCHEMA_VERSION,
            model=event.model,
            interactive=event.interactive,
            workspace=event.workspace,
            namespace=event.tenancy.namespace,
            project=event.tenancy.project,
            user_id=event.tenancy.user_id,
            resume=None if event.resume is None else event.resume.summary(),
            **self._trace_fields(),
        )

    def _trace_fields(self) -> dict[str, object]:
        if self._trace is None:
            return {}
        try:
            return dict(self._trace())
        except Exception:
            log.debug("trace fields failed", exc_info=True)
            return {}

    @property
    def query(self) -> int:
        """The current (or last) query's number; 0 before the first."""
        return self._query

    def feedback(self, at_ns: int, score: Any) -> None:
        """A stdin feedback line, accepted (runner.scores.Score): the comment is redacted."""
        self.emit(
            "feedback",
            at_ns,
            query=score.query,
            name=score.name,
            value=score.value,
            data_type=score.data_type,
            comment=self._text(score.comment) if score.comment else None,
        )

    def on_query_start(self, event: QueryStart) -> None:
        self._query = event.index
        self.emit("user_message", event.at_ns, text=self._text(event.prompt))

    def on_event(self, event: RunnerEvent) -> None:
        match event:
            case Compacted():
                self._compactions += 1
                self.emit(
                    "compaction",
                    event.at_ns,
                    trigger=event.trigger,
                    pre_tokens=event.pre_tokens,
                    post_tokens=event.post_tokens,
                )
            case ApiRetry():
                self.emit(
                    "api_retry",
                    event.at_ns,
                    attempt=event.attempt,
                    max_retries=event.max_retries,
                    delay_ms=event.delay_ms,
                    error_status=event.status,
                    error=self._text(event.error),
                )
            case AssistantText():
                if event.kind == "text" and event.text:
                    self.emit(
                        "assistant_text",
                        event.at_ns,
                        text=self._text(event.text),
                        parent_tool_use_id=event.thread,
                    )
            case ToolRequested():
                self.emit(
                    "tool_use",
                    event.at_ns,
                    id=event.tool_use_id,
                    name=event.name,
                    input=self._text(event.arguments),
                    parent_tool_use_id=event.thread,
                )
            case ToolResult():
                self.emit(
                    "tool_result",
                    event.at_ns,
                    tool_use_id=event.tool_use_id,
                    content=self._text(event.content if event.content is not None else ""),
                    is_error=event.is_error,
                    parent_tool_use_id=event.thread,
                )
            case (
                SessionInitialized()
                | RequestSent()
                | CallStarted()
                | CallFinished()
                | CallFailed()
                | SubagentCall()
                | CallRecorded()
                | ToolStarted()
                | ToolFinished()
                | SubagentStarted()
                | SubagentFinished()
                | TaskStarted()
                | TaskFinished()
                | SessionStateChanged()
                | QueryResult()
                | CompactionStarted()
                | CliCallReported()
                | CliToolReported()
                | CliHookRan()
            ):
                pass  # figures arrive with the query's end; the rest is the trace's detail
            case _:
                assert_never(event)

    def on_query_end(self, event: QueryOutcome) -> None:
        figures = event.figures
        self.emit(
            "result",
            event.at_ns,
            subtype=event.subtype,
            is_error=event.is_error,
            num_turns=event.num_turns,
            duration_ms=event.duration_ms,
            llm_calls=figures.total.calls,
            usage=figures.total.usage.as_dict(),
            total_cost_usd=round(figures.total.cost_usd, 12),
            reported_cost_usd=_usd(figures.reported_cost_usd),
            error_type=event.error_type,
            error=self._text(event.error_message) if event.error_message else None,
            api_error_status=event.api_error_status,
            subagents=[s.as_dict() for s in figures.subagents],
            models=figures.models_dict(),
        )

    def on_session_end(self, event: SessionOutcome) -> None:
        if event.error_type:
            extra = {"cli_stderr": list(event.cli_stderr)} if event.cli_stderr else {}
            self.emit(
                "error",
                event.at_ns,
                error_type=event.error_type,
                message=self._text(event.error_message or event.error_type),
                **extra,
            )
        figures = event.figures
        self.emit(
            "session_end",
            event.at_ns,
            query=None,
            status=event.status,
            exit_code=event.exit_code,
            queries=len(event.queries),
            num_turns=event.num_turns,
            duration_ms=event.duration_ms,
            llm_calls=figures.total.calls,
            usage=figures.total.usage.as_dict(),
            total_cost_usd=round(figures.total.cost_usd, 12),
            reported_cost_usd=_usd(figures.reported_cost_usd),
            reported_cumulative_cost_usd=_usd(event.reported_cumulative_usd),
            subagents=[s.as_dict() for s in figures.subagents],
            models=figures.models_dict(),
            compactions=self._compactions,
            peak_rss_mb=_peak_rss_mb(),
            **self._trace_fields(),
        )


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 12)


def _peak_rss_mb() -> float:
    """The runner process's peak resident memory (the CLI child is not included)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
