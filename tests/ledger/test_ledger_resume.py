"""A resumed run's ledger: Claude Code's cumulative figures continue from the earlier runs
(measured: docs/resume.md), so the ledger starts from that baseline. Every figure counts this
run's calls only, and no call is ever booked for an earlier run's usage."""

from __future__ import annotations

from runner.accounting.figures import LedgerFigures
from runner.accounting.reported import ReportedTotals
from runner.accounting.usage import Usage
from runner.events.types import CallFinished, CallRecorded, CallStarted, RunnerEvent
from runner.ledger.ledger import Ledger
from tests.support.resume import captured_result, cost_state, query_result

SONNET = "claude-sonnet-4-5"
# The resumed run of the `batch` capture: two calls (docs/resume.md's table; the capture's
# assistant snapshots give the input side, the run's usage the output: 40 + 50 = 90).
RESUMED_CALLS = [
    ("msg_offline_0004", Usage(input_tokens=7, output_tokens=40, cache_read_input_tokens=5000,
                               cache_creation_input_tokens=300)),
    ("msg_offline_0006", Usage(input_tokens=5, output_tokens=50, cache_read_input_tokens=5300)),
]  # fmt: skip


def _calls(calls: list[tuple[str, Usage]]) -> list[RunnerEvent]:
    out: list[RunnerEvent] = []
    for n, (message_id, usage) in enumerate(calls):
        out += [
            CallStarted(thread=None, message_id=message_id, model=SONNET, usage=usage,
                        streamed=True, at_ns=n * 10),
            CallFinished(thread=None, message_id=message_id, usage=usage, stop_reason="end_turn",
                         streamed=True, at_ns=n * 10 + 1),
        ]  # fmt: skip
    return out


def _resumed_run(ledger: Ledger) -> tuple[list[CallRecorded], LedgerFigures]:
    ledger.start_query(1)
    recorded = ledger.follow(_calls(RESUMED_CALLS))
    ledger.follow([query_result(captured_result("batch", "2-resume"))])
    settled, figures = ledger.end_query(None, 99)
    calls = [e for e in [*recorded, *settled] if isinstance(e, CallRecorded)]
    return calls, figures


def _baseline() -> ReportedTotals:
    return ReportedTotals.from_cost_state(cost_state(captured_result("batch", "1-first")))


def test_a_resumed_run_counts_its_own_calls_and_checks_at_claude_codes_growth() -> None:
    ledger = Ledger(session_model=SONNET, baseline=_baseline())

    calls, figures = _resumed_run(ledger)

    assert [c.call.origin for c in calls] == ["stream", "stream"]  # no remainder
    assert round(figures.total.cost_usd, 9) == 0.005601  # docs/resume.md: this run's calls
    assert round(figures.reported_cost_usd or 0, 9) == 0.005601  # 0.026811 - 0.021210
    assert figures.cost_difference_usd is None
    session = ledger.session_figures()
    assert round(session.total.cost_usd, 9) == round(session.reported_cost_usd or 0, 9) == 0.005601
    assert round(ledger.reported_cumulative_usd or 0, 9) == 0.026811  # Claude Code's own
    (model,) = session.models
    assert round(model.reported_cost_usd or 0, 9) == 0.005601  # this run's, not cumulative


def test_without_the_baseline_the_earlier_run_would_be_booked_as_an_invented_call() -> None:
    """Why the baseline matters: the same run read as a fresh session books the first run's
    usage as a `remainder` call and doubles the check."""
    calls, figures = _resumed_run(Ledger(session_model=SONNET))

    remainders = [c.call for c in calls if c.call.origin == "remainder"]
    assert len(remainders) == 1
    assert remainders[0].usage.input_tokens == 1020  # the first run's, invented here
    assert round(figures.total.cost_usd, 6) == 0.026811


def test_a_resume_without_an_earlier_cost_record_starts_from_zero() -> None:
    """After a SIGKILL the transcript has no cost-state: Claude Code's figures are this run's
    alone (measured 0.005601 in the `killed` capture), and so is the empty baseline."""
    ledger = Ledger(session_model=SONNET, baseline=ReportedTotals())
    ledger.start_query(1)
    ledger.follow(_calls(RESUMED_CALLS))
    raw = captured_result("batch", "2-resume")
    raw = {**raw, "total_cost_usd": 0.005601, "model_usage": {SONNET: {
        "inputTokens": 12, "outputTokens": 90, "cacheReadInputTokens": 10300,
        "cacheCreationInputTokens": 300, "costUSD": 0.005601}}}  # fmt: skip
    ledger.follow([query_result(raw)])
    settled, figures = ledger.end_query(None, 99)

    assert not [e for e in settled if isinstance(e, CallRecorded)]
    assert figures.cost_difference_usd is None
    assert round(figures.total.cost_usd, 9) == 0.005601


def test_each_query_of_a_resumed_interactive_run_is_checked_at_its_own_growth() -> None:
    """Interactive capture: client 2 (resumed) continues from 0.026811; its query is 0.001059."""
    from tests.support.resume import captured

    results = captured("interactive", "message", **{"class": "ResultMessage"})
    earlier, resumed = results[1], results[2]
    ledger = Ledger(session_model=SONNET, baseline=ReportedTotals.from_cost_state(
        cost_state(earlier)))  # fmt: skip
    ledger.start_query(1)
    ledger.follow(_calls([("m1", Usage(input_tokens=3, output_tokens=60,
                                       cache_read_input_tokens=500))]))  # fmt: skip
    ledger.follow([query_result(resumed)])
    settled, figures = ledger.end_query(None, 99)

    assert not [e for e in settled if isinstance(e, CallRecorded)]
    assert round(resumed["total_cost_usd"], 6) == 0.02787
    assert round(figures.reported_cost_usd or 0, 9) == round(figures.total.cost_usd, 9) == 0.001059
