"""Order and timing do not change the trace (issue 25). Claude Code promises no order between
its stream messages, hooks, transcript writes, task notices and session-state frames, so each
session here runs the real SDK and CLI against a scripted model that answers after seeded
random delays (`Jitter`), under several seeds, and asserts what must hold in every order:

- the query ends within seconds of its last answer, and never waits for a turn nobody owes
  (a foreground subagent owes none; background ones are answered, then Claude Code says idle);
- the tree is whole: each subagent under its Agent tool call, its calls and tools under it;
- every tool names and links the call that asked for it;
- every figure equals the chat spans below it, stdout's, and Claude Code's.

A failing case names its seed (the test id): `pytest -k "seed-7"` replays it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from runner.offline import Reply, ToolUse, Usage, bash, text
from runner.offline.server import Jitter
from tests.otel.conftest import RunTraced, Traced
from tests.support.trace_checks import assert_one_picture, assert_tree_whole

SEEDS = (11, 23, 37)
EXIT_BOUND_S = 10.0
"""From the last answer to the session's end: a query that waits for a turn nobody owes
waited 5 s, and one that hangs waits for TIMEOUT (60 s here); a busy machine takes 1–2 s."""


def _agent(task: str, *, background: bool | None = None) -> ToolUse:
    arguments: dict[str, Any] = {
        "description": task,
        "prompt": f"{task}: run echo",
        "subagent_type": "general-purpose",
    }
    if background is not None:
        arguments["run_in_background"] = background
    return ToolUse("Agent", arguments)


FOREGROUND = [
    Reply(content=(_agent("SUBTASK-F", background=False),), usage=Usage(100, 20, 0, 50)),
    bash("echo f-out", Usage(30, 11, 5, 0), match="SUBTASK-F"),
    text("f done", Usage(40, 12, 6, 0), match="f-out"),
    text("All done.", Usage(301, 41, 71, 6)),
]
BACKGROUND = [
    Reply(content=(_agent("SUBTASK-B", background=True),), usage=Usage(100, 20, 0, 50)),
    bash("echo b-out", Usage(30, 11, 5, 0), match="SUBTASK-B"),
    text("b done", Usage(40, 12, 6, 0), match="b-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]
TWO_BACKGROUND = [
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
TWO_FOREGROUND = [
    Reply(
        content=(_agent("SUBTASK-C", background=False), _agent("SUBTASK-D", background=False)),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo c-out", Usage(30, 11, 5, 0), match="SUBTASK-C"),
    bash("echo d-out", Usage(31, 13, 5, 0), match="SUBTASK-D"),
    text("c done", Usage(40, 12, 6, 0), match="c-out"),
    text("d done", Usage(41, 14, 6, 0), match="d-out"),
    text("All done.", Usage(301, 41, 71, 6)),
]
NESTED = [
    Reply(content=(_agent("OUTER", background=False),), usage=Usage(100, 20, 0, 50)),
    Reply(
        content=(_agent("INNER", background=False),), usage=Usage(50, 10, 0, 0), match="OUTER: run"
    ),
    bash("echo inner-out", Usage(30, 11, 5, 0), match="INNER: run"),
    text("inner done", Usage(40, 12, 6, 0), match="inner-out"),
    text("outer done", Usage(41, 13, 6, 0), match="inner done"),
    text("All done.", Usage(301, 41, 71, 6)),
]
TOOLS = [
    bash("echo one", Usage(100, 20, 0, 50), say="First."),
    bash("echo two", Usage(110, 21, 50, 0), match="one"),
    text("Both ran.", Usage(120, 22, 60, 0), match="two"),
]

CASES = {
    "foreground": (FOREGROUND, 1),
    "background": (BACKGROUND, 1),
    "two-background": (TWO_BACKGROUND, 2),
    "two-foreground": (TWO_FOREGROUND, 2),
    "nested": (NESTED, 2),
    "tools": (TOOLS, 0),
}


def _last_answer_to_end_s(t: Traced) -> float:
    last = max(c.ended for c in t.server.served)
    return t.outcome.at_ns / 1e9 - last


def _waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "waiting for" in r.getMessage()]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
@pytest.mark.parametrize("case", list(CASES))
def test_any_timing_gives_the_same_whole_trace_and_a_prompt_end(
    traced_session: RunTraced, caplog: pytest.LogCaptureFixture, case: str, seed: int
) -> None:
    caplog.set_level(logging.DEBUG, logger="runner")
    script, subagents = CASES[case]
    t = traced_session(script, jitter=Jitter(seed), timeout_s=60)
    context = f"{case}, replay with seed {seed}"
    assert_one_picture(t, subagents, context)
    assert_tree_whole(t, subagents=subagents, context=context)
    assert not t.server.exhausted_calls, context
    # Claude Code's own word ends the query: no bounded wait for a turn nobody owes.
    assert not [w for w in _waits(caplog) if "is owed" in w], (context, _waits(caplog))
    assert _last_answer_to_end_s(t) < EXIT_BOUND_S, context


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
def test_an_interactive_session_with_subagents_ends_each_query_at_its_work(
    traced_session: RunTraced, caplog: pytest.LogCaptureFixture, seed: int
) -> None:
    caplog.set_level(logging.DEBUG, logger="runner")
    first = [s for s in FOREGROUND[:-1]] + [text("First done.", Usage(301, 41, 71, 6))]
    second = [
        Reply(content=(_agent("SUBTASK-B", background=True),), usage=Usage(100, 20, 0, 50)),
        bash("echo b-out", Usage(30, 11, 5, 0), match="SUBTASK-B"),
        text("b done", Usage(40, 12, 6, 0), match="b-out"),
        text("Waiting.", Usage(300, 40, 70, 5), match="Async agent launched"),
        text("Second done.", Usage(302, 42, 72, 7), match="b done"),
    ]
    t = traced_session(
        [*first, *second],
        prompt=None,
        messages=["First task.", "Second task."],
        jitter=Jitter(seed),
    )
    context = f"interactive, replay with seed {seed}"
    assert [q.index for q in t.outcome.queries] == [1, 2], context
    assert_one_picture(t, 2, context)
    assert_tree_whole(t, subagents=2, context=context)
    assert not [w for w in _waits(caplog) if "is owed" in w], (context, _waits(caplog))
    assert _last_answer_to_end_s(t) < EXIT_BOUND_S, context
