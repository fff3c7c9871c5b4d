"""Checks on a finished session's spans that must hold whatever the timing: the tree is whole
(every subagent under the Agent tool call that started it, its calls and tools under it), every
tool names and links the call that asked for it, and every figure agrees with the chat spans
below it, stdout and Claude Code's own figure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from tests.e2e.harness import expected_cost
from tests.otel.conftest import Traced


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def below(t: Traced, span: ReadableSpan) -> list[ReadableSpan]:
    out, todo = [], [span]
    while todo:
        for child in t.children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def subagent_spans(t: Traced) -> list[ReadableSpan]:
    return [s for s in t.named("invoke_agent ") if s.name != "invoke_agent claude-code"]


def assert_tree_whole(t: Traced, *, subagents: int, context: str = "") -> None:
    """Every subagent under its Agent tool call; nothing moved; every tool linked."""
    by_id = {s.context.span_id: s for s in t.spans}
    agents = subagent_spans(t)
    assert len(agents) == subagents, context
    for agent in agents:
        parent = by_id.get(agent.parent.span_id) if agent.parent else None
        assert parent is not None and parent.name == "execute_tool Agent", (context, agent.name)
        chats = [c for c in t.children(agent) if c.name.startswith("chat ")]
        assert chats, (context, "a subagent without its calls")
    assert_tools_linked(t, context=context)


def assert_tools_linked(t: Traced, *, context: str = "") -> None:
    """Each tool span names the call that asked for it (`requested_by` = that chat span's
    response id), links to that chat span, and sits beside it under the same agent."""
    chats = {attrs(c).get("gen_ai.response.id"): c for c in t.named("chat ")}
    for tool in t.named("execute_tool "):
        requested_by = attrs(tool).get("agentic_session.tool.requested_by")
        assert requested_by, (context, tool.name, "no requested_by")
        asking = chats.get(requested_by)
        assert asking is not None, (context, tool.name, requested_by)
        links = [link.context.span_id for link in tool.links]
        assert links == [asking.context.span_id], (context, tool.name, "link")
        assert tool.parent and asking.parent, context
        assert tool.parent.span_id == asking.parent.span_id, (context, tool.name, "nesting")


def assert_one_picture(t: Traced, subagents: int, context: str = "") -> None:
    """Every call once; every total on a span equals the chat spans below it; stdout's
    subagent entries equal the subagent spans; the session equals Claude Code's figure."""
    assert t.outcome.ok, (context, t.outcome.error_message)
    chats = t.named("chat ")
    assert len(chats) == len(t.server.message_calls), context  # every call once
    for span in t.spans:
        a = attrs(span)
        if "agentic_session.llm_calls" not in a:
            continue
        calls = [c for c in below(t, span) if c.name.startswith("chat ")]
        assert a["agentic_session.llm_calls"] == len(calls), (context, span.name)
        assert a["agentic_session.cost_usd"] == pytest.approx(
            sum(attrs(c)["gen_ai.usage.cost"] for c in calls), abs=1e-12
        ), (context, span.name)
    agents = subagent_spans(t)
    assert len(agents) == subagents, context
    printed = [e for e in t.events if e["type"] == "result"]
    entries = [entry for result in printed for entry in result["subagents"]]
    assert sorted((e["calls"], round(e["cost_usd"], 12)) for e in entries) == sorted(
        (attrs(s)["agentic_session.llm_calls"], round(attrs(s)["agentic_session.cost_usd"], 12))
        for s in agents
    ), context
    end = t.events[-1]
    assert end["type"] == "session_end" and end["subagents"] == entries, context
    served = served_cost(c.usage for c in t.server.message_calls)
    assert end["reported_cost_usd"] == pytest.approx(served, abs=1e-12), context
    assert end["total_cost_usd"] == pytest.approx(served, abs=1e-9), context
    total = sum(attrs(c)["gen_ai.usage.cost"] for c in chats)
    assert total == pytest.approx(served, abs=1e-9), context
    assert attrs(t.root)["agentic_session.cost_usd"] == pytest.approx(served, abs=1e-9), context


def served_cost(usages: Iterable[dict[str, Any]]) -> float:
    """What Claude Code charges for the calls the test server answered."""
    return sum(expected_cost(u) for u in usages)
