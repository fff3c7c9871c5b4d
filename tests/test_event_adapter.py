"""The event adapter: every SDK message and hook kind the runner uses becomes its typed event,
once; unknown messages, blocks and hooks become nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, UserMessage
from claude_agent_sdk.types import (
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

from runner.event_adapter import EventAdapter
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
from runner.types import Usage


def _se(event: dict[str, Any], parent: str | None = None) -> StreamEvent:
    return StreamEvent(uuid="u", session_id="sdk", event=event, parent_tool_use_id=parent)


START = {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 30,
         "cache_creation": {"ephemeral_1h_input_tokens": 20}}  # fmt: skip


def test_a_streamed_call_starts_at_message_start_and_finishes_at_message_stop() -> None:
    adapter = EventAdapter()
    (started,) = adapter.from_message(
        _se({"type": "message_start", "message": {"id": "m1", "model": "x", "usage": START}}), 1
    )
    assert started == CallStarted(None, "m1", "x", Usage(10, 1, 0, 30, 20), 1, True)
    text = AssistantMessage([TextBlock("hi")], "x", message_id="m1", usage=START)
    assert adapter.from_message(text, 2) == [AssistantText(None, "m1", "hi", "text", 2)]
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 9},
    }
    assert adapter.from_message(_se(delta), 3) == []
    (finished,) = adapter.from_message(_se({"type": "message_stop"}), 4)
    assert finished == CallFinished(None, "m1", Usage(10, 9, 0, 30, 20), "end_turn", 4)


def test_a_subagent_call_is_started_and_finished_by_its_first_message_only() -> None:
    adapter = EventAdapter()
    first = AssistantMessage(
        [ToolUseBlock("t9", "Read", {"p": 1})], "h", "ta", message_id="m2", usage=START
    )
    events = adapter.from_message(first, 5)
    assert [type(e) for e in events] == [CallStarted, CallFinished, ToolRequested]
    assert events[0].thread == "ta" and events[0].streamed is False  # type: ignore[union-attr]
    again = AssistantMessage([ThinkingBlock("hmm", "sig")], "h", "ta", message_id="m2")
    assert adapter.from_message(again, 6) == [AssistantText("ta", "m2", "hmm", "reasoning", 6)]


def test_an_api_error_is_a_failed_call() -> None:
    message = AssistantMessage([TextBlock("API Error: 529")], "<synthetic>", error="server_error")
    assert EventAdapter().from_message(message, 7) == [
        CallFailed(None, "server_error", "API Error: 529", 7)
    ]


def test_tool_results_and_system_messages() -> None:
    adapter = EventAdapter()
    result = UserMessage(
        [ToolResultBlock("t1", "out", True), TextBlock("x")], parent_tool_use_id="ta"
    )
    assert adapter.from_message(result, 8) == [
        ToolResult("ta", "t1", "out", True, 8, content_chars=3)
    ]
    assert adapter.from_message(SystemMessage("init", {"session_id": "s1"}), 9) == [
        SessionInitialized("s1", 9)
    ]
    assert adapter.from_message(SystemMessage("status", {"status": "requesting"}), 10) == [
        RequestSent(10)
    ]
    started = SystemMessage("task_started", {"task_id": "a1", "tool_use_id": "t1"})
    assert adapter.from_message(started, 11) == [TaskStarted("a1", "t1", 11)]
    done = SystemMessage("task_notification", {"task_id": "a1"})
    assert adapter.from_message(done, 12) == [TaskFinished("a1", 12)]
    retry = SystemMessage(
        "api_retry",
        {"attempt": 2, "max_retries": 10, "retry_delay_ms": 500, "error_status": 529,
         "error": "overloaded"},
    )  # fmt: skip
    assert adapter.from_message(retry, 13) == [ApiRetry(2, 10, 500, 529, "overloaded", 13)]


def test_a_result_message_keeps_turn_usage_and_cumulative_cost() -> None:
    message = ResultMessage(
        "success", 100, 90, False, 3, "sdk-1", total_cost_usd=0.25, usage={"output_tokens": 7}
    )
    (result,) = EventAdapter().from_message(message, 14)
    assert isinstance(result, QueryResult)
    assert (result.num_turns, result.total_cost_usd, result.usage.output_tokens) == (3, 0.25, 7)
    assert result.sdk_session_id == "sdk-1" and not result.is_error


def test_hooks() -> None:
    adapter = EventAdapter()
    pre = {"hook_event_name": "PreToolUse", "tool_use_id": "t1", "tool_name": "Bash",
           "tool_input": {"command": "ls"}, "agent_id": "a1"}  # fmt: skip
    assert adapter.from_hook(pre, 1) == [ToolStarted("t1", "Bash", {"command": "ls"}, "a1", 1)]
    post = {"hook_event_name": "PostToolUse", "tool_use_id": "t1", "duration_ms": 12,
            "tool_response": "ok"}  # fmt: skip
    assert adapter.from_hook(post, 2) == [
        ToolFinished("t1", None, 12, None, False, "ok", None, 2, response_chars=2)
    ]
    failure = {"hook_event_name": "PostToolUseFailure", "tool_use_id": "t1", "error": "exit 1",
               "is_interrupt": True}  # fmt: skip
    (failed,) = adapter.from_hook(failure, 3)
    assert isinstance(failed, ToolFinished) and failed.error == "exit 1" and failed.interrupted
    start = {"hook_event_name": "SubagentStart", "agent_id": "a1", "agent_type": "Explore"}
    assert adapter.from_hook(start, 4) == [SubagentStarted("a1", "Explore", 4)]
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1", "agent_transcript_path": "/t"}
    assert adapter.from_hook(stop, 5) == [SubagentFinished("a1", "/t", 5)]


@dataclass
class BrandNew:
    kind: str = "from a newer CLI"


def test_unknown_messages_blocks_and_hooks_become_nothing() -> None:
    adapter = EventAdapter()
    assert adapter.from_message(BrandNew(), 1) == []
    assert adapter.from_message(SystemMessage("compact_boundary_v9", {}), 1) == []
    assert adapter.from_message(_se({"type": "ping"}), 1) == []
    assert adapter.from_message(_se({"type": "message_stop"}), 1) == []  # nothing streaming
    assert adapter.from_hook({"hook_event_name": "Notification", "message": "x"}, 1) == []
    assert adapter.from_hook({"hook_event_name": "PreToolUse"}, 1) == []  # no tool id


def test_compaction_is_started_then_compacted_with_its_sizes() -> None:
    adapter = EventAdapter()
    started = SystemMessage("status", {"status": "compacting"})
    assert adapter.from_message(started, 1) == [CompactionStarted(1)]
    boundary = SystemMessage(
        "compact_boundary",
        {"compact_metadata": {"trigger": "manual", "pre_tokens": 1300, "post_tokens": 2661,
                              "duration_ms": 32}},
    )  # fmt: skip
    assert adapter.from_message(boundary, 2) == [Compacted("manual", 1300, 2661, 32, 2)]


def test_a_stopped_subagents_calls_come_from_its_transcript_before_it_finishes(
    tmp_path: Path,
) -> None:
    transcript = tmp_path / "agent-a1.jsonl"
    records = [
        {"type": "api-request", "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "assistant", "timestamp": "2026-01-01T00:00:01Z",
         "message": {"id": "m1", "model": "h", "usage": {"input_tokens": 3, "output_tokens": 9}}},
    ]  # fmt: skip
    transcript.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    adapter = EventAdapter()
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1",
            "agent_transcript_path": str(transcript)}  # fmt: skip
    events = adapter.from_hook(stop, 5)
    assert [type(e) for e in events] == [SubagentCall, SubagentFinished]
    call = events[0]
    assert isinstance(call, SubagentCall) and call.usage == Usage(3, 9) and call.model == "h"
    assert call.requested_ns == 1767225600 * 10**9
    # A record written after the stop arrives when the query settles, once.
    late = {"type": "assistant", "message": {"id": "m2", "usage": {"output_tokens": 4}}}
    with transcript.open("a") as f:
        f.write(json.dumps(late) + "\n")
    settled = adapter.settle(9)
    assert [(e.message_id, e.usage.output_tokens) for e in settled] == [("m2", 4)]  # type: ignore[union-attr]
    assert adapter.settle(10) == []
