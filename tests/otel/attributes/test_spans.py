"""The attribute layer, as pure functions: what every backend sees for each kind of node, with
Langfuse's rules in mind (usage and cost on chat spans only; JSON objects of numbers; ISO times;
content only with capture, leaf by leaf)."""

from __future__ import annotations

import json
from datetime import datetime

from runner.accounting.figures import Figures, LedgerCall, LedgerFigures
from runner.accounting.pricing import price
from runner.accounting.usage import Usage
from runner.config import Tenancy
from runner.events.types import ApiRetry, Compacted
from runner.otel.attributes import spans as attrs
from runner.otel.attributes.content import ContentPolicy
from runner.otel.tree.nodes import (
    AgentNode,
    ChatNode,
    CompactionNode,
    QueryNode,
    SessionNode,
    ToolNode,
)
from runner.redaction import Redactor
from runner.session.types import QueryOutcome, SessionOutcome

OFF = ContentPolicy(False, Redactor())
ON = ContentPolicy(True, Redactor(max_chars=10))
SESSION = SessionNode(
    key="s",
    parent=None,
    start_ns=0,
    session_id="sess-1",
    model="claude-sonnet-4-5",
    tenancy=Tenancy(namespace="ns", project="p", user_id="u"),
    prompt="do it",
)


def _chat(**kw: object) -> ChatNode:
    usage = Usage(
        input_tokens=100,
        output_tokens=20,
        cache_read_input_tokens=300,
        cache_creation_input_tokens=50,
        cache_creation_1h_input_tokens=10,
    )
    call = LedgerCall(
        query=1,
        thread=None,
        message_id="msg_1",
        model="claude-sonnet-4-5",
        usage=usage,
        stop_reason="end_turn",
        cost=price("claude-sonnet-4-5", usage),
        cost_source="price",
        context_window=200_000,
    )
    node = ChatNode(
        key="c",
        parent=QueryNode(key="q", parent=SESSION, start_ns=0),
        start_ns=1_000_000_000,
        message_id="msg_1",
        response_model="claude-sonnet-4-5",
        first_chunk_ns=1_250_000_000,
        call=call,
    )
    for key, value in kw.items():
        setattr(node, key, value)
    return node


def test_every_span_gets_session_user_trace_name_tags_and_tenancy() -> None:
    common = attrs.common(SESSION, "prod")
    assert common["langfuse.session.id"] == common["session.id"] == "sess-1"
    assert common["langfuse.user.id"] == common["user.id"] == "u"
    assert common["langfuse.trace.name"] == "agentic-session"
    assert common["langfuse.trace.tags"] == ["claude-code-runner", "namespace:ns", "project:p"]
    assert common["langfuse.environment"] == "prod"


def test_a_chat_span_carries_langfuse_usage_and_cost_details_as_json_objects_of_numbers() -> None:
    a = attrs.chat_attributes(_chat(), OFF)
    usage = json.loads(str(a["langfuse.observation.usage_details"]))
    assert usage == {
        "input": 100,
        "output": 20,
        "cache_read_input_tokens": 300,
        "cache_creation_input_tokens": 40,
        "cache_creation_1h_input_tokens": 10,
    }
    cost = json.loads(str(a["langfuse.observation.cost_details"]))
    assert all(isinstance(v, float) for v in cost.values())
    assert cost["total"] == a["gen_ai.usage.cost"]
    assert sum(v for k, v in cost.items() if k != "total") == cost["total"]
    assert a["gen_ai.usage.input_tokens"] == 450  # cache included (the conventions)
    start = datetime.fromisoformat(str(a["langfuse.observation.completion_start_time"]))
    assert start.timestamp() == 1.25
    assert a["gen_ai.response.time_to_first_chunk"] == 0.25
    assert a["agentic_session.context.utilization"] == 450 / 200_000
    assert a["agentic_session.cache.hit_ratio"] == 300 / 450
    assert "gen_ai.input.messages" not in a  # no content without capture


def test_only_chat_spans_carry_usage_cost_or_a_model_that_a_backend_would_count() -> None:
    """Langfuse counts usage/cost on every non-agent observation and prices any that names a
    model; MLflow prices every span with tokens and a model, agents included."""
    figures = LedgerFigures(total=Figures(calls=2, usage=Usage(input_tokens=5), cost_usd=0.5))
    session = SessionNode(key="s2", parent=None, start_ns=0, session_id="sess-1")
    session.outcome = SessionOutcome(status="success", exit_code=0, at_ns=5, figures=figures)
    query = QueryNode(key="q", parent=session, start_ns=0, index=1)
    query.outcome = QueryOutcome(index=1, at_ns=4, is_error=False, figures=figures)
    agent = AgentNode(key="a", parent=None, start_ns=0, figures=figures.total)
    tool = ToolNode(key="t", parent=None, start_ns=0, name="Bash", tool_use_id="tu_1")
    for node in (session, query, agent, tool):
        a = {**attrs.start_attributes(node, ON), **attrs.end_attributes(node, ON)}
        counted = [
            k
            for k in a
            if k.startswith(
                ("gen_ai.usage", "llm.", "gen_ai.request.model", "gen_ai.response.model")
            )
            or k in ("langfuse.observation.usage_details", "langfuse.observation.cost_details")
        ]
        assert counted == [], type(node).__name__
        if node is not tool:
            assert a["agentic_session.cost_usd"] == 0.5 and a["agentic_session.llm_calls"] == 2
    root = attrs.end_attributes(session, OFF)
    summary = json.loads(str(root["langfuse.observation.output"]))
    assert (
        summary["status"] == "success"
        and root["langfuse.trace.output"] == root["langfuse.observation.output"]
    )
    assert isinstance(root["agentic_session.cost_usd"], float)


def test_query_and_subagent_spans_are_agents_with_their_totals() -> None:
    query = QueryNode(key="q", parent=SESSION, start_ns=0, index=1)
    assert attrs.start_attributes(query, OFF)["gen_ai.operation.name"] == "invoke_agent"
    agent = AgentNode(key="a", parent=None, start_ns=0, agent_type="Explore", agent_id="a1")
    usage = Usage(input_tokens=10, output_tokens=5)
    cost = price("claude-sonnet-4-5", usage)
    agent.figures = Figures(calls=1, usage=usage, cost_usd=cost.total if cost else 0.0)
    a = attrs.end_attributes(agent, OFF)
    assert a["gen_ai.agent.name"] == "Explore" and a["agentic_session.llm_calls"] == 1
    assert abs(a["agentic_session.cost_usd"] - (10 * 3 + 5 * 15) / 1e6) < 1e-15  # type: ignore[operator]


def test_content_is_captured_only_when_asked_and_cut_leaf_by_leaf() -> None:
    chat = _chat(input_parts=[{"type": "text", "content": "x" * 50}])
    a = attrs.chat_attributes(chat, ON)
    messages = json.loads(str(a["gen_ai.input.messages"]))  # still valid JSON
    assert messages[0]["parts"][0]["content"].startswith("x" * 10 + "…[truncated 40")
    assert "gen_ai.input.messages" not in attrs.chat_attributes(chat, OFF)


def test_errors_are_redacted_and_events_described() -> None:
    tool = ToolNode(key="t", parent=None, start_ns=0, error_type="tool_error")
    tool.error_message = "failed with key sk-ant-api03-" + "A" * 30
    error, message = attrs.error_attributes(tool, OFF) or ({}, "")
    assert error == {"error.type": "tool_error"} and "sk-ant" not in message
    name, retry = attrs.event_attributes(
        ApiRetry(attempt=2, max_retries=10, delay_ms=500, status=529, error="overloaded", at_ns=1),
        OFF,
    ) or (
        "",
        {},
    )
    assert name == "agentic_session.api_retry" and retry["http.response.status_code"] == 529
    name, compaction = attrs.event_attributes(
        Compacted(trigger="auto", pre_tokens=150_000, post_tokens=9_000, duration_ms=30, at_ns=2),
        OFF,
    ) or (
        "",
        {},
    )
    assert (
        name == "agentic_session.compaction"
        and compaction["agentic_session.compaction.pre_tokens"] == 150_000
    )
    node = CompactionNode(key="k", parent=None, start_ns=0, trigger="auto", pre_tokens=1)
    assert attrs.span_name(node) == "compaction"
    assert attrs.end_attributes(node, OFF) == {
        "agentic_session.compaction.trigger": "auto",
        "agentic_session.compaction.pre_tokens": 1,
    }
