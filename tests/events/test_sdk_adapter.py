"""The event adapter: every SDK message and hook kind the runner uses becomes its typed event,
once; unknown messages, blocks and hooks become nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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

from runner.accounting.usage import Usage
from runner.events.sdk_adapter import EventAdapter
from runner.events.subagent_threads import POLL_INTERVAL_NS, SUBAGENT_SETTLE_S
from runner.events.types import (
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


def _se(event: dict[str, Any], parent: str | None = None) -> StreamEvent:
    return StreamEvent(uuid="u", session_id="sdk", event=event, parent_tool_use_id=parent)


START = {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 30,
         "cache_creation": {"ephemeral_1h_input_tokens": 20}}  # fmt: skip


def test_a_streamed_call_starts_at_message_start_and_finishes_at_message_stop() -> None:
    adapter = EventAdapter()
    (started,) = adapter.from_message(
        _se({"type": "message_start", "message": {"id": "m1", "model": "x", "usage": START}}), 1
    )
    snapshot = Usage(
        input_tokens=10,
        output_tokens=1,
        cache_creation_input_tokens=30,
        cache_creation_1h_input_tokens=20,
    )
    assert started == CallStarted(
        thread=None, message_id="m1", model="x", usage=snapshot, streamed=True, at_ns=1
    )
    text = AssistantMessage([TextBlock("hi")], "x", message_id="m1", usage=START)
    assert adapter.from_message(text, 2) == [
        AssistantText(thread=None, message_id="m1", text="hi", kind="text", at_ns=2)
    ]
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 9},
    }
    assert adapter.from_message(_se(delta), 3) == []
    (finished,) = adapter.from_message(_se({"type": "message_stop"}), 4)
    assert finished == CallFinished(
        thread=None,
        message_id="m1",
        usage=replace(snapshot, output_tokens=9),
        stop_reason="end_turn",
        streamed=True,
        at_ns=4,
    )


def test_a_subagent_call_is_started_and_finished_by_its_first_message_only() -> None:
    adapter = EventAdapter()
    first = AssistantMessage(
        [ToolUseBlock("t9", "Read", {"p": 1})], "h", "ta", message_id="m2", usage=START
    )
    events = adapter.from_message(first, 5)
    assert [type(e) for e in events] == [CallStarted, CallFinished, ToolRequested]
    assert events[0].thread == "ta" and events[0].streamed is False  # type: ignore[union-attr]
    again = AssistantMessage([ThinkingBlock("hmm", "sig")], "h", "ta", message_id="m2")
    assert adapter.from_message(again, 6) == [
        AssistantText(thread="ta", message_id="m2", text="hmm", kind="reasoning", at_ns=6)
    ]


def test_an_api_error_is_a_failed_call() -> None:
    message = AssistantMessage([TextBlock("API Error: 529")], "<synthetic>", error="server_error")
    assert EventAdapter().from_message(message, 7) == [
        CallFailed(thread=None, error="server_error", message="API Error: 529", at_ns=7)
    ]


def test_tool_results_and_system_messages() -> None:
    adapter = EventAdapter()
    result = UserMessage(
        [ToolResultBlock("t1", "out", True), TextBlock("x")], parent_tool_use_id="ta"
    )
    assert adapter.from_message(result, 8) == [
        ToolResult(thread="ta", tool_use_id="t1", content="out", text="out", is_error=True, at_ns=8)
    ]
    assert adapter.from_message(SystemMessage("init", {"session_id": "s1"}), 9) == [
        SessionInitialized(sdk_session_id="s1", at_ns=9)
    ]
    assert adapter.from_message(SystemMessage("status", {"status": "requesting"}), 10) == [
        RequestSent(at_ns=10)
    ]
    started = SystemMessage(
        "task_started",
        {
            "task_id": "a1",
            "tool_use_id": "t1",
            "is_backgrounded": False,
            "task_type": "local_agent",
        },
    )
    assert adapter.from_message(started, 11) == [
        TaskStarted(
            task_id="a1", tool_use_id="t1", background=False, task_type="local_agent", at_ns=11
        )
    ]
    done = SystemMessage("task_notification", {"task_id": "a1", "status": "completed"})
    assert adapter.from_message(done, 12) == [
        TaskFinished(task_id="a1", status="completed", at_ns=12)
    ]
    moved = SystemMessage("task_updated", {"task_id": "a2", "patch": {"is_backgrounded": True}})
    assert adapter.from_message(moved, 12) == [
        TaskStarted(task_id="a2", tool_use_id=None, background=True, at_ns=12)
    ]
    killed = SystemMessage("task_updated", {"task_id": "a2", "patch": {"status": "killed"}})
    assert adapter.from_message(killed, 12) == [
        TaskFinished(task_id="a2", status="killed", at_ns=12)
    ]
    idle = SystemMessage("session_state_changed", {"state": "idle"})
    assert adapter.from_message(idle, 12) == [SessionStateChanged(state="idle", at_ns=12)]
    retry = SystemMessage(
        "api_retry",
        {"attempt": 2, "max_retries": 10, "retry_delay_ms": 500, "error_status": 529,
         "error": "overloaded"},
    )  # fmt: skip
    assert adapter.from_message(retry, 13) == [
        ApiRetry(attempt=2, max_retries=10, delay_ms=500, status=529, error="overloaded", at_ns=13)
    ]


def test_a_result_message_keeps_turn_usage_and_cumulative_cost() -> None:
    message = ResultMessage(
        "success", 100, 90, False, 3, "sdk-1", total_cost_usd=0.25, usage={"output_tokens": 7}
    )
    (result,) = EventAdapter().from_message(message, 14)
    assert isinstance(result, QueryResult)
    assert (result.num_turns, result.total_cost_usd, result.usage.output_tokens) == (3, 0.25, 7)
    assert result.sdk_session_id == "sdk-1" and not result.is_error


def test_hooks_resolve_a_subagent_to_the_agent_tool_call_it_runs_for() -> None:
    adapter = EventAdapter()
    agent_call = AssistantMessage(
        [ToolUseBlock("ta", "Agent", {"subagent_type": "Explore", "prompt": "look"})], "x"
    )
    adapter.from_message(agent_call, 0)
    adapter.from_message(_task_started("a1", "ta"), 0)
    start = {"hook_event_name": "SubagentStart", "agent_id": "a1", "agent_type": "Explore"}
    assert adapter.from_hook(start, 1) == [
        SubagentStarted(thread="ta", agent_id="a1", agent_type="Explore", at_ns=1)
    ]
    pre = {"hook_event_name": "PreToolUse", "tool_use_id": "t1", "tool_name": "Bash",
           "tool_input": {"command": "ls"}, "agent_id": "a1"}  # fmt: skip
    assert adapter.from_hook(pre, 2) == [
        ToolStarted(
            thread="ta", tool_use_id="t1", name="Bash", arguments={"command": "ls"}, at_ns=2
        )
    ]
    post = {"hook_event_name": "PostToolUse", "tool_use_id": "t1", "duration_ms": 12,
            "tool_response": "ok"}  # fmt: skip
    assert adapter.from_hook(post, 3) == [
        ToolFinished(
            thread=None,
            tool_use_id="t1",
            name=None,
            duration_ms=12,
            error=None,
            interrupted=False,
            response="ok",
            response_chars=2,
            at_ns=3,
        )
    ]
    failure = {"hook_event_name": "PostToolUseFailure", "tool_use_id": "t1", "error": "exit 1",
               "is_interrupt": True}  # fmt: skip
    (failed,) = adapter.from_hook(failure, 4)
    assert isinstance(failed, ToolFinished) and failed.error == "exit 1" and failed.interrupted
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1", "agent_transcript_path": "/none"}
    assert adapter.from_hook(stop, 5) == [SubagentFinished(thread="ta", agent_id="a1", at_ns=5)]


def _task_started(task_id: str, tool_use_id: str) -> SystemMessage:
    return SystemMessage(
        "task_started",
        {"task_id": task_id, "tool_use_id": tool_use_id, "task_type": "local_agent",
         "is_backgrounded": True},
    )  # fmt: skip


def test_a_subagents_hooks_before_its_pairing_wait_for_it_and_keep_their_order() -> None:
    """Measured (CLI 2.1.332): SubagentStart and a subagent's PreToolUse may come before its
    `task_started`, and before the message holding its Agent call. They are held, then
    handed on with the right thread, in their order and with their own times."""
    adapter = EventAdapter()
    start = {"hook_event_name": "SubagentStart", "agent_id": "a1", "agent_type": "x"}
    pre = {"hook_event_name": "PreToolUse", "tool_use_id": "b1", "tool_name": "Bash",
           "tool_input": {}, "agent_id": "a1"}  # fmt: skip
    assert adapter.from_hook(start, 1) == [] and adapter.from_hook(pre, 2) == []
    events = adapter.from_message(_task_started("a1", "ta"), 3)
    assert [type(e) for e in events] == [TaskStarted, SubagentStarted, ToolStarted]
    assert [getattr(e, "thread", "-") for e in events[1:]] == ["ta", "ta"]
    assert [e.at_ns for e in events] == [3, 1, 2]


def test_task_started_pairs_each_subagent_whatever_the_order_of_its_agent_calls() -> None:
    adapter = EventAdapter()
    calls = [ToolUseBlock(i, "Agent", {"subagent_type": "general-purpose"}) for i in ("t1", "t2")]
    adapter.from_message(AssistantMessage(calls, "x"), 0)
    assert adapter.from_hook({"hook_event_name": "SubagentStart", "agent_id": "a2"}, 1) == []
    adapter.from_message(_task_started("a1", "t1"), 2)
    (first,) = adapter.from_hook({"hook_event_name": "SubagentStart", "agent_id": "a1"}, 3)
    _, second = adapter.from_message(_task_started("a2", "t2"), 4)
    assert isinstance(first, SubagentStarted) and first.thread == "t1"
    assert isinstance(second, SubagentStarted) and second.thread == "t2"


def test_without_task_started_held_hooks_resolve_at_the_query_end_in_order() -> None:
    """A CLI that never pairs (no `task_started`): the oldest unclaimed Agent call goes to the
    subagent heard of first."""
    adapter = EventAdapter()
    calls = [ToolUseBlock(i, "Agent", {"subagent_type": "general-purpose"}) for i in ("t1", "t2")]
    adapter.from_message(AssistantMessage(calls, "x"), 0)
    adapter.from_hook({"hook_event_name": "SubagentStart", "agent_id": "a1"}, 1)
    adapter.from_hook({"hook_event_name": "SubagentStart", "agent_id": "a2"}, 2)
    started = [e for e in adapter.settle(5) if isinstance(e, SubagentStarted)]
    assert [(e.agent_id, e.thread) for e in started] == [("a1", "t1"), ("a2", "t2")]


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
    assert adapter.from_message(started, 1) == [CompactionStarted(at_ns=1)]
    boundary = SystemMessage(
        "compact_boundary",
        {"compact_metadata": {"trigger": "manual", "pre_tokens": 1300, "post_tokens": 2661,
                              "duration_ms": 32}},
    )  # fmt: skip
    assert adapter.from_message(boundary, 2) == [
        Compacted(trigger="manual", pre_tokens=1300, post_tokens=2661, duration_ms=32, at_ns=2)
    ]


def _records(path: Path, *records: dict[str, object]) -> None:
    with path.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


REQUEST = {"type": "api-request", "timestamp": "2026-01-01T00:00:00Z"}
TOOL_CALL = {"type": "assistant", "timestamp": "2026-01-01T00:00:01Z",
             "message": {"id": "m1", "model": "h", "stop_reason": "tool_use",
                         "usage": {"input_tokens": 3, "output_tokens": 9}}}  # fmt: skip
ANSWER = {"type": "assistant", "message": {"id": "m2", "stop_reason": "end_turn",
                                           "usage": {"output_tokens": 4}}}  # fmt: skip


def test_a_subagent_finishes_once_its_transcript_holds_its_final_answer(tmp_path: Path) -> None:
    """Measured: the last record may be written just after SubagentStop. The subagent is
    reported finished (its calls, then its end) only once the transcript is complete."""
    transcript = tmp_path / "agent-a1.jsonl"
    _records(transcript, REQUEST, TOOL_CALL, REQUEST)  # a request in flight: not complete
    adapter = EventAdapter()
    adapter.from_message(_task_started("a1", "ta"), 0)
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1",
            "agent_transcript_path": str(transcript)}  # fmt: skip
    assert adapter.from_hook(stop, 5) == []
    assert adapter.due(5 + POLL_INTERVAL_NS) == []  # still incomplete, well within the wait
    _records(transcript, ANSWER)
    events = adapter.due(5 + 2 * POLL_INTERVAL_NS)
    assert [type(e) for e in events] == [SubagentCall, SubagentCall, SubagentFinished]
    first, second = events[0], events[1]
    assert isinstance(first, SubagentCall) and isinstance(second, SubagentCall)
    assert first.usage == Usage(input_tokens=3, output_tokens=9) and first.model == "h"
    assert first.requested_ns == 1767225600 * 10**9
    assert (second.message_id, second.usage.output_tokens) == ("m2", 4)
    assert adapter.due(10**12) == [] and adapter.settle(10**12) == []  # reported once


def test_a_subagent_whose_transcript_never_completes_finishes_when_the_wait_runs_out(
    tmp_path: Path,
) -> None:
    transcript = tmp_path / "agent-a1.jsonl"
    _records(transcript, REQUEST, TOOL_CALL)
    adapter = EventAdapter()
    adapter.from_message(_task_started("a1", "ta"), 0)
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1",
            "agent_transcript_path": str(transcript)}  # fmt: skip
    assert adapter.from_hook(stop, 0) == []
    late = adapter.due(int(SUBAGENT_SETTLE_S * 1e9))
    assert [type(e) for e in late] == [SubagentCall, SubagentFinished]


def test_the_query_end_settles_every_stopped_subagent(tmp_path: Path) -> None:
    transcript = tmp_path / "agent-a1.jsonl"
    _records(transcript, REQUEST, TOOL_CALL)
    adapter = EventAdapter()
    adapter.from_message(_task_started("a1", "ta"), 0)
    stop = {"hook_event_name": "SubagentStop", "agent_id": "a1",
            "agent_transcript_path": str(transcript)}  # fmt: skip
    adapter.from_hook(stop, 0)
    assert [type(e) for e in adapter.settle(1)] == [SubagentCall, SubagentFinished]
