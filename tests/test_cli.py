"""`claude-runner`: version, bad input before the CLI starts, exit codes at the edge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items()},
        "SESSION_ID": "cli-test",
        "PROMPT": "hi",
        "WORKSPACE_PATH": str(tmp_path),
        "ANTHROPIC_API_KEY": "sk-ant-cli-test-key-0000",
        # Nothing listens here: a CLI that started would fail differently (exit 3, not 2).
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "HOME": str(tmp_path),
    }


def test_version_prints_without_importing_the_sdk(env: dict[str, str]) -> None:
    done = _run(["--version"], env)
    assert done.returncode == 0
    assert done.stdout.strip().startswith("claude-runner ")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from runner.cli import app; "
            "print('claude_agent_sdk' in sys.modules, 'opentelemetry.sdk' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert probe.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SESSION_ID": ""}, "SESSION_ID"),
        ({"TIMEOUT": "abc"}, "TIMEOUT"),
        ({"TIMEOUT": "-1"}, "TIMEOUT"),
        ({"INTERACTIVE": "maybe"}, "INTERACTIVE"),
        ({"WORKSPACE_PATH": "/nonexistent/ws"}, "WORKSPACE_PATH"),
        ({"ANTHROPIC_API_KEY": ""}, "ANTHROPIC_API_KEY"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_the_cli_starts(
    env: dict[str, str], change: dict[str, str], variable: str
) -> None:
    env.update(change)
    done = _run(["run"], env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("claude-runner: ") and variable in lines[0]
    assert done.stdout == ""  # no session_start: nothing was started
    assert "sk-ant-cli-test-key-0000" not in done.stderr


def test_flags_override_the_environment(env: dict[str, str]) -> None:
    env["TIMEOUT"] = "10"
    done = _run(["run", "--timeout", "nope"], env)
    assert done.returncode == 2 and "TIMEOUT='nope'" in done.stderr


def test_every_session_variable_but_credentials_has_a_flag() -> None:
    """README's promise: `claude-runner run --help` lists a flag for each variable of the
    contract, credentials aside (secrets do not belong on a command line)."""
    from typer.testing import CliRunner

    from runner import environment_variables as ev
    from runner.cli import app

    credentials = {
        ev.ANTHROPIC_API_KEY,
        ev.ANTHROPIC_AUTH_TOKEN,
        ev.ANTHROPIC_BASE_URL,
        ev.CLAUDE_CODE_USE_VERTEX,
        ev.ANTHROPIC_VERTEX_PROJECT_ID,
        ev.CLOUD_ML_REGION,
    }
    help_text = CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output
    missing = [
        name
        for name in ev.CONTRACT
        if name not in credentials and f"Overrides {name}" not in help_text
    ]
    assert not missing, missing


def test_third_party_info_lines_reach_stderr_only_with_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Quiet by default: the SDK's `Using bundled Claude Code CLI` line is noise in a Job's
    log; the runner's own INFO lines and every library's warnings stay."""
    import logging

    from runner.cli import QUIET_LIBRARIES, configure_logging

    sdk = logging.getLogger("claude_agent_sdk._internal.transport.subprocess_cli")
    try:
        configure_logging({"RUNNER_LOG_LEVEL": "INFO"})
        sdk.info("Using bundled Claude Code CLI: /x")
        sdk.warning("a library warning")
        logging.getLogger("runner").info("ours")
        quiet = capsys.readouterr().err
        configure_logging({"RUNNER_LOG_LEVEL": "DEBUG"})
        sdk.info("Using bundled Claude Code CLI: /x")
        loud = capsys.readouterr().err
    finally:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger().handlers.clear()
    assert "Using bundled" not in quiet
    assert "a library warning" in quiet and "ours" in quiet
    assert "Using bundled" in loud
