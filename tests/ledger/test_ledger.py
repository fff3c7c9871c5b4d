"""The ledger: every LLM call recorded once, final, exactly priced, with its owner; every figure
is a view of it."""

from __future__ import annotations

import pytest

from runner.accounting.pricing import price
from runner.accounting.usage import ModelUsage, Usage
from runner.events.types import (
    CallFailed,
    CallFinished,
    CallRecorded,
    CallStarted,
    CliCallReported,
    QueryResult,
    RunnerEvent,
    SubagentCall,
    SubagentFinished,
    SubagentStarted,
    ToolRequested,
)
from runner.ledger.ledger import Ledger

SONNET = "claude-sonnet-4-5"


def _recorded(events: list[RunnerEvent]) -> list[CallRecorded]:
    return [e for e in events if isinstance(e, CallRecorded)]


def _call(
    thread: str | None,
    message_id: str,
    usage: Usage,
    at: int,
    streamed: bool = True,
    model: str | None = SONNET,
) -> list[RunnerEvent]:
    return [
        CallStarted(
            thread=thread, message_id=message_id, model=model, usage=usage, streamed=streamed,
            at_ns=at,
        ),
        CallFinished(
            thread=thread, message_id=message_id, usage=usage, stop_reason="end_turn",
            streamed=streamed, at_ns=at + 1,
        ),
    ]  # fmt: skip


def _result(cost: float | None, model_usage: dict[str, ModelUsage] | None = None) -> QueryResult:
    return QueryResult(
        subtype="success", is_error=False, num_turns=1, duration_ms=1, usage=Usage(),
        total_cost_usd=cost, api_error_status=None, errors=(), result="ok", sdk_session_id="s",
        model_usage=model_usage or {}, at_ns=9,
    )  # fmt: skip


def test_a_streamed_call_is_recorded_once_at_its_end_with_its_exact_price() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    usage = Usage(input_tokens=100, output_tokens=10, cache_read_input_tokens=50)
    (recorded,) = _recorded(ledger.follow(_call(None, "m1", usage, 1)))
    assert recorded.call.usage == usage and recorded.call.cost == price(SONNET, usage)
    assert recorded.call.cost_source == "price" and recorded.call.query == 1
    events, figures = ledger.end_query(None, 10)
    assert events == [] and figures.total.calls == 1
    assert figures.total.cost_usd == recorded.call.cost_usd


def test_a_subagents_call_waits_for_its_transcript_and_its_end_carries_final_figures() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    snapshot = Usage(input_tokens=30, output_tokens=1)
    final = Usage(input_tokens=30, output_tokens=11)
    ledger.follow(
        [ToolRequested(thread=None, message_id="m0", tool_use_id="ta", name="Agent",
                       arguments={"subagent_type": "Explore"}, at_ns=0),
         SubagentStarted(thread="ta", agent_id="a1", agent_type="Explore", at_ns=1)]
    )  # fmt: skip
    assert _recorded(ledger.follow(_call("ta", "s1", snapshot, 2, streamed=False))) == []
    from_transcript = SubagentCall(
        thread="ta", agent_id="a1", message_id="s1", model=SONNET, usage=final,
        stop_reason="end_turn", requested_ns=2, answered_ns=3, at_ns=5,
    )  # fmt: skip
    events = ledger.follow([from_transcript, SubagentFinished(thread="ta", agent_id="a1", at_ns=5)])
    (recorded,) = _recorded(events)
    assert recorded.call.usage == final and recorded.call.thread == "ta"
    finished = events[-1]
    assert isinstance(finished, SubagentFinished) and finished.figures is not None
    assert finished.figures.figures.calls == 1
    assert finished.figures.figures.cost_usd == recorded.call.cost_usd
    # A record that arrives after the subagent ended changes none of its figures.
    late = SubagentCall(
        thread="ta", agent_id="a1", message_id="s2", model=SONNET, usage=final,
        stop_reason="end_turn", requested_ns=6, answered_ns=7, at_ns=8,
    )  # fmt: skip
    assert _recorded(ledger.follow([late])) == []
    _, figures = ledger.end_query(None, 10)
    (sub,) = figures.subagents
    assert sub.figures == finished.figures.figures and sub.agent_type == "Explore"


def test_a_subagent_call_the_transcript_never_gives_keeps_its_snapshot() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    snapshot = Usage(input_tokens=30, output_tokens=1)
    ledger.follow(_call("ta", "s1", snapshot, 2, streamed=False))
    events = ledger.follow([SubagentFinished(thread="ta", agent_id="a1", at_ns=5)])
    (recorded,) = _recorded(events)
    assert recorded.call.usage == snapshot


def test_a_failed_call_counts_as_a_call_without_usage_or_cost() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    events = ledger.follow([CallFailed(thread=None, error="server_error", message="529", at_ns=1)])
    (recorded,) = _recorded(events)
    assert recorded.call.error_type == "server_error" and recorded.call.cost is None
    _, figures = ledger.end_query("model_error", 2)
    assert figures.total.calls == 1 and figures.total.cost_usd == 0.0


def test_a_stream_cut_before_its_end_is_recorded_as_failed_at_the_query_end() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    ledger.follow(_call(None, "m1", Usage(input_tokens=5), 1)[:1])
    events, figures = ledger.end_query("timeout", 5)
    (recorded,) = _recorded(events)
    assert recorded.call.error_type == "timeout" and figures.total.calls == 1


def test_calls_claude_code_did_not_stream_become_one_unobserved_call() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    seen = Usage(input_tokens=100, output_tokens=10)
    ledger.follow(_call(None, "m1", seen, 1))
    summary = Usage(input_tokens=900, output_tokens=200)
    reported = {SONNET: ModelUsage(usage=seen + summary, cost_usd=None)}
    ledger.follow([_result(None, reported)])
    events, figures = ledger.end_query(None, 10)
    (unseen,) = _recorded(events)
    assert unseen.call.usage == summary and not unseen.call.observed
    assert figures.total.calls == 2


def test_a_model_without_a_price_shares_what_the_reported_figure_leaves() -> None:
    ledger = Ledger(session_model="my-proxy-model")
    ledger.start_query(1)
    usage = Usage(input_tokens=10, output_tokens=2)
    assert _recorded(ledger.follow(_call(None, "m1", usage, 1, model=None))) == []  # held
    ledger.follow([_result(0.25)])
    events, figures = ledger.end_query(None, 10)
    (shared,) = _recorded(events)
    assert shared.call.cost_source == "reported_share"
    assert shared.call.cost_usd == pytest.approx(0.25)
    assert figures.cost_difference_usd is None


def test_the_reported_figure_is_the_check_per_query_from_a_cumulative_one() -> None:
    ledger = Ledger(session_model=SONNET)
    usage = Usage(input_tokens=1000, output_tokens=100)
    cost = price(SONNET, usage)
    assert cost is not None
    for index, cumulative in ((1, cost.total), (2, cost.total * 2 + 0.5)):
        ledger.start_query(index)
        ledger.follow([*_call(None, f"m{index}", usage, index * 10), _result(cumulative)])
        _, figures = ledger.end_query(None, index * 10 + 5)
        assert figures.total.cost_usd == pytest.approx(cost.total)
    assert figures.reported_cost_usd == pytest.approx(cost.total + 0.5)
    assert figures.cost_difference_usd == pytest.approx(0.5)
    session = ledger.session_figures()
    assert session.total.calls == 2 and session.reported_cost_usd == pytest.approx(
        2.5 * 0 + cumulative
    )


def _cli(thread: str | None, usage: Usage, source: str = "sdk", start: int = 5) -> CliCallReported:
    return CliCallReported(
        thread=thread, source=source, model=SONNET, usage=usage, stop_reason="end_turn",
        success=True, attempt=1, ttft_ms=3, duration_ms=9, speed="normal", context="interaction",
        start_ns=start, end_ns=start + 1, at_ns=start + 2,
    )  # fmt: skip


def test_the_clis_record_of_a_streamed_call_is_matched_never_counted() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    usage = Usage(input_tokens=100, output_tokens=10)
    (recorded,) = _recorded(ledger.follow(_call(None, "m1", usage, 1)))
    assert ledger.cli_outstanding()  # its record has not come yet
    (matched,) = ledger.follow([_cli(None, usage)])
    assert isinstance(matched, CliCallReported) and matched.call_key == recorded.call.key
    assert not ledger.cli_outstanding()
    _, figures = ledger.end_query(None, 10)
    assert figures.total.calls == 1


def test_a_record_that_comes_before_its_call_waits_for_it() -> None:
    """A subagent's call is recorded from its transcript, often after the CLI reported it."""
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    usage = Usage(input_tokens=30, output_tokens=11)
    assert ledger.follow([_cli("ta", usage, source="agent.builtin.general-purpose")]) == []
    events = ledger.follow(
        [SubagentCall(thread="ta", agent_id="a1", message_id="s1", model=SONNET, usage=usage,
                      stop_reason="end_turn", requested_ns=1, answered_ns=2, at_ns=3)]
    )  # fmt: skip
    recorded, matched = events[1], events[2]
    assert isinstance(recorded, CallRecorded) and isinstance(matched, CliCallReported)
    assert matched.call_key == recorded.call.key


def test_a_call_only_the_cli_shows_is_recorded_once_from_its_record() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1, at_ns=0)
    summary = Usage(input_tokens=900, output_tokens=200)
    events = ledger.follow([_cli(None, summary, source="compact")])
    (recorded,) = _recorded(events)
    assert recorded.call.origin == "cli" and recorded.call.cost == price(SONNET, summary)
    assert recorded.call.usage == summary
    # Claude Code's totals include it: no remainder on top.
    ledger.follow([_result(None, {SONNET: ModelUsage(usage=summary)})])
    events, figures = ledger.end_query(None, 10)
    assert _recorded(events) == [] and figures.total.calls == 1


def test_an_unknown_source_never_becomes_a_call_and_a_late_record_counts_nowhere() -> None:
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1, at_ns=100)
    usage = Usage(input_tokens=5, output_tokens=1)
    assert _recorded(ledger.follow([_cli(None, usage, source="brand_new_kind")])) == []
    assert _recorded(ledger.follow([_cli(None, usage, source="compact", start=50)])) == []
    _, figures = ledger.end_query(None, 200)
    assert figures.total.calls == 0


def test_a_transcript_handled_before_the_streams_snapshot_counts_the_call_once() -> None:
    """The SDK runs hooks as tasks of their own: SubagentStop (and the transcript's calls) can
    be handled before the subagent's last stream messages, still buffered, reach the driver."""
    ledger = Ledger(session_model=SONNET)
    ledger.start_query(1)
    final = Usage(input_tokens=30, output_tokens=11)
    early = ledger.follow(
        [SubagentCall(thread="ta", agent_id="a1", message_id="s1", model=SONNET, usage=final,
                      stop_reason="end_turn", requested_ns=1, answered_ns=2, at_ns=3),
         SubagentFinished(thread="ta", agent_id="a1", at_ns=3)]
    )  # fmt: skip
    assert len(_recorded(early)) == 1
    late = ledger.follow(_call("ta", "s1", Usage(input_tokens=30, output_tokens=1), 4, False))
    assert late == []  # neither recorded again nor shown as a new call
    _, figures = ledger.end_query(None, 10)
    assert figures.total.calls == 1
