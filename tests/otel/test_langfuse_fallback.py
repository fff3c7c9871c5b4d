"""TELEMETRY_MODE=langfuse-sdk gives the same trace in Langfuse as the OTel path; it is isolated,
imported only when selected, and bounded at exit like the OTel path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner.offline import Failure, Reply, ToolUse, Usage, bash, text
from tests.e2e.harness import Runner
from tests.langfuse_mapping import langfuse_view
from tests.otel.test_export_e2e import BASIC, _langfuse_env
from tests.otlp_receiver import OTLPHttpReceiver

LANGFUSE_PATH = "/api/public/otel/v1/traces"
SCRIPT = [
    bash("echo one", Usage(120, 30, 0, 900), say="First."),
    bash("echo boom && exit 2", Usage(40, 12, 900)),
    text("Done.", Usage(55, 21, 940, 8)),
]
SUBAGENT = [
    Reply(
        content=(
            ToolUse(
                "Agent",
                {"description": "d", "prompt": "SUBTASK go", "subagent_type": "general-purpose"},
            ),
        ),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
    text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    text("Waiting.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]


def _run(runner: Runner, script: list, mode: str) -> list:  # type: ignore[type-arg]
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        extra = {"TELEMETRY_MODE": mode} if mode != "otel" else {}
        done = runner.run(
            script, **_langfuse_env(receiver.url), USER_ID="user-9", NAMESPACE="ns", **extra
        )
    finally:
        receiver.stop()
    assert done.code in (0, 3), done.stderr
    assert receiver.requests, f"nothing reached the receiver: {done.stderr}"
    assert {r.status for r in receiver.requests} == {200}
    return receiver.spans(LANGFUSE_PATH)


@pytest.mark.parametrize(
    "script", [SCRIPT, SUBAGENT, [Failure(529)]], ids=["tools", "subagent", "api-error"]
)
def test_both_paths_give_langfuse_the_same_trace(
    tmp_path_factory: pytest.TempPathFactory,
    script: list,  # type: ignore[type-arg]
) -> None:
    otel = langfuse_view(_run(Runner(tmp_path_factory.mktemp("otel")), script, "otel"))
    sdk = langfuse_view(_run(Runner(tmp_path_factory.mktemp("sdk")), script, "langfuse-sdk"))

    assert otel == sdk
    generations = [r for r in otel if r["type"] == "generation"]
    assert generations and all(r["session"] == "e2e-session" for r in otel)
    assert all(r["user"] == "user-9" and r["trace_name"] == "agentic-session" for r in otel)
    if script is SCRIPT:
        assert [g["usage"]["output"] for g in sorted(generations, key=lambda g: g["cost"])] == [
            12,
            21,
            30,
        ]
        assert {r["level"] for r in otel if r["type"] == "tool"} == {"DEFAULT", "ERROR"}


def test_with_the_flag_off_langfuse_is_never_imported(tmp_path: Path) -> None:
    """A real session on the OTel path, Langfuse keys set, in a fresh interpreter."""
    code = f"""
import json, os, sys
from pathlib import Path
from runner.offline import OfflineMessagesServer, offline_environment, text, Usage
from tests.otlp_receiver import OTLPHttpReceiver
receiver = OTLPHttpReceiver()
root = Path({str(tmp_path)!r}); (root / "ws").mkdir()
with OfflineMessagesServer([text("hi", Usage(1, 1))]) as server:
    os.environ.update(offline_environment(server.url, root))
    os.environ.update(SESSION_ID="s", PROMPT="p", WORKSPACE_PATH=str(root / "ws"),
                      LANGFUSE_PUBLIC_KEY="pk-lf-1", LANGFUSE_SECRET_KEY="sk-lf-2",
                      LANGFUSE_BASE_URL=receiver.url)
    from runner.cli import execute
    exit_code = execute({{}})
print(json.dumps([exit_code, "langfuse" in sys.modules, len(receiver.spans({LANGFUSE_PATH!r}))]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    exit_code, imported, spans = json.loads(done.stdout.strip().splitlines()[-1])
    assert exit_code == 0, done.stderr
    assert imported is False
    assert spans == 3  # the OTel path did export: session, query, chat


def test_langfuse_sdk_path_exits_within_the_budget_when_the_host_hangs(runner: Runner) -> None:
    host = OTLPHttpReceiver(mode="hang")
    try:
        done = runner.run(SCRIPT, **_langfuse_env(host.url), TELEMETRY_MODE="langfuse-sdk")
    finally:
        host.stop()
    assert done.code == 0, done.stderr
    assert done.exit_after_end_s is not None and done.exit_after_end_s <= 2 + 1
