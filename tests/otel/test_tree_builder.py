"""The tree builder on hand-built SDK messages (through the event adapter, as the driver does):
grouping, nesting, live ending, and robustness.

The property test feeds arbitrary sequences (out of order, missing results, duplicate ids,
unknown block and message types) and asserts the pipeline never raises and ends every span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, UserMessage
from claude_agent_sdk.types import SystemMessage, TextBlock, ToolResultBlock, ToolUseBlock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runner.config import Tenancy
from runner.event_adapter import EventAdapter
from runner.otel import session_observer
from runner.otel.content import ContentPolicy
from runner.otel.span_renderer import SpanRenderer
from runner.otel.tree_builder import TreeBuilder
from runner.redaction import Redactor
from runner.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart, Usage


@dataclass(frozen=True)
class HookEvent:
    """A hook input as the CLI sends it."""

    name: str
    data: dict[str, Any]
    at_ns: int


class Fed:
    """The tree builder fed the way the driver feeds it: through the event adapter."""

    def __init__(self, builder: TreeBuilder) -> None:
        self.builder = builder
        self.adapter = EventAdapter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.builder, name)

    def on_message(self, message: object, at_ns: int) -> None:
        for event in self.adapter.from_message(message, at_ns):
            self.builder.on_event(event)

    def on_hook(self, hook: HookEvent) -> None:
        data = {**hook.data, "hook_event_name": hook.name}
        for event in self.adapter.from_hook(data, hook.at_ns):
            self.builder.on_event(event)


def _model(capture: bool = False) -> tuple[Fed, SpanRenderer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    builder = session_observer(
        provider.get_tracer("t"), ContentPolicy(capture, Redactor()), attach=False
    )
    assert isinstance(builder.renderer, SpanRenderer)
    return Fed(builder), builder.renderer, exporter


def _start(model: Fed, t: int = 1) -> None:
    model.on_session_start(SessionStart("s", "claude-sonnet-4-5", False, "/w", Tenancy(), "p", t))
    model.on_query_start(QueryStart(1, "p", t + 1))


def _se(event: dict[str, Any], parent: str | None = None) -> StreamEvent:
    return StreamEvent(uuid="u", session_id="sdk", event=event, parent_tool_use_id=parent)


def test_assistant_messages_sharing_a_message_id_are_one_call_with_final_usage() -> None:
    model, renderer, exporter = _model()
    _start(model)
    start_usage = {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 5}
    model.on_message(
        _se(
            {
                "type": "message_start",
                "message": {"id": "m1", "model": "claude-sonnet-4-5", "usage": start_usage},
            }
        ),
        10,
    )
    model.on_message(
        AssistantMessage([TextBlock("a")], "claude-sonnet-4-5", message_id="m1", usage=start_usage),
        11,
    )
    model.on_message(
        AssistantMessage(
            [ToolUseBlock("t1", "Bash", {})],
            "claude-sonnet-4-5",
            message_id="m1",
            usage=start_usage,
        ),
        12,
    )
    model.on_message(
        _se(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 77},
            }
        ),
        13,
    )
    model.on_message(_se({"type": "message_stop"}), 14)
    # Live: the call is exported at its message_stop, before the query ends.
    chats = [s for s in exporter.get_finished_spans() if s.name.startswith("chat")]
    assert len(chats) == 1
    model.on_query_end(QueryOutcome(1, 20, False, cost_usd=0.5))
    model.on_session_end(SessionOutcome("success", 0, 21))
    a = chats[0].attributes or {}
    assert a["gen_ai.usage.output_tokens"] == 77
    assert a["gen_ai.usage.input_tokens"] == 15
    # Its own exact price (Sonnet 4.5: $3 input, $0.30 cache read, $15 output per MTok) ...
    assert a["gen_ai.usage.cost"] == pytest.approx((10 * 3 + 5 * 0.3 + 77 * 15) / 1e6, abs=1e-15)
    assert (chats[0].start_time, chats[0].end_time) == (2, 14)
    # ... and the reported figure is the check: the query span records the difference.
    (query,) = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]
    assert query.attributes["agentic_session.cost.difference_usd"] == pytest.approx(  # type: ignore[index]
        0.5 - a["gen_ai.usage.cost"], abs=1e-15
    )
    # The tool never ran (no hooks, no result): it is ended at the query's end.
    assert renderer.spans_started == renderer.spans_ended


def test_subagent_messages_without_hooks_still_nest_under_the_tool_call() -> None:
    model, renderer, exporter = _model()
    _start(model)
    model.on_message(
        AssistantMessage(
            [ToolUseBlock("ta", "Agent", {"subagent_type": "Explore"})],
            "claude-sonnet-4-5",
            message_id="m1",
        ),
        5,
    )
    model.on_hook(HookEvent("PreToolUse", {"tool_use_id": "ta", "tool_name": "Agent"}, 6))
    model.on_message(
        AssistantMessage(
            [ToolUseBlock("tb", "Read", {})],
            "claude-haiku-4-5",
            parent_tool_use_id="ta",
            message_id="m2",
            usage={"input_tokens": 3, "output_tokens": 1},
        ),
        8,
    )
    model.on_message(UserMessage([ToolResultBlock("tb", "ok")], parent_tool_use_id="ta"), 9)
    model.on_hook(HookEvent("PostToolUse", {"tool_use_id": "ta", "tool_name": "Agent"}, 10))
    model.on_query_end(QueryOutcome(1, 20, False, cost_usd=None))
    model.on_session_end(SessionOutcome("success", 0, 21))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    agent = spans["invoke_agent Explore"]
    assert agent.parent is not None
    assert agent.parent.span_id == spans["execute_tool Agent"].context.span_id
    assert spans["chat claude-haiku-4-5"].parent.span_id == agent.context.span_id  # type: ignore[union-attr]
    assert spans["execute_tool Read"].parent.span_id == agent.context.span_id  # type: ignore[union-attr]
    assert renderer.spans_started == renderer.spans_ended == len(spans)


def test_post_tool_use_failure_marks_the_tool_span_with_the_error() -> None:
    model, _, exporter = _model()
    _start(model)
    model.on_hook(HookEvent("PreToolUse", {"tool_use_id": "t", "tool_name": "Bash"}, 5))
    model.on_hook(
        HookEvent(
            "PostToolUseFailure", {"tool_use_id": "t", "tool_name": "Bash", "error": "exit 1"}, 9
        )
    )
    model.on_query_end(QueryOutcome(1, 20, False, cost_usd=0.0))
    model.on_session_end(SessionOutcome("success", 0, 21))
    (tool,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool Bash"]
    assert tool.attributes["error.type"] == "tool_error"  # type: ignore[index]
    assert tool.status.description == "exit 1"
    assert (tool.start_time, tool.end_time) == (5, 9)


# --- property: arbitrary streams never raise and leave nothing unended -----------------------

ids = st.sampled_from(["m1", "m2", "m3", None])
tool_ids = st.sampled_from(["t1", "t2", "t3"])
threads = st.sampled_from([None, None, "t1", "t2"])


@dataclass
class OddBlock:
    """A block type the SDK does not have (a newer CLI's)."""

    payload: str = "?"


@dataclass
class OddMessage:
    kind: str = "brand_new"


blocks = st.one_of(
    st.builds(TextBlock, st.text(max_size=5)),
    st.builds(
        ToolUseBlock,
        tool_ids,
        st.sampled_from(["Bash", "Agent", "Task"]),
        st.just({"subagent_type": "x"}),
    ),
    st.builds(OddBlock),
)
usage_dicts = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"input_tokens": st.integers(-5, 50), "output_tokens": st.integers(0, 9)}
    ),
    st.just({"input_tokens": "many"}),
)
messages = st.one_of(
    st.builds(
        lambda i, t, u: _se({"type": "message_start", "message": {"id": i, "usage": u}}, t),
        ids,
        threads,
        usage_dicts,
    ),
    st.builds(
        lambda t, u: _se({"type": "message_delta", "usage": u, "delta": {}}, t),
        threads,
        usage_dicts,
    ),
    st.builds(lambda t: _se({"type": "message_stop"}, t), threads),
    st.builds(lambda t: _se({"type": "weird"}, t), threads),
    st.builds(
        lambda b, i, t, u, e: AssistantMessage(b, "claude-sonnet-4-5", t, e, u, i),
        st.lists(blocks, max_size=3),
        ids,
        threads,
        usage_dicts,
        st.sampled_from([None, None, "rate_limit"]),
    ),
    st.builds(
        lambda tid, t, err: UserMessage([ToolResultBlock(tid, "out", err)], parent_tool_use_id=t),
        tool_ids,
        threads,
        st.booleans(),
    ),
    st.builds(lambda: SystemMessage("status", {"status": "requesting"})),
    st.builds(
        lambda tid: SystemMessage("task_started", {"task_id": "a1", "tool_use_id": tid}), tool_ids
    ),
    st.builds(lambda: ResultMessage("success", 1, 1, False, 1, "sdk", total_cost_usd=0.1)),
    st.builds(OddMessage),
)
hooks = st.builds(
    lambda name, tid, agent: HookEvent(
        name,
        {
            "tool_use_id": tid,
            "tool_name": "Bash",
            "agent_id": agent,
            "agent_type": "x",
            "agent_transcript_path": "/nonexistent",
        },
        0,
    ),
    st.sampled_from(
        [
            "PreToolUse",
            "PostToolUse",
            "PostToolUseFailure",
            "SubagentStart",
            "SubagentStop",
            "Unknown",
        ]
    ),
    tool_ids,
    st.sampled_from([None, "a1", "a2"]),
)
steps = st.lists(
    st.one_of(messages, hooks, st.just("query_start"), st.just("query_end")), max_size=40
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.booleans(), st.sampled_from([None, 0.0, 0.3]))
def test_any_stream_ends_every_span_and_never_raises(
    sequence: list[object], capture: bool, cost: float | None
) -> None:
    model, renderer, exporter = _model(capture)
    t = 1
    model.on_session_start(SessionStart("s", "claude-sonnet-4-5", True, "/w", Tenancy(), "p", t))
    index = 0
    for step in sequence:
        t += 1
        if step == "query_start":
            index += 1
            model.on_query_start(QueryStart(index, "p", t))
        elif step == "query_end":
            model.on_query_end(QueryOutcome(max(index, 1), t, False, usage=Usage(), cost_usd=cost))
        elif isinstance(step, HookEvent):
            model.on_hook(HookEvent(step.name, step.data, t))
        else:
            model.on_message(step, t)
    model.on_session_end(SessionOutcome("error", 1, t + 1, error_type="runner_error"))
    spans = exporter.get_finished_spans()
    assert renderer.spans_started == renderer.spans_ended == len(spans)
    assert sum(1 for s in spans if s.name == "agentic-session") == 1
    for span in spans:
        assert span.end_time is not None and span.start_time is not None
        assert span.end_time >= span.start_time
        cost_attr = (span.attributes or {}).get("gen_ai.usage.cost")
        assert cost_attr is None or isinstance(cost_attr, float)
