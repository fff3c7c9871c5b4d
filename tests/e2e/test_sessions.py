"""A session run through `claude-runner run` behaves as the runtime contract says.

Real claude-agent-sdk, real bundled Claude Code CLI, the scripted local Messages API server.
"""

from __future__ import annotations

import json
import signal

import pytest

from runner.offline import Failure, Reply, Text, ToolUse, Usage, bash, text
from tests.e2e.harness import Runner, expected_cost

U1 = Usage(
    input_tokens=120, output_tokens=31, cache_read_input_tokens=0, cache_creation_input_tokens=900
)
U2 = Usage(input_tokens=40, output_tokens=17, cache_read_input_tokens=900)
U3 = Usage(
    input_tokens=55, output_tokens=64, cache_read_input_tokens=940, cache_creation_input_tokens=12
)


def test_plain_text_answer_gives_one_result_and_a_success_summary(runner: Runner) -> None:
    done = runner.run([text("Hello there.", U1)])

    assert done.code == 0, done.stderr
    assert [e["type"] for e in done.events] == [
        "session_start",
        "user_message",
        "assistant_text",
        "result",
        "session_end",
    ]
    assert done.of_type("assistant_text")[0]["text"] == "Hello there."
    result = done.of_type("result")[0]
    assert result["is_error"] is False and result["subtype"] == "success"
    assert result["num_turns"] == 1
    served = done.server.message_calls[0].usage
    assert result["usage"] == {k: v for k, v in served.items() if k != "cache_creation"}
    assert result["total_cost_usd"] == pytest.approx(expected_cost(U1.__dict__), abs=1e-12)
    assert done.end["status"] == "success" and done.end["exit_code"] == 0
    assert done.end["session_id"] == "e2e-session"


def test_two_sequential_bash_calls_report_tool_use_and_results(runner: Runner) -> None:
    done = runner.run(
        [
            bash("echo first-call", U1, say="Running the first command."),
            bash("echo second-call && exit 3", U2),
            text("Both commands ran.", U3),
        ]
    )

    assert done.code == 0, done.stderr
    served = done.server.message_calls
    assert len(served) == 3 and not done.server.exhausted_calls
    uses = done.of_type("tool_use")
    results = done.of_type("tool_result")
    assert [u["id"] for u in uses] == served[0].tool_use_ids + served[1].tool_use_ids
    assert [u["name"] for u in uses] == ["Bash", "Bash"]
    assert json.loads(uses[0]["input"])["command"] == "echo first-call"
    assert [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert results[0]["content"] == "first-call" and results[0]["is_error"] is False
    assert "second-call" in results[1]["content"] and results[1]["is_error"] is True
    result = done.of_type("result")[0]
    assert result["num_turns"] == 3
    total = sum(expected_cost(c.usage) for c in served)
    assert result["total_cost_usd"] == pytest.approx(total, abs=1e-12)
    assert done.end["usage"]["output_tokens"] == 31 + 17 + 64


def test_interactive_session_reports_each_query_cost_not_the_running_total(
    runner: Runner,
) -> None:
    script = [
        text("First answer.", U1, match="first question"),
        bash("echo two", U2, match="second question"),
        text("Second answer.", U3),
    ]
    session = runner.start(script, stdin=True, INTERACTIVE="true", PROMPT="first question")
    session.wait_for("result")
    session.send("this is not json")
    session.send({"type": "user_message", "text": "second question"})
    session.send({"type": "end_session"})
    done = session.finish()

    assert done.code == 0, done.stderr
    results = done.of_type("result")
    assert [r["query"] for r in results] == [1, 2]
    calls = done.server.message_calls
    first, second = (
        expected_cost(calls[0].usage),
        expected_cost(calls[1].usage) + expected_cost(calls[2].usage),
    )
    assert results[0]["total_cost_usd"] == pytest.approx(first, abs=1e-12)
    assert results[1]["total_cost_usd"] == pytest.approx(second, abs=1e-12)
    assert done.end["total_cost_usd"] == pytest.approx(first + second, abs=1e-12)
    assert done.end["queries"] == 2
    errors = done.of_type("input_error")
    assert len(errors) == 1 and errors[0]["line"] == 1 and "not JSON" in errors[0]["message"]
    assert [e["text"] for e in done.of_type("user_message")] == [
        "first question",
        "second question",
    ]


def test_interactive_session_ends_at_eof(runner: Runner) -> None:
    session = runner.start([text("Only answer.", U1)], stdin=True, INTERACTIVE="true")
    session.wait_for("result")
    session.close_stdin()
    done = session.finish()
    assert done.code == 0, done.stderr
    assert done.end["status"] == "success" and done.end["queries"] == 1


def test_interactive_session_without_prompt_waits_for_stdin(runner: Runner) -> None:
    session = runner.start([text("Answer.", U1)], stdin=True, INTERACTIVE="true", PROMPT="")
    session.send({"type": "user_message", "text": "hello from stdin"})
    session.wait_for("result")
    session.close_stdin()
    done = session.finish()
    assert done.code == 0, done.stderr
    assert done.of_type("user_message")[0]["text"] == "hello from stdin"


@pytest.mark.parametrize("status", [529, 400])
def test_api_error_exits_3_with_an_error_event(runner: Runner, status: int) -> None:
    """With CLAUDE_CODE_MAX_RETRIES=0 the CLI sends one request on a 529; after a 400 it
    re-sends with fallbacks (6 requests measured with CLI 2.1.330), so script enough."""
    done = runner.run([Failure(status, message=f"scripted {status}")] * 8)

    assert done.code == 3, done.stderr
    statuses = [c.status for c in done.server.served]
    assert statuses and set(statuses) == {status}
    if status == 529:
        assert len(statuses) == 1
    result = done.of_type("result")[0]
    assert result["is_error"] is True
    assert result["api_error_status"] == status
    assert result["error_type"] == "model_error"
    error = done.of_type("error")[0]
    assert error["error_type"] == "model_error"
    assert done.end["status"] == "model_error" and done.end["exit_code"] == 3
    assert done.events[-1]["type"] == "session_end"


def test_timeout_interrupts_the_session_and_exits_4(runner: Runner) -> None:
    # The reply would come after 120 s; TIMEOUT stops the session at 1.5 s (the bound leaves
    # room for a loaded machine's slow start and stop).
    done = runner.run([text("too late", U1, delay_s=120)], TIMEOUT="1.5")

    assert done.code == 4, done.stderr
    assert done.end["status"] == "timeout"
    assert done.of_type("result")[0]["error_type"] == "timeout"
    assert "TIMEOUT=1.5s" in done.of_type("error")[0]["message"]
    assert done.elapsed_s < 45, f"took {done.elapsed_s:.1f}s to stop"


def test_idle_interactive_session_exits_5(runner: Runner) -> None:
    session = runner.start([text("Answer.", U1)], stdin=True, INTERACTIVE="true", IDLE_TIMEOUT="1")
    done = session.finish()
    assert done.code == 5, done.stderr
    assert done.end["status"] == "idle_timeout" and done.end["queries"] == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_session_interrupts_cleanly(runner: Runner, signum: int, code: int) -> None:
    session = runner.start([text("never arrives", U1, delay_s=120)])
    session.wait_for("user_message")
    # The request is in flight once the server has taken the step.
    session.wait_until(lambda: session.server.in_flight == 1)
    session.proc.send_signal(signum)
    done = session.finish(timeout=90)

    assert done.code == code, done.stderr
    assert done.end["status"] == "interrupted"
    assert done.of_type("result")[0]["error_type"] == "interrupted"
    assert done.elapsed_s < 45  # not the 120 s the reply would take


def test_tool_use_inside_a_reply_with_text_is_reported_in_order(runner: Runner) -> None:
    reply = Reply(content=(Text("Checking."), ToolUse("Bash", {"command": "printf ok"})), usage=U1)
    done = runner.run([reply, text("ok.", U2)])
    assert done.code == 0, done.stderr
    kinds = [e["type"] for e in done.events]
    assert kinds.index("assistant_text") < kinds.index("tool_use") < kinds.index("tool_result")
    assert done.of_type("tool_result")[0]["content"] == "ok"
