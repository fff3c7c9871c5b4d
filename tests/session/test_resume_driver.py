"""The session driver on a resume the CLI refuses: a configuration error (exit 2) that names
the variable and the fix, not a crash (measured: docs/resume.md, 'Unknown session id')."""

from __future__ import annotations

from pathlib import Path

from runner.config import RunnerConfig
from runner.errors import ConfigError
from runner.session.driver import SessionDriver
from runner.session.resume import ResumeState
from runner.session.types import ResumeInfo

SID = "5c0f3b8e-0000-4000-8000-000000000000"


class _Quiet:
    def on_session_start(self, event: object) -> None: ...
    def on_query_start(self, event: object) -> None: ...
    def on_event(self, event: object) -> None: ...
    def on_query_end(self, event: object) -> None: ...
    def on_session_end(self, event: object) -> None: ...


def _driver(tmp_path: Path, resume: ResumeState | None) -> SessionDriver:
    config = RunnerConfig(session_id="s", prompt="p", workspace=tmp_path)
    return SessionDriver(config, _Quiet(), resume=resume)  # type: ignore[arg-type]


def test_no_conversation_found_becomes_a_one_line_config_error(tmp_path: Path) -> None:
    driver = _driver(tmp_path, ResumeState(info=ResumeInfo(claude_session_id=SID)))
    # What the SDK raises (ResultError's text, claude-agent-sdk 0.2.189).
    raised = Exception(
        f"Claude Code returned an error result: No conversation found with session ID: {SID} "
        f"(exit code: 1)"
    )
    error = driver._resume_refused(raised)
    assert isinstance(error, ConfigError) and error.exit_code == 2
    assert str(error).startswith(
        f"IS_RESUME=true but the Claude Code CLI found no conversation {SID}"
    )
    assert "CLAUDE_CONFIG_DIR" in str(error) and "\n" not in str(error)


def test_other_failures_and_fresh_sessions_are_not_mapped(tmp_path: Path) -> None:
    resumed = _driver(tmp_path, ResumeState(info=ResumeInfo(claude_session_id=SID)))
    assert resumed._resume_refused(Exception("the CLI crashed")) is None
    fresh = _driver(tmp_path, None)
    assert fresh._resume_refused(Exception("No conversation found with session ID: x")) is None


def test_the_options_pass_the_session_to_resume(tmp_path: Path) -> None:
    resumed = _driver(tmp_path, ResumeState(info=ResumeInfo(claude_session_id=SID)))
    assert resumed._options().resume == SID
    assert _driver(tmp_path, None)._options().resume is None
