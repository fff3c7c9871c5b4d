"""Why a session cost what it cost, from the trace alone: context fill per call, compactions,
cache efficiency, per-subagent subtotals, and the links from tools to the calls that asked for
them and from calls to the tool results they consumed. Real SDK and CLI, scripted server."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from runner.offline import Usage, bash, text
from runner.otel.trace_view import render
from tests.e2e.harness import PRICE
from tests.otel.conftest import RunTraced, Traced
from tests.support.scripts import SUBAGENT_SCRIPT, TWO_BASH

WINDOW = 200_000  # claude-sonnet-4-5


def _a(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def _chats(t: Traced) -> list[ReadableSpan]:
    return sorted(t.named("chat "), key=lambda s: s.start_time or 0)


def test_each_call_records_the_context_it_used_and_the_window(traced_session: RunTraced) -> None:
    t = traced_session(TWO_BASH)
    for span, call in zip(_chats(t), t.server.message_calls, strict=True):
        u, a = call.usage, _a(span)
        used = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        assert a["agentic_session.context.input_tokens"] == used
        assert a["agentic_session.context.window"] == WINDOW
        assert a["agentic_session.context.utilization"] == pytest.approx(used / WINDOW)
    # ... and as a metric histogram, one point per call.
    assert t.metrics is not None
    points = [
        p
        for rm in t.metrics.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "agentic_session.context.utilization"
        for p in m.data.data_points
    ]
    assert sum(p.count for p in points) == 3


def test_cache_hit_ratio_and_savings_are_exact_per_call_and_in_total(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)
    savings = []
    for span, call in zip(_chats(t), t.server.message_calls, strict=True):
        u, a = call.usage, _a(span)
        total_in = (
            u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        )
        assert a["agentic_session.cache.hit_ratio"] == pytest.approx(
            u["cache_read_input_tokens"] / total_in
        )
        cached = u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        paid = (
            u["cache_read_input_tokens"] * PRICE["cache_read"]
            + u["cache_creation_input_tokens"] * PRICE["cache_write"]
        )
        expected = (cached * PRICE["input"] - paid) / 1e6
        assert a["agentic_session.cache.savings_usd"] == pytest.approx(expected, abs=1e-12)
        savings.append(expected)
    assert savings[0] < 0 < savings[1]  # the write cost more than it saved; the read saved
    root = _a(t.root)
    assert root["agentic_session.cache.savings_usd"] == pytest.approx(sum(savings), abs=1e-12)
    usage = t.outcome.usage
    assert root["agentic_session.cache.hit_ratio"] == pytest.approx(
        usage.cache_read_input_tokens / usage.total_input_tokens
    )


def test_tools_link_to_the_call_that_asked_and_calls_list_the_results_they_consumed(
    traced_session: RunTraced,
) -> None:
    t = traced_session(TWO_BASH)
    chats = {_a(c)["gen_ai.response.id"]: c for c in _chats(t)}
    tools = sorted(t.named("execute_tool"), key=lambda s: s.start_time or 0)
    assert len(tools) == 2
    for tool in tools:
        requested_by = _a(tool)["agentic_session.tool.requested_by"]
        chat = chats[requested_by]
        (link,) = tool.links
        assert link.context.span_id == chat.context.span_id
        assert link.context.trace_id == chat.context.trace_id
    outputs = {"echo one": "one", "echo two": "two"}
    results = [e for e in t.events if e["type"] == "tool_result"]
    # The call after each tool consumed its result: ids and sizes.
    for chat in _chats(t)[1:]:
        a = _a(chat)
        (consumed,) = a["agentic_session.chat.tool_results"]  # type: ignore[misc]
        (result,) = [r for r in results if r["tool_use_id"] == consumed]
        assert a["agentic_session.chat.tool_result_chars"] == len(result["content"])
        assert result["content"] in outputs.values()
    for tool in tools:
        tool_id = _a(tool)["gen_ai.tool.call.id"]
        (result,) = [r for r in results if r["tool_use_id"] == tool_id]
        assert _a(tool)["agentic_session.tool.result_chars"] >= len(result["content"])  # type: ignore[operator]


def test_subagent_subtotals_add_up_and_the_session_still_matches_claude_code(
    traced_session: RunTraced,
) -> None:
    t = traced_session(SUBAGENT_SCRIPT)
    assert t.outcome.ok, t.outcome.error_message
    (subagent,) = t.named("invoke_agent general-purpose")
    inside = [c for c in t.children(subagent) if c.name.startswith("chat ")]
    a = _a(subagent)
    assert a["agentic_session.llm_calls"] == len(inside) == 2
    assert a["agentic_session.cost_usd"] == pytest.approx(
        sum(_a(c)["gen_ai.usage.cost"] for c in inside),
        abs=1e-12,  # type: ignore[misc]
    )
    assert a["agentic_session.usage.output_tokens"] == sum(
        _a(c)["gen_ai.usage.output_tokens"]
        for c in inside  # type: ignore[misc]
    )
    # stdout: the result and session_end events carry the same subtotal.
    (result,) = [e for e in t.events if e["type"] == "result"]
    (figures,) = result["subagents"]
    assert figures["type"] == "general-purpose" and figures["calls"] == 2
    assert figures["output_tokens"] == 11 + 12
    assert figures["cost_usd"] == pytest.approx(a["agentic_session.cost_usd"], abs=1e-12)
    end = t.events[-1]
    assert end["type"] == "session_end" and end["subagents"] == [figures]
    # Per model, the ledger's figures, beside Claude Code's own; the session total matches.
    model = end["models"]["claude-sonnet-4-5"]
    assert model["cost_usd"] == pytest.approx(end["total_cost_usd"], abs=1e-9)
    assert model["reported_cost_usd"] == pytest.approx(end["reported_cost_usd"], abs=1e-9)
    assert model["calls"] == end["llm_calls"] == 5
    assert model["context_window"] == WINDOW
    assert sum(_a(c)["gen_ai.usage.cost"] for c in t.named("chat ")) == pytest.approx(  # type: ignore[misc]
        t.outcome.cost_usd, abs=1e-9
    )
    assert _a(t.root)["agentic_session.cost_usd"] == pytest.approx(t.outcome.cost_usd, abs=1e-9)


COMPACT = [
    text("First answer.", Usage(150_000, 40, 0, 2000), match="first"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    bash("echo after", Usage(3000, 20), match="third"),
    text("Third answer.", Usage(3100, 25)),
]


def test_a_compaction_is_a_span_an_event_and_a_count_with_the_context_before_and_after(
    traced_session: RunTraced,
) -> None:
    """`/compact` makes the real CLI compact offline (auto-compaction needs the CLI's own
    token count of a real conversation): the same `compact_boundary` message either way."""
    t = traced_session(COMPACT, prompt="first", messages=["/compact", "third"])
    assert t.outcome.ok, t.outcome.error_message
    (compaction,) = t.named("compaction")
    a = _a(compaction)
    assert a["agentic_session.compaction.trigger"] == "manual"
    assert isinstance(a["agentic_session.compaction.pre_tokens"], int)
    assert isinstance(a["agentic_session.compaction.post_tokens"], int)
    queries = sorted(t.named("invoke_agent claude-code"), key=lambda s: s.start_time or 0)
    assert compaction.parent is not None
    assert compaction.parent.span_id == queries[1].context.span_id
    (event,) = [e for e in queries[1].events if e.name == "agentic_session.compaction"]
    assert event.attributes["agentic_session.compaction.trigger"] == "manual"  # type: ignore[index]
    assert _a(t.root)["agentic_session.compactions"] == 1
    (logged,) = [e for e in t.events if e["type"] == "compaction"]
    assert logged["trigger"] == "manual"
    assert t.events[-1]["compactions"] == 1
    # The context before (150k+ used by the first call) and after (the next call's input).
    first, *_, last = _chats(t)
    assert _a(first)["agentic_session.context.utilization"] > 0.75  # type: ignore[operator]
    assert _a(last)["agentic_session.context.utilization"] < 0.05  # type: ignore[operator]
    # The compaction's summary call is not streamed: a chat span of its query (known at the
    # query's end, after the compaction span ended), linked to the compaction; its usage is
    # Claude Code's per-model totals less every call seen; the totals then match.
    (summary,) = [
        c for c in t.named("chat ") if _a(c).get("agentic_session.call.observed") is False
    ]
    assert summary.parent is not None and summary.parent.span_id == queries[1].context.span_id
    assert [link.context.span_id for link in summary.links] == [compaction.context.span_id]
    assert _a(summary)["gen_ai.usage.output_tokens"] == 200
    assert sum(_a(c)["gen_ai.usage.cost"] for c in t.named("chat ")) == pytest.approx(  # type: ignore[misc]
        t.outcome.cost_usd, abs=1e-9
    )
    # The end-of-run trace tree shows the same figures.
    view = render(t.spans, color=False)
    assert "1 compactions" in view and "compaction" in view and "manual" in view
    assert "ctx 7" in view  # the first call: 152,000 of 200,000
    assert "cache " in view
