"""Fault matrix, telemetry side: whatever the backend does, the session's exit code is what it
would be without telemetry, the process exits within the budget, one warning per failure kind,
and what could be delivered is delivered."""

from __future__ import annotations

import re

import pytest

from runner.offline import Usage, bash, text
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, SECRET, free_port, langfuse_env

SCRIPT = [bash("echo hi", Usage(100, 20, 0, 300)), text("Done.", Usage(50, 10, 300))]
BUDGET = 2


@pytest.mark.parametrize(
    ("mode", "expect"),
    [
        ("slow:8", "exit budget"),  # answers after 8 s: well past the budget
        (413, "HTTP 413"),
        (500, "HTTP 5xx"),
        ("tls", "tls"),
    ],
)
def test_more_backend_faults_never_fail_or_hold_the_session(
    runner: Runner, mode: str | int, expect: str
) -> None:
    backend = OTLPHttpReceiver(mode="ok" if mode == "tls" else mode)
    url = backend.url.replace("http://", "https://") if mode == "tls" else backend.url
    try:
        done = runner.run(SCRIPT, **{**langfuse_env(url), "RUNNER_EXIT_BUDGET": str(BUDGET)})
    finally:
        backend.stop()
    assert done.code == 0, done.stderr
    # With room for a loaded machine; the faults alone would hold the exit 7.6 s or more.
    assert done.exit_after_end_s is not None and done.exit_after_end_s <= BUDGET + 3
    warnings = [line for line in done.stderr.splitlines() if "telemetry:" in line]
    assert len([w for w in warnings if "failed (" in w]) <= 1
    # A slow backend answers after the budget: what it was sent is not confirmed, not lost.
    word = "not confirmed" if str(mode).startswith("slow") else "not delivered"
    lost = [w for w in warnings if "not delivered" in w or "not confirmed" in w]
    assert len(lost) == 1 and f"5 of 5 spans were {word}" in lost[0], warnings
    assert expect in done.stderr
    assert SECRET not in done.stderr


def test_a_backend_down_then_back_receives_what_came_after_and_the_report_counts_the_loss(
    runner: Runner,
) -> None:
    backend = OTLPHttpReceiver(mode=500, auth=BASIC)
    steps = [bash(f"echo step-{i}", Usage(50, 10), delay_s=0.3) for i in range(6)]
    session = runner.start(
        [*steps, text("Done.", Usage(50, 10))],
        **langfuse_env(backend.url),
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    try:
        session.wait_until(lambda: len(session.server.message_calls) >= 3)
        failed_before = sum(1 for r in backend.requests if r.status == 500)
        backend.mode = "ok"
        done = session.finish()
    finally:
        backend.stop()
    assert done.code == 0, done.stderr
    assert failed_before >= 1, "nothing was exported while the backend was down"
    received = backend.spans("/api/public/otel/v1/traces")
    names = [s.name for s in received]
    assert "agentic-session" in names and "invoke_agent claude-code" in names
    total = 1 + 1 + 7 + 6  # session, query, chats, tools
    lost = total - len(received)
    # Live export: what ended while the backend answered 500 (at most the first three calls
    # and their tools, and a batch in flight) is lost; the rest arrives.
    assert 1 <= lost <= 8
    assert names.count("chat claude-sonnet-4-5") >= 7 - 4
    (report,) = [line for line in done.stderr.splitlines() if "not delivered" in line]
    assert re.search(rf"\b{lost} of {total} spans were not delivered", report), report
    assert "HTTP 5xx" in done.stderr


@pytest.mark.parametrize("status", [429, 500, 529])
def test_model_errors_exit_3_with_the_trace_exported_and_the_root_in_error(
    runner: Runner, status: int
) -> None:
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        from runner.offline import Failure

        done = runner.run([Failure(status)] * 8, **langfuse_env(receiver.url))
    finally:
        receiver.stop()
    assert done.code == 3, done.stderr
    assert done.events[-1]["type"] == "session_end"
    assert done.events[-1]["status"] == "model_error"
    _assert_root_error(receiver, "model_error")


def test_a_stream_cut_mid_response_ends_in_error_with_the_trace_exported(runner: Runner) -> None:
    from runner.offline import Reply, Text

    cut = Reply(content=(Text("partial"), Text("never")), usage=Usage(10, 5), cut_after_blocks=1)
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        done = runner.run([cut] * 8, **langfuse_env(receiver.url))
    finally:
        receiver.stop()
    assert done.code in (1, 3), done.stderr
    assert done.events[-1]["type"] == "session_end" and done.events[-1]["exit_code"] == done.code
    _assert_root_error(receiver, done.events[-1]["status"])


def test_the_cli_killed_mid_session_ends_the_session_with_the_trace_exported(
    runner: Runner,
) -> None:
    import os
    import signal

    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        session = runner.start(
            [text("slow", Usage(10, 5), delay_s=30)], **langfuse_env(receiver.url)
        )
        session.wait_until(lambda: session.server.in_flight == 1)
        children = _children(session.proc.pid)
        assert children, "the Claude Code CLI child was not found"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        done = session.finish(timeout=60)
    finally:
        receiver.stop()
    assert done.code == 1, done.stderr
    assert done.events[-1]["type"] == "session_end" and done.events[-1]["status"] == "error"
    _assert_root_error(receiver, "runner_error")


def test_sigterm_exports_the_trace_with_an_interrupted_root(runner: Runner) -> None:
    import signal

    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        session = runner.start(
            [text("slow", Usage(10, 5), delay_s=30)], **langfuse_env(receiver.url)
        )
        session.wait_until(lambda: session.server.in_flight == 1)
        session.proc.send_signal(signal.SIGTERM)
        done = session.finish(timeout=30)
    finally:
        receiver.stop()
    assert done.code == 143
    assert done.events[-1]["status"] == "interrupted"
    _assert_root_error(receiver, "interrupted")


def test_timeout_and_idle_exports_the_trace_with_an_error_root(runner: Runner) -> None:
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        timed_out = runner.run(
            [text("slow", Usage(10, 5), delay_s=30)], **langfuse_env(receiver.url), TIMEOUT="1"
        )
        _assert_root_error(receiver, "timeout")
        receiver.requests.clear()
        idle = runner.start(
            [text("hi", Usage(10, 5))],
            stdin=True,
            INTERACTIVE="true",
            IDLE_TIMEOUT="1",
            **langfuse_env(receiver.url),
        ).finish()
        _assert_root_error(receiver, "idle_timeout")
    finally:
        receiver.stop()
    assert (timed_out.code, idle.code) == (4, 5)
    assert (
        timed_out.events[-1]["status"] == "timeout" and idle.events[-1]["status"] == "idle_timeout"
    )


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (no procps needed)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _assert_root_error(receiver: OTLPHttpReceiver, error_type: str) -> None:
    spans = receiver.spans("/api/public/otel/v1/traces")
    roots = [s for s in spans if s.name == "agentic-session"]
    assert len(roots) == 1, [s.name for s in spans]
    root = roots[0]
    assert root.status.code == 2  # ERROR
    assert attributes(root)["error.type"] == error_type
    for span in spans:  # nothing left unended, nothing marked as abandoned by the safety net
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 0
        assert attributes(span).get("error.type") != "unfinished"


def test_an_unused_port_is_refused_quickly(runner: Runner) -> None:
    env = {**langfuse_env(f"http://127.0.0.1:{free_port()}"), "RUNNER_EXIT_BUDGET": "1"}
    done = runner.run(SCRIPT, **env)
    # Budget 1 s (+3 for a loaded machine); the OTel SDK's retries on a refused port take 7.6 s.
    assert done.code == 0 and done.exit_after_end_s is not None and done.exit_after_end_s <= 4
