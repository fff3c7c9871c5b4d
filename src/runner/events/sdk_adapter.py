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
- each API retry is a `system` message, subtype `api_retry`;
- hooks name a subagent by `agent_id`, resolved to its thread by `runner.events.subagent_threads`,
  which also says when a stopped subagent's transcript is complete (`due()`, `settle()`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from runner.accounting.usage import Usage, model_usage_from
from runner.events.subagent_threads import SubagentThreads
from runner.events.types import (
    AGENT_TOOLS,
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
    SessionStateChanged,
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

TERMINAL_TASK_STATUSES = ("completed", "failed", "killed")
"""A `task_updated` patch with one of these statuses ends the task (the CLI may send it without
a `task_notification`)."""


class EventAdapter:
    """Turns SDK messages and hook inputs into runner events. Holds only the state a stream
    needs (the call being streamed per thread, the query's subagents)."""

    def __init__(self) -> None:
        self._streaming: dict[Thread, str | None] = {}
        self._pending_usage: dict[Thread, Usage] = {}
        self._stop_reason: dict[Thread, str | None] = {}
        self._last_call: dict[Thread, str | None] = {}
        self.subagents = SubagentThreads()

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
        if agent_id and not self.subagents.resolved(agent_id):
            self.subagents.hold(agent_id, data, at)  # replayed once its thread is known
            return []
        thread = self.subagents.thread_of(agent_id)
        tool_use_id = _str(data.get("tool_use_id"))
        main_agent_tool = agent_id is None and data.get("tool_name") in AGENT_TOOLS
        if name == "PreToolUse" and tool_use_id and main_agent_tool:
            self.subagents.requested(tool_use_id)  # its hook may come before its message
        if name == "PreToolUse" and tool_use_id:
            return [
                ToolStarted(
                    thread=thread,
                    tool_use_id=tool_use_id,
                    name=str(data.get("tool_name") or "unknown"),
                    arguments=data.get("tool_input"),
                    at_ns=at,
                )
            ]
        if name in ("PostToolUse", "PostToolUseFailure") and tool_use_id:
            failed = name == "PostToolUseFailure"
            duration = data.get("duration_ms")
            response = data.get("tool_response")
            return [
                ToolFinished(
                    thread=thread,
                    tool_use_id=tool_use_id,
                    name=_str(data.get("tool_name")),
                    duration_ms=duration if isinstance(duration, int) and duration >= 0 else None,
                    error=str(data.get("error") or "tool failed") if failed else None,
                    interrupted=bool(data.get("is_interrupt")),
                    response=response,
                    response_chars=len(result_text(response)),
                    at_ns=at,
                )
            ]
        if name == "SubagentStart" and agent_id:
            return [
                SubagentStarted(
                    thread=self.subagents.claim(agent_id),
                    agent_id=agent_id,
                    agent_type=_str(data.get("agent_type")),
                    at_ns=at,
                )
            ]
        if name == "SubagentStop" and agent_id:
            return self.subagents.stopped(agent_id, _str(data.get("agent_transcript_path")), at)
        return []

    def due(self, at_ns: int | None = None) -> list[RunnerEvent]:
        """Stopped subagents whose transcripts are now complete: their calls, then their end."""
        return self.subagents.due(time.time_ns() if at_ns is None else at_ns)

    def settle(self, at_ns: int | None = None) -> list[RunnerEvent]:
        """At a query's end: hooks still held (their subagent never paired), then every
        stopped subagent with what its transcript holds now."""
        at = time.time_ns() if at_ns is None else at_ns
        held = self._replay(self.subagents.release_all())
        return [*held, *self.subagents.settle(at)]

    def _replay(self, held: list[tuple[dict[str, Any], int]]) -> list[RunnerEvent]:
        """Held hooks, now that their subagent's thread is known, in their order."""
        return [event for data, at in held for event in self.from_hook(data, at)]

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
            return [
                CallStarted(
                    thread=thread,
                    message_id=message_id,
                    model=_str(message.get("model")),
                    usage=usage,
                    streamed=True,
                    at_ns=at,
                )
            ]
        if kind == "message_delta" and thread in self._streaming:
            current = self._pending_usage.get(thread, Usage())
            self._pending_usage[thread] = current.merged(event.get("usage"))
            stop = (event.get("delta") or {}).get("stop_reason")
            if isinstance(stop, str):
                self._stop_reason[thread] = stop
            return []
        if kind == "message_stop" and thread in self._streaming:
            return [
                CallFinished(
                    thread=thread,
                    message_id=self._streaming.pop(thread),
                    usage=self._pending_usage.pop(thread, Usage()),
                    stop_reason=self._stop_reason.pop(thread, None),
                    streamed=True,
                    at_ns=at,
                )
            ]
        return []

    def _assistant(self, message: Any, at: int) -> list[RunnerEvent]:
        from claude_agent_sdk.types import TextBlock, ThinkingBlock, ToolUseBlock

        thread = message.parent_tool_use_id
        if message.error:
            detail = text_of(message.content)[:500] or str(message.error)
            return [CallFailed(thread=thread, error=str(message.error), message=detail, at_ns=at)]
        events: list[RunnerEvent] = []
        message_id = message.message_id
        if thread not in self._streaming and message_id != self._last_call.get(thread):
            # No stream events for this call (a subagent): the message is all we see.
            self._last_call[thread] = message_id
            usage = Usage.from_dict(message.usage)
            events.append(
                CallStarted(
                    thread=thread,
                    message_id=message_id,
                    model=message.model,
                    usage=usage,
                    streamed=False,
                    at_ns=at,
                )
            )
            events.append(
                CallFinished(
                    thread=thread,
                    message_id=message_id,
                    usage=usage,
                    stop_reason=message.stop_reason,
                    streamed=False,
                    at_ns=at,
                )
            )
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                if block.name in AGENT_TOOLS:
                    self.subagents.requested(block.id)
                events.append(
                    ToolRequested(
                        thread=thread,
                        message_id=message_id,
                        tool_use_id=block.id,
                        name=block.name,
                        arguments=block.input,
                        at_ns=at,
                    )
                )
            elif isinstance(block, TextBlock):
                events.append(
                    AssistantText(
                        thread=thread, message_id=message_id, text=block.text, kind="text", at_ns=at
                    )
                )
            elif isinstance(block, ThinkingBlock):
                events.append(
                    AssistantText(
                        thread=thread,
                        message_id=message_id,
                        text=block.thinking,
                        kind="reasoning",
                        at_ns=at,
                    )
                )
        return events

    def _user(self, message: Any, at: int) -> list[RunnerEvent]:
        from claude_agent_sdk import ToolResultBlock

        if not isinstance(message.content, list):
            return []
        return [
            ToolResult(
                thread=message.parent_tool_use_id,
                tool_use_id=block.tool_use_id,
                content=block.content,
                text=result_text(block.content),
                is_error=bool(block.is_error),
                at_ns=at,
            )
            for block in message.content
            if isinstance(block, ToolResultBlock)
        ]

    def _system(self, subtype: str, data: dict[str, Any], at: int) -> list[RunnerEvent]:
        if subtype == "init" and _str(data.get("session_id")):
            return [SessionInitialized(sdk_session_id=str(data["session_id"]), at_ns=at)]
        if subtype == "status" and data.get("status") == "requesting":
            return [RequestSent(at_ns=at)]
        if subtype == "status" and data.get("status") == "compacting":
            return [CompactionStarted(at_ns=at)]
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
        if subtype == "session_state_changed" and _str(data.get("state")):
            return [SessionStateChanged(state=str(data["state"]), at_ns=at)]
        task_id = _str(data.get("task_id"))
        if subtype == "task_started" and task_id:
            tool_use_id = _str(data.get("tool_use_id"))
            background = data.get("is_backgrounded")
            started = TaskStarted(
                task_id=task_id,
                tool_use_id=tool_use_id,
                background=background if isinstance(background, bool) else None,
                task_type=_str(data.get("task_type")),
                at_ns=at,
            )
            held = self.subagents.task_started(task_id, tool_use_id) if tool_use_id else []
            return [started, *self._replay(held)]
        if subtype == "task_updated" and task_id:
            patch = data.get("patch")
            patch = patch if isinstance(patch, dict) else {}
            events: list[RunnerEvent] = []
            if patch.get("is_backgrounded") is True:
                events.append(
                    TaskStarted(task_id=task_id, tool_use_id=None, background=True, at_ns=at)
                )
            status = _str(patch.get("status"))
            if status in TERMINAL_TASK_STATUSES:
                events.append(TaskFinished(task_id=task_id, status=status, at_ns=at))
            return events
        if subtype == "task_notification" and task_id:
            return [TaskFinished(task_id=task_id, status=_str(data.get("status")), at_ns=at)]
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


def result_text(content: object) -> str:
    """A tool result as the model reads it: text, text blocks joined, else JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    text = text_of(content)
    if text:
        return text
    try:
        return json.dumps(content, default=str)
    except (TypeError, ValueError):
        return ""


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
        model_usage=model_usage_from(message.model_usage),
        at_ns=at,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
