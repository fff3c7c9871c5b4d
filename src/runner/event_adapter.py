"""The event adapter: the one place SDK messages and hook inputs are interpreted.

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

import json
import time
from typing import Any

from runner.events import (
    ApiRetry,
    AssistantText,
    CallFailed,
    CallFinished,
    CallStarted,
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
    Thread,
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
    text_of,
)
from runner.types import Usage


class EventAdapter:
    """Turns SDK messages and hook inputs into runner events. Holds only the per-thread state a
    stream needs (the message id of the call being streamed): O(threads)."""

    def __init__(self) -> None:
        self._subagents: dict[str, _Transcript] = {}
        """Stopped subagents of the running query: their transcripts, and what was read."""
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
            response = data.get("tool_response")
            return [
                ToolFinished(
                    tool_use_id,
                    _str(data.get("tool_name")),
                    duration if isinstance(duration, int) and duration >= 0 else None,
                    str(data.get("error") or "tool failed") if failed else None,
                    bool(data.get("is_interrupt")),
                    response,
                    agent_id,
                    at,
                    response_chars=chars_of(response),
                )
            ]
        if name == "SubagentStart" and agent_id:
            return [SubagentStarted(agent_id, _str(data.get("agent_type")), at)]
        if name == "SubagentStop" and agent_id:
            path = _str(data.get("agent_transcript_path"))
            transcript = self._subagents.setdefault(agent_id, _Transcript(path))
            transcript.path = path or transcript.path
            # Its calls first, so the subagent ends with its totals complete.
            return [*transcript.new_calls(agent_id, at), SubagentFinished(agent_id, path, at)]
        return []

    def settle(self, at_ns: int | None = None) -> list[RunnerEvent]:
        """At a query's end: the subagents' calls their transcripts gained since they stopped
        (the last record may be written after SubagentStop). Forgets the query's subagents."""
        at = time.time_ns() if at_ns is None else at_ns
        events: list[RunnerEvent] = []
        for agent_id, transcript in self._subagents.items():
            events.extend(transcript.new_calls(agent_id, at))
        self._subagents.clear()
        return events

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
                content_chars=chars_of(block.content),
            )
            for block in message.content
            if isinstance(block, ToolResultBlock)
        ]

    def _system(self, subtype: str, data: dict[str, Any], at: int) -> list[RunnerEvent]:
        if subtype == "init" and _str(data.get("session_id")):
            return [SessionInitialized(str(data["session_id"]), at)]
        if subtype == "status" and data.get("status") == "requesting":
            return [RequestSent(at)]
        if subtype == "status" and data.get("status") == "compacting":
            return [CompactionStarted(at)]
        if subtype == "compact_boundary":
            meta = data.get("compact_metadata") or {}
            return [
                Compacted(
                    trigger=str(meta.get("trigger") or "unknown"),
                    pre_tokens=_int(meta.get("pre_tokens")),
                    post_tokens=_int(meta.get("post_tokens")),
                    duration_ms=_int(meta.get("duration_ms")),
                    at_ns=at,
                )
            ]
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


class _Transcript:
    """A stopped subagent's transcript and the message ids already read from it."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.read: set[str] = set()

    def new_calls(self, agent_id: str, at: int) -> list[RunnerEvent]:
        from runner.transcripts import read_calls

        if not self.path:
            return []
        events: list[RunnerEvent] = []
        for message_id, call in read_calls(self.path).items():
            if message_id not in self.read:
                self.read.add(message_id)
                events.append(
                    SubagentCall(
                        agent_id,
                        message_id,
                        call.model,
                        call.usage,
                        call.requested_ns,
                        call.answered_ns,
                        at,
                    )
                )
        return events


def chars_of(content: object) -> int:
    """The size of a tool result as the model sees it (text), without keeping it."""
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content)
    text = text_of(content)
    if text:
        return len(text)
    try:
        return len(json.dumps(content, default=str))
    except (TypeError, ValueError):
        return 0


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
