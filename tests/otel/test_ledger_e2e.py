"""One ledger, one picture: with real subagent sessions (the real SDK and CLI against the
scripted server), every subagent span's call count and cost equal the sum of the chat spans
under it and its stdout `subagents` entry, every total on any span equals the chat spans below
it, and the session's figures equal Claude Code's `total_cost_usd`."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from runner.offline import Reply, ToolUse, Usage, bash, text
from tests.e2e.harness import expected_cost
from tests.otel.conftest import RunTraced, Traced
from tests.otel.test_tracing_e2e import SUBAGENT_SCRIPT


def _a(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def _below(t: Traced, span: ReadableSpan) -> list[ReadableSpan]:
    out, todo = [], [span]
    while todo:
        for child in t.children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def assert_one_picture(t: Traced, subagents: int) -> None:
    assert t.outcome.ok, t.outcome.error_message
    chats = t.named("chat ")
    assert len(chats) == len(t.server.message_calls)  # every call once
    for span in t.spans:
        a = _a(span)
        if "agentic_session.llm_calls" not in a:
            continue
        below = [c for c in _below(t, span) if c.name.startswith("chat ")]
        assert a["agentic_session.llm_calls"] == len(below), span.name
        assert a["agentic_session.cost_usd"] == pytest.approx(
            sum(_a(c)["gen_ai.usage.cost"] for c in below),  # type: ignore[misc]
            abs=1e-12,
        ), span.name
    agents = [s for s in t.named("invoke_agent ") if s.name != "invoke_agent claude-code"]
    assert len(agents) == subagents
    printed = [e for e in t.events if e["type"] == "result"]
    entries = [entry for result in printed for entry in result["subagents"]]
    assert sorted((e["calls"], round(e["cost_usd"], 12)) for e in entries) == sorted(
        (_a(s)["agentic_session.llm_calls"], round(_a(s)["agentic_session.cost_usd"], 12))  # type: ignore[arg-type]
        for s in agents
    )
    end = t.events[-1]
    assert end["type"] == "session_end" and end["subagents"] == entries
    # Claude Code's figure is the check: the calls served, priced, add up to it.
    served = sum(expected_cost(c.usage) for c in t.server.message_calls)
    assert end["reported_cost_usd"] == pytest.approx(served, abs=1e-12)
    assert end["total_cost_usd"] == pytest.approx(served, abs=1e-9)
    assert sum(_a(c)["gen_ai.usage.cost"] for c in chats) == pytest.approx(served, abs=1e-9)  # type: ignore[misc]
    assert _a(t.root)["agentic_session.cost_usd"] == pytest.approx(served, abs=1e-9)


def test_one_subagent_agrees_with_itself_stdout_and_claude_code(traced_session: RunTraced) -> None:
    t = traced_session(SUBAGENT_SCRIPT)
    assert_one_picture(t, subagents=1)
    (agent,) = t.named("invoke_agent general-purpose")
    assert _a(agent)["agentic_session.llm_calls"] == 2
    # Its tools name the call that asked for them and link to it, as main-thread tools do.
    (tool,) = [s for s in t.children(agent) if s.name == "execute_tool Bash"]
    requested_by = _a(tool)["agentic_session.tool.requested_by"]
    (asking,) = [c for c in t.children(agent) if _a(c).get("gen_ai.response.id") == requested_by]
    assert [link.context.span_id for link in tool.links] == [asking.context.span_id]


def _agent(subtask: str) -> ToolUse:
    return ToolUse(
        "Agent",
        {
            "description": subtask,
            "prompt": f"{subtask}: run echo",
            "subagent_type": "general-purpose",
        },
    )


TWO_SUBAGENTS = [
    Reply(content=(_agent("SUBTASK-A"), _agent("SUBTASK-B")), usage=Usage(100, 20, 0, 50)),
    bash("echo a-out", Usage(30, 11, 5, 0), match="SUBTASK-A"),
    bash("echo b-out", Usage(31, 13, 5, 0), match="SUBTASK-B"),
    text("a done", Usage(40, 12, 6, 0), match="a-out"),
    text("b done", Usage(41, 14, 6, 0), match="b-out"),
    text("Waiting for the agents.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("Still waiting.", Usage(301, 41, 71, 6), match="Async agent launched"),
    text("All done.", Usage(302, 42, 72, 7)),
    text("All done.", Usage(303, 43, 73, 8)),
]


def test_two_subagents_in_one_query_each_agree_with_stdout_and_claude_code(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_SUBAGENTS)
    assert_one_picture(t, subagents=2)
    agents = t.named("invoke_agent general-purpose")
    assert sorted(_a(s)["agentic_session.llm_calls"] for s in agents) == [2, 2]  # type: ignore[type-var]
    # Each nests under its own Agent tool call.
    tools = {s.context.span_id for s in t.named("execute_tool Agent")}
    assert {s.parent.span_id for s in agents if s.parent} == tools
