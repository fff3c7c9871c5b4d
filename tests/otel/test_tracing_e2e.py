"""One trace per session, following the span model and its invariants (DESIGN.md), on real
sessions: the real SDK and Claude Code CLI against the scripted Messages API server."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from runner.offline import Failure, bash, text
from tests.e2e.harness import expected_cost
from tests.otel.conftest import RunTraced
from tests.support.scripts import SUBAGENT_SCRIPT, TWO_BASH, U1, U2, U3

EVERY_SPAN = {
    "langfuse.session.id": "traced-session",
    "session.id": "traced-session",
    "user.id": "user-7",
    "langfuse.trace.name": "agentic-session",
    "agentic_session.namespace": "team-a",
    "agentic_session.project": "proj-x",
}


def test_the_tree_has_a_session_a_query_and_a_span_per_call_and_per_tool(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)

    assert t.outcome.ok
    root = t.root
    assert root.parent is None
    (query,) = t.children(root)
    assert query.name == "invoke_agent claude-code"
    below = sorted(s.name for s in t.children(query))
    assert below == ["chat claude-sonnet-4-5"] * 3 + ["execute_tool Bash"] * 2
    assert len(t.spans) == 1 + 1 + 3 + 2
    assert {s.context.trace_id for s in t.spans} == {root.context.trace_id}
    assert t.renderer.spans_started == t.renderer.spans_ended == len(t.spans)


def test_every_span_carries_session_user_trace_name_tags_and_tenancy(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)
    for span in t.spans:
        attributes = dict(span.attributes or {})
        for key, value in EVERY_SPAN.items():
            assert attributes.get(key) == value, (span.name, key)
        assert list(attributes["langfuse.trace.tags"]) == [
            "claude-code-runner",
            "namespace:team-a",
            "project:proj-x",
        ]


def test_chat_spans_match_the_calls_served_with_inclusive_input_tokens(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)
    chats = sorted(t.named("chat "), key=lambda s: s.start_time or 0)
    served = t.server.message_calls
    assert len(chats) == len(served) == 3
    for span, call in zip(chats, served, strict=True):
        a = span.attributes or {}
        u = call.usage
        assert a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.provider.name"] == "anthropic"
        assert a["gen_ai.response.id"] == call.message_id
        assert a["gen_ai.response.model"] == "claude-sonnet-4-5"
        assert a["gen_ai.request.model"] == "claude-sonnet-4-5"
        assert a["gen_ai.usage.input_tokens"] == (
            u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        )
        assert a["gen_ai.usage.output_tokens"] == u["output_tokens"]
        assert a["gen_ai.usage.cache_read.input_tokens"] == u["cache_read_input_tokens"]
        assert a["gen_ai.usage.cache_write.input_tokens"] == u["cache_creation_input_tokens"]
        assert json.loads(a["langfuse.observation.usage_details"]) == {  # type: ignore[arg-type]
            "input": u["input_tokens"],
            "output": u["output_tokens"],
            "cache_read_input_tokens": u["cache_read_input_tokens"],
            "cache_creation_input_tokens": u["cache_creation_input_tokens"],
        }
        details = json.loads(a["langfuse.observation.cost_details"])  # type: ignore[arg-type]
        assert details["total"] == pytest.approx(expected_cost(u), abs=1e-12)
        assert a["agentic_session.cost_source"] == "price"
        assert list(a["gen_ai.response.finish_reasons"]) == [call.stop_reason]
        assert isinstance(a["gen_ai.usage.cost"], float)
        assert a["gen_ai.usage.cost"] == pytest.approx(expected_cost(u), abs=1e-12)
        assert isinstance(a["gen_ai.response.time_to_first_chunk"], float)
        first_chunk = datetime.fromisoformat(a["langfuse.observation.completion_start_time"])  # type: ignore[arg-type]
        assert span.start_time <= first_chunk.timestamp() * 1e9 <= span.end_time  # type: ignore[operator]
        assert a["gen_ai.conversation.id"]  # the SDK's session id
        # Honest times: the span covers the request the server served.
        assert span.start_time is not None and span.end_time is not None
        # (start is when the runner saw the CLI announce the request; allow for pipe latency)
        assert span.start_time <= int(call.started * 1e9) + 25_000_000
        assert span.end_time >= int(call.ended * 1e9) - 5_000_000


def test_chat_costs_of_a_query_add_up_to_the_reported_cost(traced_session: RunTraced) -> None:
    t = traced_session(TWO_BASH)
    (query_outcome,) = t.outcome.queries
    assert query_outcome.cost_usd is not None and query_outcome.cost_usd > 0
    chat_costs = [s.attributes["gen_ai.usage.cost"] for s in t.named("chat ")]  # type: ignore[index]
    assert sum(chat_costs) == pytest.approx(query_outcome.cost_usd, abs=1e-9)
    query = t.one("invoke_agent claude-code").attributes or {}
    assert query["agentic_session.cost_usd"] == pytest.approx(query_outcome.cost_usd, abs=1e-12)
    assert query["agentic_session.cost.reported_usd"] == pytest.approx(query_outcome.cost_usd)
    assert "agentic_session.cost.difference_usd" not in query  # priced exactly: no difference
    assert query["agentic_session.usage.output_tokens"] == 85 + 42 + 38
    assert "gen_ai.usage.cost" not in query
    # Usage, cost and model only on chat spans: Langfuse sums cost over every non-agent
    # observation, MLflow prices every span with tokens and a model.
    for span in [t.root, *t.named("execute_tool"), *t.named("invoke_agent")]:
        assert "gen_ai.request.model" not in (span.attributes or {})
        assert not [k for k in span.attributes or {} if k.startswith(("gen_ai.usage", "llm."))]
        assert "langfuse.observation.cost_details" not in (span.attributes or {})


def test_tool_spans_have_real_durations_ids_and_nest_under_the_query(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)
    tools = sorted(t.named("execute_tool"), key=lambda s: s.start_time or 0)
    ids = t.server.message_calls[0].tool_use_ids + t.server.message_calls[1].tool_use_ids
    assert [s.attributes["gen_ai.tool.call.id"] for s in tools] == ids  # type: ignore[index]
    for span in tools:
        assert span.attributes["gen_ai.tool.name"] == "Bash"  # type: ignore[index]
        assert span.attributes["gen_ai.operation.name"] == "execute_tool"  # type: ignore[index]
        assert span.status.status_code != StatusCode.ERROR
        assert span.end_time and span.start_time and span.end_time > span.start_time


def test_a_failing_tool_gives_an_error_span(traced_session: RunTraced) -> None:
    t = traced_session([bash("echo boom && exit 3", U1), text("It failed.", U2)])
    (tool,) = t.named("execute_tool")
    assert tool.status.status_code == StatusCode.ERROR
    assert tool.attributes["error.type"] == "tool_error"  # type: ignore[index]
    assert t.outcome.ok and t.root.status.status_code != StatusCode.ERROR


def test_an_api_error_marks_the_call_the_query_and_the_session(traced_session: RunTraced) -> None:
    t = traced_session([Failure(529, "overloaded")])
    assert t.outcome.exit_code == 3
    (chat,) = t.named("chat ")
    assert chat.status.status_code == StatusCode.ERROR
    assert chat.attributes["error.type"] == "server_error"  # type: ignore[index]
    query = t.one("invoke_agent claude-code")
    assert query.status.status_code == StatusCode.ERROR
    assert query.attributes["error.type"] == "model_error"  # type: ignore[index]
    assert t.root.status.status_code == StatusCode.ERROR
    assert t.root.attributes["error.type"] == "model_error"  # type: ignore[index]
    output = json.loads(t.root.attributes["langfuse.observation.output"])  # type: ignore[arg-type,index]
    assert output["success"] is False and output["status"] == "model_error"
    assert (
        t.root.attributes["langfuse.trace.output"]
        == t.root.attributes[  # type: ignore[index]
            "langfuse.observation.output"
        ]
    )


def test_a_timeout_ends_every_span_with_error(traced_session: RunTraced) -> None:
    t = traced_session([bash("python3 -c 'import time; time.sleep(30)'", U1)], timeout_s=2)
    assert t.outcome.exit_code == 4
    assert t.renderer.spans_started == t.renderer.spans_ended
    assert t.root.attributes["error.type"] == "timeout"  # type: ignore[index]
    (tool,) = t.named("execute_tool")
    assert tool.status.status_code == StatusCode.ERROR


def test_two_turn_interactive_session_gives_one_query_span_per_turn_in_one_trace(
    traced_session: RunTraced,
) -> None:
    script = [text("First.", U1, match="first"), bash("echo x", U2, match="second"), text("2.", U3)]
    t = traced_session(script, prompt="first", messages=["second"])
    assert t.outcome.ok and len(t.outcome.queries) == 2
    queries = sorted(t.named("invoke_agent claude-code"), key=lambda s: s.start_time or 0)
    assert len(queries) == 2
    assert {s.context.trace_id for s in t.spans} == {t.root.context.trace_id}
    served = t.server.message_calls
    per_query = [
        expected_cost(served[0].usage),
        expected_cost(served[1].usage) + expected_cost(served[2].usage),
    ]
    for span, outcome, cost in zip(queries, t.outcome.queries, per_query, strict=True):
        a = span.attributes or {}
        assert a["agentic_session.cost_usd"] == pytest.approx(cost, abs=1e-12)
        assert a["agentic_session.cost_usd"] == pytest.approx(outcome.cost_usd, abs=1e-12)
        chats = [c for c in t.children(span) if c.name.startswith("chat ")]
        assert sum(c.attributes["gen_ai.usage.cost"] for c in chats) == pytest.approx(  # type: ignore[index]
            outcome.cost_usd, abs=1e-9
        )
    assert [len([c for c in t.children(q) if c.name.startswith("chat")]) for q in queries] == [1, 2]


def test_a_subagent_nests_under_its_tool_call_with_its_own_calls_and_tools(
    traced_session: RunTraced,
) -> None:
    t = traced_session(SUBAGENT_SCRIPT)
    assert t.outcome.ok, t.outcome.error_message
    assert not t.server.exhausted_calls
    agent_tool = t.one("execute_tool Agent")
    (subagent,) = t.children(agent_tool)
    assert subagent.name == "invoke_agent general-purpose"
    assert subagent.attributes["gen_ai.agent.name"] == "general-purpose"  # type: ignore[index]
    below = sorted(s.name for s in t.children(subagent))
    assert below == ["chat claude-sonnet-4-5", "chat claude-sonnet-4-5", "execute_tool Bash"]
    # Final usage comes from the transcript, not the message_start snapshot (output = 1).
    sub_chats = sorted(
        (s for s in t.children(subagent) if s.name.startswith("chat")),
        key=lambda s: s.attributes["gen_ai.usage.output_tokens"],  # type: ignore[index]
    )
    assert [s.attributes["gen_ai.usage.output_tokens"] for s in sub_chats] == [11, 12]  # type: ignore[index]
    # Every call of the session is a chat span, and their costs add up to the reported cost.
    assert len(t.named("chat ")) == len(t.server.message_calls) == 5
    total = sum(s.attributes["gen_ai.usage.cost"] for s in t.named("chat "))  # type: ignore[index]
    assert total == pytest.approx(t.outcome.cost_usd, abs=1e-9)
    assert total == pytest.approx(sum(expected_cost(c.usage) for c in t.server.message_calls))


def test_content_is_absent_by_default(traced_session: RunTraced) -> None:
    t = traced_session(TWO_BASH)
    content_keys = {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "langfuse.trace.input",
    }
    for span in t.spans:
        assert not content_keys & set(span.attributes or {}), span.name
    raw = t.otlp_bytes()
    assert b"echo one" not in raw and b"Do the scripted task" not in raw
    # The outcome summary is not content: it is always there.
    assert json.loads(t.root.attributes["langfuse.trace.output"])["success"] is True  # type: ignore[arg-type,index]


PLANTED = "sk-ant-api03-PLANTEDplantedPLANTED0123456789abcdef"


@pytest.mark.parametrize("capture", [True, False])
def test_a_key_planted_in_tool_output_never_appears_in_exported_bytes(
    traced_session: RunTraced, capture: bool
) -> None:
    t = traced_session([bash(f"echo token={PLANTED}", U1), text("Saw it.", U2)], capture=capture)
    assert t.outcome.ok
    assert PLANTED.encode() not in t.otlp_bytes()
    assert PLANTED not in t.stdout
    if capture:
        (tool,) = t.named("execute_tool")
        result = str(tool.attributes["gen_ai.tool.call.result"])  # type: ignore[index]
        assert "[REDACTED]" in result
        args = json.loads(str(tool.attributes["gen_ai.tool.call.arguments"]))  # type: ignore[index]
        assert args["command"].startswith("echo token=")


def test_capture_on_records_prompt_completion_and_tool_io(traced_session: RunTraced) -> None:
    t = traced_session(TWO_BASH, capture=True)
    chats = sorted(t.named("chat "), key=lambda s: s.start_time or 0)
    first_in = json.loads(chats[0].attributes["gen_ai.input.messages"])  # type: ignore[arg-type,index]
    assert first_in == [
        {"role": "user", "parts": [{"type": "text", "content": "Do the scripted task."}]}
    ]
    first_out = json.loads(chats[0].attributes["gen_ai.output.messages"])  # type: ignore[arg-type,index]
    assert first_out[0]["parts"][0] == {"type": "text", "content": "Starting."}
    assert first_out[0]["parts"][1]["type"] == "tool_call"
    assert first_out[0]["finish_reason"] == "tool_use"
    second_in = json.loads(chats[1].attributes["gen_ai.input.messages"])  # type: ignore[arg-type,index]
    assert second_in[0]["parts"][0]["type"] == "tool_call_response"
    assert second_in[0]["parts"][0]["response"] == "one"
    assert t.root.attributes["langfuse.trace.input"] == "Do the scripted task."  # type: ignore[index]


def test_metrics_count_tokens_durations_and_cost(traced_session: RunTraced) -> None:
    t = traced_session(TWO_BASH)
    assert t.metrics is not None
    metrics = {
        m.name: m
        for rm in t.metrics.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    usage = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    by_type = {p.attributes["gen_ai.token.type"]: p for p in usage.data.data_points}  # type: ignore[attr-defined]
    served = t.server.message_calls
    assert by_type["output"].sum == sum(c.usage["output_tokens"] for c in served)
    assert by_type["input"].sum == sum(
        c.usage["input_tokens"]
        + c.usage["cache_read_input_tokens"]
        + c.usage["cache_creation_input_tokens"]
        for c in served
    )
    assert list(by_type["input"].explicit_bounds)[:3] == [1, 4, 16]
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    ops = {p.attributes["gen_ai.operation.name"]: p.count for p in duration.data.data_points}  # type: ignore[attr-defined]
    assert ops == {"chat": 3, "execute_tool": 2, "invoke_agent": 1}
    cost = metrics["agentic_session.cost"]
    total = sum(p.value for p in cost.data.data_points)  # type: ignore[attr-defined]
    assert total == pytest.approx(t.outcome.cost_usd, abs=1e-9)
    for point in usage.data.data_points:  # type: ignore[attr-defined]
        assert "session.id" not in point.attributes


def test_a_model_without_a_price_shares_the_reported_cost_at_the_query_end(
    traced_session: RunTraced,
) -> None:
    """Calls of a model the price database does not know are held to the query's end and share
    Claude Code's figure (less the priced calls) by token weight: the sum still matches."""
    script = [
        bash("echo a", U1, model="my-proxy-model"),
        bash("echo b", U2),
        text("Done.", U3, model="my-proxy-model"),
    ]
    t = traced_session(script)
    (outcome,) = t.outcome.queries
    assert outcome.cost_usd is not None and outcome.cost_usd > 0
    chats = sorted(t.named("chat "), key=lambda s: s.start_time or 0)
    sources = [c.attributes["agentic_session.cost_source"] for c in chats]  # type: ignore[index]
    assert sources == ["reported_share", "price", "reported_share"]
    total = sum(c.attributes["gen_ai.usage.cost"] for c in chats)  # type: ignore[index]
    assert total == pytest.approx(outcome.cost_usd, abs=1e-9)
    assert chats[1].attributes["gen_ai.usage.cost"] == pytest.approx(  # type: ignore[index]
        expected_cost(t.server.message_calls[1].usage), abs=1e-12
    )
    query = t.one("invoke_agent claude-code").attributes or {}
    assert "agentic_session.cost.difference_usd" not in query


def test_capture_on_gives_every_agent_its_prompt_and_answer_and_subagent_calls_their_output(
    traced_session: RunTraced,
) -> None:
    """Content where a person looks for it: the query's and the subagent's prompt and final
    answer on their invoke_agent spans, the subagent's calls' text from its transcript."""
    t = traced_session(SUBAGENT_SCRIPT, capture=True)
    assert t.outcome.ok, t.outcome.error_message

    def text_of(span: ReadableSpan, key: str) -> str:
        return json.dumps(json.loads(str((span.attributes or {})[key])))

    query = t.one("invoke_agent claude-code")
    assert "Do the scripted task." in text_of(query, "gen_ai.input.messages")
    assert "All done." in text_of(query, "gen_ai.output.messages")
    (agent,) = t.named("invoke_agent general-purpose")
    assert "SUBTASK: run echo" in text_of(agent, "gen_ai.input.messages")
    assert "sub done" in text_of(agent, "gen_ai.output.messages")
    chats = [c for c in t.children(agent) if c.name.startswith("chat ")]
    outputs = [text_of(c, "gen_ai.output.messages") for c in chats]
    assert any("sub done" in o for o in outputs)
    inputs = [c.attributes.get("gen_ai.input.messages") for c in chats]  # type: ignore[union-attr]
    assert any("SUBTASK: run echo" in str(i) for i in inputs)
