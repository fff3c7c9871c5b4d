"""Live export: each span leaves when its work ends, so a running session is visible and a
SIGKILL (OOM, eviction) loses only what was still running. Real runner process, real CLI,
spans decoded from what reached a local Langfuse-like receiver."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

from runner.offline import Usage, bash, text
from tests.e2e.harness import Runner, expected_cost
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import BASIC, langfuse_env

LANGFUSE_PATH = "/api/public/otel/v1/traces"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def test_a_sigkill_loses_only_what_was_still_running(runner: Runner) -> None:
    """Killed after its third call has ended and one export interval (1 s) has passed: the
    backend holds those three calls and their tools, with exact usage and cost."""
    usages = [Usage(100 + i, 10 + i, 20 * i, 50) for i in range(3)]
    script = [
        *(bash(f"echo step-{i}", u, delay_s=0.2) for i, u in enumerate(usages)),
        bash("echo never", Usage(1, 1), delay_s=30),
        text("never", Usage(1, 1)),
    ]
    receiver = OTLPHttpReceiver(auth=BASIC)
    running = runner.start(script, **langfuse_env(receiver.url))
    try:
        running.wait_until(lambda: len(running.server.message_calls) >= 3, timeout=60)
        running.wait_until(lambda: running.server.in_flight >= 1, timeout=30)  # call 4 is open
        # What has ended is exported live (within about an export interval, 1 s; bounded here
        # with room for a loaded machine), while call 4 and the session are still running.
        running.wait_until(
            lambda: (
                sum(s.name.startswith("chat ") for s in receiver.spans(LANGFUSE_PATH)) >= 3
                and sum(s.name == "execute_tool Bash" for s in receiver.spans(LANGFUSE_PATH)) >= 3
            ),
            timeout=30,
        )
        children = _children(running.proc.pid)
        running.proc.send_signal(signal.SIGKILL)
        running.proc.wait(timeout=10)
        for child in children:  # the orphaned CLI, so the test leaves nothing behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        spans = receiver.spans(LANGFUSE_PATH)
    finally:
        running.server.stop()
        receiver.stop()
    chats = sorted(
        (s for s in spans if s.name.startswith("chat ")), key=lambda s: s.start_time_unix_nano
    )
    tools = [s for s in spans if s.name == "execute_tool Bash"]
    assert len(chats) == 3 and len(tools) == 3, [s.name for s in spans]
    for span, call in zip(chats, running.server.message_calls[:3], strict=True):
        a = attributes(span)
        assert a["gen_ai.response.id"] == call.message_id
        assert (
            json.loads(a["langfuse.observation.usage_details"])["output"]
            == call.usage["output_tokens"]
        )
        assert abs(a["gen_ai.usage.cost"] - expected_cost(call.usage)) < 1e-12
    # Still running at the kill, and honest about it: never exported.
    assert not [s for s in spans if s.name == "agentic-session"]


def test_the_first_call_reaches_the_backend_before_the_session_ends(runner: Runner) -> None:
    # 6 s of calls against a 1 s export interval: room for a loaded machine.
    script = [bash(f"echo {i}", Usage(50, 10), delay_s=1.0) for i in range(5)]
    script.append(text("Done.", Usage(50, 10), delay_s=1.0))
    receiver = OTLPHttpReceiver(auth=BASIC)
    running = runner.start(script, **langfuse_env(receiver.url))
    try:
        running.wait_until(
            lambda: any(s.name.startswith("chat ") for s in receiver.spans(LANGFUSE_PATH)),
            timeout=60,
        )
        ended_before = any(e["type"] == "session_end" for e in running.events)
        calls_served = len(running.server.message_calls)
        done = running.finish()
    finally:
        receiver.stop()
    assert done.code == 0, done.stderr
    assert not ended_before and calls_served < 6
    assert len([s for s in receiver.spans(LANGFUSE_PATH) if s.name.startswith("chat ")]) == 6
