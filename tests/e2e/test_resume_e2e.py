"""A session, then a resumed run of it (IS_RESUME=true), end to end: the real runner process,
the real SDK and CLI against the scripted Messages API server, spans to a Langfuse-like receiver
put through the Langfuse view. The resumed run sends the history to the model; each run is its
own trace in the same Langfuse session, the second linked to the first; each trace costs only
its own calls, and the two add up to Claude Code's figure for the whole conversation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from runner.offline import Reply, ToolUse, Usage, bash, text
from runner.session.resume import record_path
from tests.e2e.harness import Finished, Runner, expected_cost
from tests.langfuse_view import langfuse_sessions
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, LANGFUSE_PATH, langfuse_env

pytestmark = pytest.mark.e2e
SESSION = {"SESSION_ID": "platform-42", "USER_ID": "u-1"}
# The figures of docs/resume.md's batch capture: every call's cost can be told apart.
FIRST = [
    bash("echo one", Usage(1000, 100, 0, 4000), match="FIRST"),
    text("First done.", Usage(20, 30, 4000)),
]
SECOND = [
    bash("echo two", Usage(7, 40, 5000, 300), match="SECOND"),
    text("Second done.", Usage(5, 50, 5300)),
]


@pytest.fixture
def receiver() -> Iterator[OTLPHttpReceiver]:
    r = OTLPHttpReceiver(auth=BASIC)
    yield r
    r.stop()


def _served_cost(done: Finished) -> float:
    return sum(expected_cost(c.usage) for c in done.server.message_calls)


def _record(runner: Runner) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(record_path(runner.workspace).read_text(encoding="utf-8"))
    return data


def _roots(spans: list[Span]) -> list[Span]:
    roots = [s for s in spans if s.name == "agentic-session"]
    return sorted(roots, key=lambda s: s.start_time_unix_nano)


def _assert_counted_once(done: Finished) -> None:
    """This run's figures are its own calls: stdout's total, the check, every result."""
    end = done.end
    assert end["total_cost_usd"] == pytest.approx(_served_cost(done), abs=1e-9)
    assert end["reported_cost_usd"] == pytest.approx(end["total_cost_usd"], abs=1e-9)
    assert end["llm_calls"] == len(done.server.message_calls)
    for result in done.of_type("result"):
        assert result["reported_cost_usd"] == pytest.approx(result["total_cost_usd"], abs=1e-9)


def _assert_two_linked_traces(spans: list[Span], first: Finished, second: Finished) -> None:
    sessions = langfuse_sessions(spans)
    assert list(sessions) == ["platform-42"]  # both runs in one Langfuse session
    one, two = sessions["platform-42"]
    assert one.total_cost == pytest.approx(first.end["total_cost_usd"], abs=1e-9)
    assert two.total_cost == pytest.approx(second.end["total_cost_usd"], abs=1e-9)
    assert len(two.of_type("generation")) == len(second.server.message_calls)  # none invented
    assert one.total_cost + two.total_cost == pytest.approx(
        second.end["reported_cumulative_cost_usd"], abs=1e-9
    )  # the whole conversation, as Claude Code counts it
    root1, root2 = _roots(spans)
    assert root1.trace_id != root2.trace_id
    a2 = attributes(root2)
    assert a2["agentic_session.resumed"] is True
    assert a2["agentic_session.resumed_from.trace_id"] == root1.trace_id.hex()
    assert a2["agentic_session.resumed_from.reported_cost_usd"] == pytest.approx(
        first.end["reported_cumulative_cost_usd"], abs=1e-9
    )
    assert "agentic_session.resumed" not in attributes(root1)
    (link,) = root2.links
    assert (link.trace_id, link.span_id) == (root1.trace_id, root1.span_id)
    assert two.metadata["resumed_from_trace_id"] == root1.trace_id.hex()  # Langfuse shows it
    output = json.loads(two.output) if isinstance(two.output, str) else two.output
    assert output["resumed"] is True and output["resumed_from_trace_id"] == root1.trace_id.hex()
    assert output["cost_usd"] == pytest.approx(second.end["total_cost_usd"], abs=1e-9)


@pytest.mark.parametrize("cli_telemetry", ["false", "true"])
def test_a_resumed_batch_run_continues_the_conversation_and_counts_only_its_calls(
    runner: Runner, receiver: OTLPHttpReceiver, cli_telemetry: str
) -> None:
    """With RUNNER_CLI_TELEMETRY too: the CLI reports only this run's calls on resume."""
    env = {
        **SESSION,
        **langfuse_env(receiver.url),
        "RUNNER_EXIT_BUDGET": "5",
        "RUNNER_CLI_TELEMETRY": cli_telemetry,
    }
    first = runner.run(FIRST, PROMPT="FIRST task: run echo one.", **env)
    assert first.code == 0, first.stderr
    record = _record(runner)
    assert record["status"] == "success" and len(record["trace_id"]) == 32

    second = runner.run(SECOND, PROMPT="SECOND task: run echo two.", IS_RESUME="true", **env)

    assert second.code == 0, second.stderr
    assert "leave out" not in second.stderr  # the CLI's cost record has the first run's end
    start = second.of_type("session_start")[0]
    assert start["resume"]["claude_session_id"] == record["claude_session_id"]
    assert start["resume"]["resumed_from_trace_id"] == record["trace_id"]
    # The model receives the earlier turns: the first prompt, then the new one.
    history = second.server.message_calls[0].user_texts
    assert any("FIRST task" in t for t in history) and "SECOND task" in history[-1]
    _assert_counted_once(first)
    _assert_counted_once(second)
    assert first.end["total_cost_usd"] == pytest.approx(0.021210, abs=1e-9)
    assert second.end["total_cost_usd"] == pytest.approx(0.005601, abs=1e-9)
    assert second.end["reported_cumulative_cost_usd"] == pytest.approx(0.026811, abs=1e-9)
    _assert_two_linked_traces(receiver.spans(LANGFUSE_PATH), first, second)
    after = _record(runner)
    assert after["claude_session_id"] == record["claude_session_id"]
    assert after["resumed_from_trace_id"] == record["trace_id"] != after["trace_id"]
    assert after["claude_code"]["total_cost_usd"] == pytest.approx(0.026811, abs=1e-9)


INTERACTIVE_FIRST = [
    text("One.", Usage(1000, 100, 0, 4000), match="FIRST"),
    text("Two.", Usage(12, 90, 4000, 300), match="SECOND"),
]
INTERACTIVE_RESUMED = [
    text("Three.", Usage(3, 60, 500), match="THIRD"),
    text("Four.", Usage(4, 70, 600), match="FOURTH"),
]


def _interactive(runner: Runner, script: list[Any], prompts: list[str], **env: Any) -> Finished:
    running = runner.start(script, stdin=True, INTERACTIVE="true", PROMPT=prompts[0], **env)
    for n, prompt in enumerate(prompts[1:], start=2):
        running.wait_until(
            lambda n=n: len([e for e in running.events if e["type"] == "result"]) >= n - 1
        )
        running.send({"type": "user_message", "text": prompt})
    running.wait_until(
        lambda: len([e for e in running.events if e["type"] == "result"]) >= len(prompts)
    )
    running.send({"type": "end_session"})
    return running.finish()


def test_a_resumed_interactive_run_counts_each_query_once(
    runner: Runner, receiver: OTLPHttpReceiver
) -> None:
    env = {**SESSION, **langfuse_env(receiver.url), "RUNNER_EXIT_BUDGET": "5"}
    first = _interactive(runner, INTERACTIVE_FIRST, ["FIRST question", "SECOND question"], **env)
    assert first.code == 0, first.stderr

    second = _interactive(
        runner, INTERACTIVE_RESUMED, ["THIRD question", "FOURTH question"], IS_RESUME="true", **env
    )

    assert second.code == 0, second.stderr
    history = second.server.message_calls[0].user_texts
    asked = [q for t in history for q in ("FIRST", "SECOND", "THIRD") if f"{q} question" in t]
    assert asked == ["FIRST", "SECOND", "THIRD"]  # the earlier turns, in order, then the new one
    _assert_counted_once(first)
    _assert_counted_once(second)
    results = second.of_type("result")
    assert [r["llm_calls"] for r in results] == [1, 1]
    assert [r["total_cost_usd"] for r in results] == pytest.approx(
        [expected_cost(c.usage) for c in second.server.message_calls], abs=1e-12
    )
    _assert_two_linked_traces(receiver.spans(LANGFUSE_PATH), first, second)


def test_a_replaced_pod_with_the_transcript_and_the_record_restored_continues(
    tmp_path: Path,
) -> None:
    """Only `$CLAUDE_CONFIG_DIR/projects/*/<id>.jsonl` and the workspace record persist (two
    volumes); the new pod has a new HOME, a new cwd path, nothing else."""
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = Runner(tmp_path / "old")
    first = old.run(FIRST, PROMPT="FIRST task.", **SESSION)
    assert first.code == 0, first.stderr
    new = Runner(tmp_path / "new")
    shutil.copytree(old.root / "home" / ".claude" / "projects", new.root / "home/.claude/projects")
    shutil.copytree(old.workspace / ".claude-runner", new.workspace / ".claude-runner")

    second = new.run(SECOND, PROMPT="SECOND task.", IS_RESUME="true", **SESSION)

    assert second.code == 0, second.stderr
    assert any("FIRST task" in t for t in second.server.message_calls[0].user_texts)
    _assert_counted_once(second)
    assert second.end["reported_cumulative_cost_usd"] == pytest.approx(
        first.end["total_cost_usd"] + second.end["total_cost_usd"], abs=1e-9
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "claude-runner: IS_RESUME=true but RESUME_SESSION_ID is not set and there is no "
             "workspace record at "),
        ({"RESUME_SESSION_ID": "5c0f3b8e-0000-4000-8000-000000000000"},
         "claude-runner: IS_RESUME=true but the transcript of Claude Code session "
         "5c0f3b8e-0000-4000-8000-000000000000 is not under "),
    ],
)  # fmt: skip
def test_a_missing_state_is_exit_2_with_one_line_and_no_model_call(
    runner: Runner, env: dict[str, str], says: str
) -> None:
    done = runner.run(FIRST, PROMPT="FIRST task.", IS_RESUME="true", **env)

    assert done.code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), done.stderr
    assert done.server.message_calls == [] and done.events == []


def test_resume_fallback_fresh_starts_a_new_conversation(runner: Runner) -> None:
    done = runner.run(FIRST, PROMPT="FIRST task.", IS_RESUME="true", RESUME_FALLBACK="fresh")

    assert done.code == 0, done.stderr
    assert "RESUME_FALLBACK=fresh: starting a new conversation" in done.stderr
    assert done.of_type("session_start")[0]["resume"] is None
    assert len(done.server.message_calls[0].user_texts) == 1


def _agent(subtask: str) -> ToolUse:
    return ToolUse(
        "Agent",
        {
            "description": subtask,
            "prompt": f"{subtask}: run echo",
            "subagent_type": "general-purpose",
        },
    )


AFTER_RESUME = [  # steps with a match first: a step without one answers any request
    text("<summary>The user asked for echo one.</summary>", Usage(900, 200), match="CRITICAL"),
    text("<summary>The user asked for echo one.</summary>", Usage(900, 200), match="CRITICAL"),
    Reply(content=(_agent("SUBTASK-A"),), usage=Usage(100, 20, 0, 50), match="FIFTH"),
    bash("echo a-out", Usage(30, 11, 5, 0), match="SUBTASK-A"),
    text("a done", Usage(40, 12, 6, 0), match="a-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(302, 42, 72, 7)),
    text("All done.", Usage(303, 43, 73, 8)),
]


def test_a_compaction_and_a_subagent_right_after_resuming_are_traced_and_priced(
    runner: Runner, receiver: OTLPHttpReceiver
) -> None:
    env = {**SESSION, **langfuse_env(receiver.url), "RUNNER_EXIT_BUDGET": "5"}
    first = runner.run(FIRST, PROMPT="FIRST task: run echo one.", **env)
    assert first.code == 0, first.stderr

    second = _interactive(
        runner, AFTER_RESUME, ["/compact", "FIFTH: start a subagent"], IS_RESUME="true", **env
    )

    assert second.code == 0, second.stderr
    (compaction,) = second.of_type("compaction")
    assert compaction["pre_tokens"] > 0  # the restored conversation's context
    _assert_counted_once(second)
    (entry,) = [s for r in second.of_type("result") for s in r["subagents"]]
    assert entry["calls"] == 2
    spans = receiver.spans(LANGFUSE_PATH)
    _assert_two_linked_traces(spans, first, second)
    resumed = [s for s in spans if s.trace_id == _roots(spans)[1].trace_id]
    assert [s.name for s in resumed].count("invoke_agent general-purpose") == 1
    assert any(s.name == "compaction" for s in resumed)
    # The summary call the stream never shows is booked at its own usage, not the earlier run's.
    (summary,) = [
        a
        for s in resumed
        if (a := attributes(s)).get("gen_ai.operation.name") == "chat"
        and a.get("agentic_session.call.origin") not in (None, "stream", "transcript")
    ]
    assert summary["gen_ai.usage.output_tokens"] == 200
    assert summary["gen_ai.usage.input_tokens"] == 900


def test_after_a_killed_cli_the_run_still_counts_its_own_calls_and_says_what_claude_code_lost(
    runner: Runner,
) -> None:
    """A CLI killed with SIGKILL writes no cost record (docs/resume.md): simulated by removing
    it. The history still resumes; Claude Code's figures restart from 0; the runner's baseline
    is 0 too, so its check still holds, and the workspace record shows what was lost."""
    first = runner.run(FIRST, PROMPT="FIRST task.", **SESSION)
    assert first.code == 0, first.stderr
    (transcript,) = (runner.root / "home" / ".claude" / "projects").glob("*/*.jsonl")
    lines = transcript.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line).get("type") != "cost-state"]
    assert len(kept) < len(lines)
    transcript.write_text("".join(kept), encoding="utf-8")

    second = runner.run(SECOND, PROMPT="SECOND task.", IS_RESUME="true", **SESSION)

    assert second.code == 0, second.stderr
    assert any("FIRST task" in t for t in second.server.message_calls[0].user_texts)
    _assert_counted_once(second)
    assert second.end["reported_cumulative_cost_usd"] == pytest.approx(0.005601, abs=1e-9)
    assert "Claude Code's figures now leave out $0.021210" in second.stderr
    assert second.of_type("session_start")[0]["resume"]["earlier_reported_cost_usd"] == 0
