"""One ledger, one picture: with real subagent sessions (the real SDK and CLI against the
scripted server), every subagent span's call count and cost equal the sum of the chat spans
under it and its stdout `subagents` entry, every total on any span equals the chat spans below
it, and the session's figures equal Claude Code's `total_cost_usd`."""

from __future__ import annotations

from runner.offline import Reply, ToolUse, Usage, bash, text
from tests.otel.conftest import RunTraced
from tests.support.scripts import SUBAGENT_SCRIPT
from tests.support.trace_checks import assert_one_picture, attrs


def test_one_subagent_agrees_with_itself_stdout_and_claude_code(traced_session: RunTraced) -> None:
    t = traced_session(SUBAGENT_SCRIPT)
    assert_one_picture(t, subagents=1)
    (agent,) = t.named("invoke_agent general-purpose")
    assert attrs(agent)["agentic_session.llm_calls"] == 2
    # Its tools name the call that asked for them and link to it, as main-thread tools do.
    (tool,) = [s for s in t.children(agent) if s.name == "execute_tool Bash"]
    requested_by = attrs(tool)["agentic_session.tool.requested_by"]
    (asking,) = [c for c in t.children(agent) if attrs(c).get("gen_ai.response.id") == requested_by]
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
    assert sorted(attrs(s)["agentic_session.llm_calls"] for s in agents) == [2, 2]  # type: ignore[type-var]
    # Each nests under its own Agent tool call.
    tools = {s.context.span_id for s in t.named("execute_tool Agent")}
    assert {s.parent.span_id for s in agents if s.parent} == tools
