"""Resuming: IS_RESUME's variables, the state found before the CLI starts (session id, transcript,
baseline), one-line errors (exit 2) for a missing state, and the workspace record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.accounting.reported import ReportedTotals
from runner.config import RunnerConfig
from runner.errors import ConfigError
from runner.events.types import SessionInitialized
from runner.session.resume import (
    WorkspaceRecord,
    WorkspaceRecorder,
    read_record,
    record_path,
    resolve,
    trace_ids,
    transcript_totals,
    write_record,
)
from runner.session.types import SessionOutcome
from tests.support.resume import captured_result, cost_state, query_result, write_transcript

SID = "75b567ac-949d-43c8-b964-e8d2276696e6"
TRACE = "0af7651916cd43dd8448eb211c80319c"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return {
        "SESSION_ID": "s-1",
        "PROMPT": "go on",
        "WORKSPACE_PATH": str(workspace),
        "ANTHROPIC_API_KEY": "k",
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "IS_RESUME": "true",
        **extra,
    }


def _resolve(env: dict[str, str]):  # type: ignore[no-untyped-def]
    return resolve(RunnerConfig.from_env(env), env)


def _first_run_transcript(tmp_path: Path, *records: dict[str, object]) -> Path:
    first = captured_result("batch", "1-first")
    body = [{"type": "user", "sessionId": SID}, *(records or [cost_state(first)])]
    return write_transcript(tmp_path / "claude", SID, body)


# --- the variables ------------------------------------------------------------------------------


def test_without_is_resume_nothing_is_resumed(tmp_path: Path) -> None:
    env = _env(tmp_path)
    del env["IS_RESUME"]
    assert RunnerConfig.from_env(env).resume is None


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RESUME_SESSION_ID", "../etc/passwd", "RESUME_SESSION_ID='../etc/passwd' is not a Claude"),
        ("RESUME_TRACE_ID", "xyz", "RESUME_TRACE_ID='xyz' is not a trace id"),
        ("RESUME_FALLBACK", "maybe", "RESUME_FALLBACK='maybe' is unknown"),
        ("IS_RESUME", "perhaps", "IS_RESUME='perhaps' is not a boolean"),
    ],
)
def test_a_bad_resume_variable_is_one_line_naming_it(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        RunnerConfig.from_env(_env(tmp_path, **{name: value}))
    assert str(caught.value).startswith(says) and "\n" not in str(caught.value)


def test_a_resume_id_without_is_resume_is_refused_not_ignored(tmp_path: Path) -> None:
    env = _env(tmp_path, RESUME_SESSION_ID=SID)
    del env["IS_RESUME"]
    with pytest.raises(ConfigError, match="RESUME_SESSION_ID is set but IS_RESUME is not"):
        RunnerConfig.from_env(env)


# --- the state ----------------------------------------------------------------------------------


def test_the_baseline_is_the_transcripts_last_cost_state(tmp_path: Path) -> None:
    first, second = captured_result("batch", "1-first"), captured_result("batch", "2-resume")
    path = _first_run_transcript(tmp_path, cost_state(first), {"type": "user"}, cost_state(second))

    totals = transcript_totals(path)

    assert totals.cost_usd == second["total_cost_usd"]
    assert totals.models["claude-sonnet-4-5"].usage.cache_read_input_tokens == 14300
    assert totals.api_duration_ms == second["duration_api_ms"]


def test_a_transcript_without_cost_state_gives_a_zero_baseline(tmp_path: Path) -> None:
    """A CLI killed with SIGKILL wrote none; the CLI then restarts its totals from 0."""
    path = write_transcript(tmp_path / "claude", SID, [{"type": "user"}, {"type": "assistant"}])
    assert transcript_totals(path) == ReportedTotals()


def test_resume_session_id_finds_the_transcript_under_any_project_dir(tmp_path: Path) -> None:
    first = captured_result("batch", "1-first")
    write_transcript(tmp_path / "claude", SID, [cost_state(first)], slug="not-the-cwd")

    state = _resolve(_env(tmp_path, RESUME_SESSION_ID=SID, RESUME_TRACE_ID=TRACE.upper()))

    assert state is not None
    assert state.info.claude_session_id == SID
    assert state.info.previous_trace_id == TRACE
    assert state.baseline.cost_usd == pytest.approx(0.02121)
    assert state.info.baseline_source == "transcript"


def test_the_workspace_record_gives_the_session_and_the_earlier_trace(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _first_run_transcript(tmp_path, cost_state(captured_result("batch", "1-first")))
    record = WorkspaceRecord(
        session_id="s-1", claude_session_id=SID, trace_id=TRACE, span_id="00f067aa0ba902b7"
    )
    assert write_record(Path(env["WORKSPACE_PATH"]), record)

    state = _resolve(env)

    assert state is not None
    assert (state.info.claude_session_id, state.info.previous_trace_id) == (SID, TRACE)
    assert state.info.previous_span_id == "00f067aa0ba902b7"


def test_no_session_id_and_no_record_is_exit_2_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _resolve(_env(tmp_path))
    message = str(caught.value)
    assert message.startswith("IS_RESUME=true but RESUME_SESSION_ID is not set")
    assert ".claude-runner/session.json" in message and "\n" not in message
    assert caught.value.exit_code == 2


def test_a_missing_transcript_is_exit_2_naming_claude_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _resolve(_env(tmp_path, RESUME_SESSION_ID=SID))
    message = str(caught.value)
    assert f"the transcript of Claude Code session {SID} is not under" in message
    assert "restore CLAUDE_CONFIG_DIR" in message and "\n" not in message


def test_an_unreadable_record_is_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = record_path(Path(env["WORKSPACE_PATH"]))
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a runner record"):
        _resolve(env)


def test_resume_fallback_fresh_starts_a_new_conversation_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert _resolve(_env(tmp_path, RESUME_FALLBACK="fresh")) is None
    assert "RESUME_FALLBACK=fresh: starting a new conversation" in caplog.text


def test_a_record_ahead_of_the_transcript_warns_that_claude_codes_figures_lost_a_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The earlier CLI was killed: the runner's record has its end, the transcript does not."""
    env = _env(tmp_path)
    _first_run_transcript(tmp_path, {"type": "assistant"})
    totals = ReportedTotals(cost_usd=0.02121)
    write_record(
        Path(env["WORKSPACE_PATH"]),
        WorkspaceRecord(session_id="s-1", claude_session_id=SID, claude_code=totals),
    )
    state = _resolve(env)
    assert state is not None and state.baseline.cost_usd == 0
    assert "leave out $0.021210" in caplog.text


# --- the record ---------------------------------------------------------------------------------


def test_the_recorder_writes_ids_and_cumulative_figures_and_no_secret(tmp_path: Path) -> None:
    recorder = WorkspaceRecorder(tmp_path, "s-1", trace_id=TRACE, span_id="00f067aa0ba902b7")
    recorder.on_event(SessionInitialized(sdk_session_id=SID, at_ns=1))
    running = json.loads(record_path(tmp_path).read_text())
    assert running["status"] == "running" and running["trace_id"] == TRACE
    recorder.on_event(query_result(captured_result("batch", "1-first")))
    recorder.on_session_end(SessionOutcome(status="success", exit_code=0, at_ns=2))

    record = read_record(tmp_path)
    assert record is not None
    assert (record.claude_session_id, record.trace_id, record.status) == (SID, TRACE, "success")
    assert record.claude_code is not None and record.claude_code.cost_usd == pytest.approx(0.02121)
    text = record_path(tmp_path).read_text()
    assert "sk-" not in text and "KEY" not in text
    assert [p.name for p in record_path(tmp_path).parent.iterdir()] == ["session.json"]


def test_a_run_the_cli_never_took_on_leaves_the_record_alone(tmp_path: Path) -> None:
    recorder = WorkspaceRecorder(tmp_path, "s-1", trace_id=TRACE)
    recorder.on_session_end(SessionOutcome(status="error", exit_code=2, at_ns=2))
    assert not record_path(tmp_path).exists()


def test_an_unwritable_workspace_costs_one_warning_not_the_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".claude-runner").write_text("a file where the directory should be")
    recorder = WorkspaceRecorder(tmp_path, "s-1")
    recorder.on_event(SessionInitialized(sdk_session_id=SID, at_ns=1))
    assert recorder.written == 0 and "could not write the workspace record" in caplog.text


def test_trace_ids_come_from_the_cli_traceparent() -> None:
    assert trace_ids(f"00-{TRACE}-00f067aa0ba902b7-01") == (TRACE, "00f067aa0ba902b7")
    assert trace_ids(None) == (None, None)
