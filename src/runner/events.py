"""Runner events: the one place SDK messages and hook inputs are interpreted.

The session driver hands every SDK message and every hook input to `EventAdapter`, which turns
it into typed events. The driver's outcome, the stdout writer and telemetry all consume those
events; nothing downstream looks at an SDK message class again. Unknown messages, blocks and
hooks yield no event (a newer CLI never breaks an older runner).

Threads: `thread` is None for the main agent, else the `parent_tool_use_id` of a subagent's
messages (the tool call that started it).

Measured facts this relies on (claude-agent-sdk 0.2.18x, CLI 2.1.33x):
- a main-thread LLM call streams `message_start` (usage snapshot, output a placeholder) ...
  `message_delta` (stop reason, final output usage) `message_stop`; the AssistantMessages of
  that call share its message id and carry the `message_start` snapshot;
- a subagent's calls show only as AssistantMessages (no stream events), snapshots again; their
  final usage is in the subagent's transcript (SubagentStop gives its path);
- each API retry is a `system` message, subtype `api_retry`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from runner.types import Usage

Thread = str | None


@dataclass(frozen=True, slots=True)
class SessionInitialized:
    sdk_session_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class RequestSent:
    """The CLI announced an API request (main thread): the next call's start."""

    at_ns: int


@dataclass(frozen=True, slots=True)
class CallStarted:
    """An LLM call's response began (message_start, or a subagent's first message)."""

    thread: Thread
    message_id: str | None
    model: str | None
    usage: Usage
    """The snapshot at message_start: output tokens are a placeholder."""
    at_ns: int
    streamed: bool
    """True when stream events follow (main thread); False: messages are all we see."""


@dataclass(frozen=True, slots=True)
class CallFinished:
    """An LLM call's stream ended (message_stop) with its final usage and stop reason."""

    thread: Thread
    message_id: str | None
    usage: Usage
    stop_reason: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The API answered with an error (the CLI's synthetic assistant message)."""

    thread: Thread
    error: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class AssistantText:
    thread: Thread
    message_id: str | None
    text: str
    kind: str
    """`text` or `reasoning`."""
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolRequested:
    """The model asked for a tool call (a tool_use block)."""

    thread: Thread
    message_id: str | None
    tool_use_id: str
    name: str
    arguments: dict[str, Any]
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """PreToolUse: the tool is about to run."""

    tool_use_id: str
    name: str
    arguments: object
    agent_id: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """PostToolUse / PostToolUseFailure: the tool ran (`duration_ms` when the CLI says)."""

    tool_use_id: str
    name: str | None
    duration_ms: int | None
    error: str | None
    interrupted: bool
    response: object
    agent_id: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool result block on its way back to the model."""

    thread: Thread
    tool_use_id: str
    content: object
    is_error: bool
    at_ns: int


@dataclass(frozen=True, slots=True)
class SubagentStarted:
    agent_id: str
    agent_type: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class SubagentFinished:
    agent_id: str
    transcript_path: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class TaskStarted:
    """A background task (a subagent) started for a tool call."""

    task_id: str
    tool_use_id: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class TaskFinished:
    task_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ApiRetry:
    """The CLI is retrying an API request."""

    attempt: int
    max_retries: int | None
    delay_ms: int | None
    status: int | None
    error: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A ResultMessage: `usage` is this turn's (main thread); cost and model usage are
    cumulative for the client session."""

    subtype: str
    is_error: bool
    num_turns: int
    duration_ms: int
    usage: Usage
    total_cost_usd: float | None
    api_error_status: int | None
    errors: tuple[str, ...]
    result: str | None
    sdk_session_id: str | None
    model_usage: dict[str, Any] = field(default_factory=dict)
    at_ns: int = 0


RunnerEvent = (
    SessionInitialized
    | RequestSent
    | CallStarted
    | CallFinished
    | CallFailed
    | AssistantText
    | ToolRequested
    | ToolStarted
    | ToolFinished
    | ToolResult
    | SubagentStarted
    | SubagentFinished
    | TaskStarted
    | TaskFinished
    | ApiRetry
    | QueryResult
)


class EventAdapter:
    """Turns SDK messages and hook inputs into runner events. Holds only the per-thread state a
    stream needs (the message id of the call being streamed): O(threads)."""

    def __init__(self) -> None:
        self._streaming: dict[Thread, str | None] = {}
        self._pending_usage: dict[Thread, Usage] = {}
        self._stop_reason: dict[Thread, str | None] = {}
        self._last_call: dict[Thread, str | None] = {}

    def from_message(self, message: object, at_ns: int | None = None) -> list[RunnerEvent]:
        """The events one SDK message stands for (none for an unknown message)."""
        from claude_agent_sdk import (
            AssistantMessage,
            ResultMessage,
            StreamEvent,
            SystemMessage,
            UserMessage,
        )

        at = time.time_ns() if at_ns is None else at_ns
        if isinstance(message, StreamEvent):
            return self._stream_event(message.event, message.parent_tool_use_id, at)
        if isinstance(message, AssistantMessage):
            return self._assistant(message, at)
        if isinstance(message, UserMessage):
            return self._user(message, at)
        if isinstance(message, ResultMessage):
            return [_result(message, at)]
        if isinstance(message, SystemMessage):
            return self._system(message.subtype, message.data, at)
        return []

    def from_hook(self, data: dict[str, Any], at_ns: int | None = None) -> list[RunnerEvent]:
        """The events one hook input stands for."""
        at = time.time_ns() if at_ns is None else at_ns
        name = data.get("hook_event_name")
        agent_id = _str(data.get("agent_id"))
        tool_use_id = _str(data.get("tool_use_id"))
        if name == "PreToolUse" and tool_use_id:
            return [
                ToolStarted(
                    tool_use_id,
                    str(data.get("tool_name") or "unknown"),
                    data.get("tool_input"),
                    agent_id,
                    at,
                )
            ]
        if name in ("PostToolUse", "PostToolUseFailure") and tool_use_id:
            failed = name == "PostToolUseFailure"
            duration = data.get("duration_ms")
            return [
                ToolFinished(
                    tool_use_id,
                    _str(data.get("tool_name")),
                    duration if isinstance(duration, int) and duration >= 0 else None,
                    str(data.get("error") or "tool failed") if failed else None,
                    bool(data.get("is_interrupt")),
                    data.get("tool_response"),
                    agent_id,
                    at,
                )
            ]
        if name == "SubagentStart" and agent_id:
            return [SubagentStarted(agent_id, _str(data.get("agent_type")), at)]
        if name == "SubagentStop" and agent_id:
            return [SubagentFinished(agent_id, _str(data.get("agent_transcript_path")), at)]
        return []

    # --- messages ------------------------------------------------------------------------

    def _stream_event(self, event: dict[str, Any], thread: Thread, at: int) -> list[RunnerEvent]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            message_id = _str(message.get("id"))
            usage = Usage.from_dict(message.get("usage"))
            self._streaming[thread] = message_id
            self._pending_usage[thread] = usage
            self._last_call[thread] = message_id
            return [CallStarted(thread, message_id, _str(message.get("model")), usage, at, True)]
        if kind == "message_delta" and thread in self._streaming:
            current = self._pending_usage.get(thread, Usage())
            self._pending_usage[thread] = current.merged(event.get("usage"))
            stop = (event.get("delta") or {}).get("stop_reason")
            if isinstance(stop, str):
                self._stop_reason[thread] = stop
            return []
        if kind == "message_stop" and thread in self._streaming:
            message_id = self._streaming.pop(thread)
            usage = self._pending_usage.pop(thread, Usage())
            stop = self._stop_reason.pop(thread, None)
            return [CallFinished(thread, message_id, usage, stop, at)]
        return []

    def _assistant(self, message: Any, at: int) -> list[RunnerEvent]:
        from claude_agent_sdk.types import TextBlock, ThinkingBlock, ToolUseBlock

        thread = message.parent_tool_use_id
        if message.error:
            detail = text_of(message.content)[:500] or str(message.error)
            return [CallFailed(thread, str(message.error), detail, at)]
        events: list[RunnerEvent] = []
        message_id = message.message_id
        if thread not in self._streaming and message_id != self._last_call.get(thread):
            # No stream events for this call (a subagent): the message is all we see.
            self._last_call[thread] = message_id
            usage = Usage.from_dict(message.usage)
            events.append(CallStarted(thread, message_id, message.model, usage, at, False))
            events.append(CallFinished(thread, message_id, usage, message.stop_reason, at))
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                events.append(
                    ToolRequested(thread, message_id, block.id, block.name, block.input, at)
                )
            elif isinstance(block, TextBlock):
                events.append(AssistantText(thread, message_id, block.text, "text", at))
            elif isinstance(block, ThinkingBlock):
                events.append(AssistantText(thread, message_id, block.thinking, "reasoning", at))
        return events

    def _user(self, message: Any, at: int) -> list[RunnerEvent]:
        from claude_agent_sdk import ToolResultBlock

        if not isinstance(message.content, list):
            return []
        return [
            ToolResult(
                message.parent_tool_use_id,
                block.tool_use_id,
                block.content,
                bool(block.is_error),
                at,
            )
            for block in message.content
            if isinstance(block, ToolResultBlock)
        ]

    def _system(self, subtype: str, data: dict[str, Any], at: int) -> list[RunnerEvent]:
        if subtype == "init" and _str(data.get("session_id")):
            return [SessionInitialized(str(data["session_id"]), at)]
        if subtype == "status" and data.get("status") == "requesting":
            return [RequestSent(at)]
        if subtype == "task_started" and _str(data.get("task_id")):
            return [TaskStarted(str(data["task_id"]), _str(data.get("tool_use_id")), at)]
        if subtype == "task_notification" and _str(data.get("task_id")):
            return [TaskFinished(str(data["task_id"]), at)]
        if subtype == "api_retry":
            return [
                ApiRetry(
                    attempt=_int(data.get("attempt")) or 0,
                    max_retries=_int(data.get("max_retries")),
                    delay_ms=_int(data.get("retry_delay_ms")),
                    status=_int(data.get("error_status")),
                    error=str(data.get("error") or ""),
                    at_ns=at,
                )
            ]
        return []


def _result(message: Any, at: int) -> QueryResult:
    return QueryResult(
        subtype=message.subtype,
        is_error=bool(message.is_error),
        num_turns=message.num_turns or 0,
        duration_ms=message.duration_ms or 0,
        usage=Usage.from_dict(message.usage),
        total_cost_usd=message.total_cost_usd,
        api_error_status=getattr(message, "api_error_status", None),
        errors=tuple(str(e) for e in (getattr(message, "errors", None) or ())),
        result=message.result,
        sdk_session_id=message.session_id,
        model_usage=dict(message.model_usage or {}),
        at_ns=at,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_of(content: object) -> str:
    """The text of a message's content (a string, or blocks/dicts with `text`)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            text = getattr(item, "text", None)
            if text is None and isinstance(item, dict):
                text = item.get("text")
            if isinstance(text, str):
                parts.append(text)
        return "\n".join(parts)
    return ""
