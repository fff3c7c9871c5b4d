"""When a query is done: at a result, once no background task runs and every finished task has
had the turn the CLI gives it (measured: one turn and one result per finished task)."""

from __future__ import annotations

from runner.accounting.usage import Usage
from runner.events.types import QueryResult, RequestSent, TaskFinished, TaskStarted
from runner.session.api_retries import RetryWatch
from runner.session.query_watch import QueryWatch


def _result(is_error: bool = False) -> QueryResult:
    return QueryResult(
        subtype="success", is_error=is_error, num_turns=1, duration_ms=1, usage=Usage(),
        total_cost_usd=0.1, api_error_status=None, errors=(), result="ok", sdk_session_id="s",
        model_usage={}, at_ns=1,
    )  # fmt: skip


def test_a_plain_query_is_done_at_its_result() -> None:
    assert QueryWatch(RetryWatch()).react(_result())


def test_two_tasks_finished_during_one_turn_are_each_owed_a_turn() -> None:
    watch = QueryWatch(RetryWatch())
    for task in ("a", "b"):
        watch.react(TaskStarted(task_id=task, tool_use_id=f"t-{task}", at_ns=1))
    assert not watch.react(_result())  # both still running
    watch.react(TaskFinished(task_id="a", at_ns=2))
    watch.react(TaskFinished(task_id="b", at_ns=3))
    assert watch.waiting_for_turn and watch.turns_owed == 2
    assert not watch.react(_result())  # a's turn
    assert watch.turns_owed == 1
    assert watch.react(_result())  # b's turn: done
    assert not watch.waiting_for_turn


def test_an_error_result_ends_the_query_whatever_runs() -> None:
    watch = QueryWatch(RetryWatch())
    watch.react(TaskStarted(task_id="a", tool_use_id="t", at_ns=1))
    assert watch.react(_result(is_error=True))


def test_a_task_finished_notice_for_an_unknown_task_is_owed_nothing() -> None:
    watch = QueryWatch(RetryWatch())
    watch.react(TaskFinished(task_id="stray", at_ns=1))
    assert watch.react(_result())


def test_the_grace_for_an_owed_turn_ends_once_that_turn_shows_itself() -> None:
    """The driver bounds only the wait for the owed turn to start: once it is under way (a
    long tool, a slow first token), only TIMEOUT bounds it."""
    watch = QueryWatch(RetryWatch())
    watch.react(TaskStarted(task_id="a", tool_use_id="t", at_ns=1))
    watch.react(_result())
    watch.react(TaskFinished(task_id="a", at_ns=2))
    assert watch.waiting_for_turn
    watch.react(RequestSent(at_ns=3))  # the owed turn has begun
    assert not watch.waiting_for_turn and watch.turns_owed == 1
    assert watch.react(_result())
