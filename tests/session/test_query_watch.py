"""When a query is done (runner.session.query_watch): at a result once Claude Code has said
`idle`; without session state, once no background task runs and every finished background
task has had its turn. Foreground subagents owe nothing; only Claude Code's own messages of
the main thread count as a turn under way; every other wait after a result is bounded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.accounting.usage import Usage
from runner.events.types import (
    CallRecorded,
    CallStarted,
    QueryResult,
    RequestSent,
    RunnerEvent,
    SessionStateChanged,
    SubagentFinished,
    TaskFinished,
    TaskStarted,
)
from runner.session.api_retries import RetryWatch
from runner.session.query_watch import IDLE_GRACE_S, TURN_GRACE_S, QueryWatch
from tests.support.events import recorded_call


def _result(is_error: bool = False) -> QueryResult:
    return QueryResult(
        subtype="success", is_error=is_error, num_turns=1, duration_ms=1, usage=Usage(),
        total_cost_usd=0.1, api_error_status=None, errors=(), result="ok", sdk_session_id="s",
        model_usage={}, at_ns=1,
    )  # fmt: skip


def _started(task: str, background: bool | None) -> TaskStarted:
    return TaskStarted(
        task_id=task, tool_use_id=f"t-{task}", background=background, task_type="local_agent",
        at_ns=1,
    )  # fmt: skip


def _finished(task: str) -> TaskFinished:
    return TaskFinished(task_id=task, status="completed", at_ns=2)


def _state(state: str) -> SessionStateChanged:
    return SessionStateChanged(state=state, at_ns=3)


def _watch(*events: RunnerEvent, now: float = 0.0) -> QueryWatch:
    watch = QueryWatch(RetryWatch())
    for event in events:
        watch.react(event, now)
    return watch


def test_a_plain_query_is_done_at_its_result() -> None:
    assert _watch(_result()).waiting(0.0) is None


def test_before_its_result_a_query_waits_for_claude_code_unbounded() -> None:
    wait = _watch(_started("a", True)).waiting(0.0)
    assert wait is not None and wait.seconds is None


def test_a_foreground_subagent_owes_no_turn() -> None:
    """The fault found: a foreground subagent's task notice counted as owing a turn."""
    watch = _watch(_started("a", False), _finished("a"), _result())
    assert watch.turns_owed == 0 and watch.waiting(0.0) is None


def test_with_session_state_the_query_is_done_at_idle_after_its_result() -> None:
    watch = _watch(_state("running"), _started("a", True), _result())
    wait = watch.waiting(100.0)
    assert wait is not None and wait.seconds is None  # a background task runs: no bound
    watch.react(_finished("a"), 1.0)
    watch.react(RequestSent(at_ns=4), 1.0)  # its turn
    watch.react(_result(), 1.5)
    watch.react(_state("idle"), 1.5)
    assert watch.waiting(1.5) is None


def test_idle_just_before_the_result_also_ends_the_query() -> None:
    assert _watch(_state("running"), _state("idle"), _result()).waiting(0.0) is None


def test_with_session_state_and_nothing_owed_the_wait_for_idle_is_bounded() -> None:
    watch = _watch(_state("running"), _result(), now=10.0)
    wait = watch.waiting(10.0)
    assert wait is not None and wait.seconds == IDLE_GRACE_S
    assert watch.waiting(10.0 + IDLE_GRACE_S) is None


def test_without_session_state_two_background_tasks_are_each_owed_a_turn() -> None:
    watch = _watch(_started("a", True), _started("b", True), _result())
    assert watch.waiting(0.0) is not None  # both still running
    watch.react(_finished("a"), 1.0)
    watch.react(TaskFinished(task_id="a", status="completed", at_ns=2), 1.0)  # both frames
    watch.react(_finished("b"), 1.0)
    assert watch.turns_owed == 2
    watch.react(_result(), 2.0)  # a's turn
    assert watch.turns_owed == 1
    wait = watch.waiting(2.0)
    assert wait is not None and wait.seconds == TURN_GRACE_S
    watch.react(_result(), 3.0)  # b's turn: done
    assert watch.waiting(3.0) is None


def test_the_wait_for_an_owed_turn_ends_once_that_turn_shows_itself() -> None:
    """Once the owed turn is under way (a long tool, a slow first token), only TIMEOUT
    bounds it; before, TURN_GRACE_S does."""
    watch = _watch(_started("a", True), _result(), _finished("a"))
    wait = watch.waiting(0.0)
    assert wait is not None and wait.seconds == TURN_GRACE_S
    assert watch.waiting(TURN_GRACE_S) is None  # it never came
    watch.react(RequestSent(at_ns=3), 1.0)  # the owed turn has begun
    wait = watch.waiting(TURN_GRACE_S)
    assert wait is not None and wait.seconds is None


def test_events_the_runner_made_are_not_a_turn_under_way() -> None:
    """The ledger's records, a transcript's subagent end, a subagent's own call: none is
    Claude Code beginning a turn of the main thread."""
    watch = _watch(_started("a", True), _result(), _finished("a"))
    watch.react(CallRecorded(call=recorded_call(), at_ns=5), 1.0)
    watch.react(SubagentFinished(thread="t-a", agent_id="a", at_ns=5), 1.0)
    watch.react(
        CallStarted(thread="t-a", message_id="m", model=None, usage=Usage(), streamed=False,
                    at_ns=5), 1.0,
    )  # fmt: skip
    wait = watch.waiting(1.0)
    assert wait is not None and wait.seconds is not None


def test_a_foreground_task_moved_to_the_background_is_owed_its_turn() -> None:
    moved = TaskStarted(task_id="a", tool_use_id=None, background=True, at_ns=2)
    watch = _watch(_started("a", False), moved, _result())
    assert watch.background == {"a"}


def test_a_background_shell_is_not_waited_for() -> None:
    shell = TaskStarted(task_id="s", tool_use_id="t", background=True, task_type="local_bash",
                        at_ns=1)  # fmt: skip
    assert _watch(shell, _result()).waiting(0.0) is None


def test_an_error_result_ends_the_query_whatever_runs() -> None:
    assert _watch(_started("a", True), _result(is_error=True)).waiting(0.0) is None


def test_a_task_finished_notice_for_an_unknown_task_is_owed_nothing() -> None:
    assert _watch(_finished("stray"), _result()).waiting(0.0) is None


# --- any order ----------------------------------------------------------------------------

notices = st.one_of(
    st.builds(_started, st.sampled_from(["a", "b"]), st.sampled_from([True, False, None])),
    st.builds(_finished, st.sampled_from(["a", "b"])),
    st.builds(_state, st.sampled_from(["running", "idle", "requires_action"])),
    st.just(_result()),
    st.just(RequestSent(at_ns=1)),
    st.just(SubagentFinished(thread="t-a", agent_id="a", at_ns=1)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(notices, max_size=20), st.floats(0, 30))
def test_in_any_order_every_wait_after_a_result_is_bounded_or_claude_code_is_at_work(
    events: list[RunnerEvent], later: float
) -> None:
    """Whatever the order of results, task notices and session states: a query either is done,
    waits a bounded time, or waits while Claude Code itself is at work (a background task
    running, a turn it began, or — with state reported — a turn it owes)."""
    watch = _watch(*events)
    wait = watch.waiting(later)
    if wait is None or wait.seconds is not None:
        return
    if not watch.results:
        return  # before the first result: the query itself is Claude Code's work
    at_work = bool(watch.background) or watch.turn_begun
    owed_with_state = watch.state_reported and watch.turns_owed > 0
    assert at_work or owed_with_state, (events, wait)
    if watch.state_reported:
        assert not watch.idle


@settings(max_examples=300, deadline=None)
@given(st.lists(notices, max_size=20))
def test_in_any_order_foreground_subagents_alone_never_hold_a_query(
    events: list[RunnerEvent],
) -> None:
    """With only foreground subagents, a query whose last word is a result (or the CLI's idle
    after it) is done, or at most waits the bounded grace for idle."""
    foreground = [
        e for e in events if not (isinstance(e, TaskStarted) and e.background is not False)
    ]
    foreground = [e for e in foreground if not isinstance(e, RequestSent)]
    watch = _watch(*foreground, _result())
    wait = watch.waiting(0.0)
    assert wait is None or wait.seconds is not None, foreground
