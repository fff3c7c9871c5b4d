"""`claude-runner doctor` with IS_RESUME=true checks the state to continue, as `run` finds it."""

from __future__ import annotations

from pathlib import Path

from runner.doctor import _resume, run_checks
from tests.support.resume import captured_result, cost_state, write_transcript

SID = "75b567ac-949d-43c8-b964-e8d2276696e6"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "workspace").mkdir(exist_ok=True)
    return {
        "WORKSPACE_PATH": str(tmp_path / "workspace"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "IS_RESUME": "true",
        **extra,
    }


def test_a_restored_state_passes_with_the_baseline_it_will_use(tmp_path: Path) -> None:
    write_transcript(tmp_path / "claude", SID, [cost_state(captured_result("batch", "1-first"))])
    check = _resume(_env(tmp_path, RESUME_SESSION_ID=SID))
    assert check.ok and SID in check.detail and "$0.021210" in check.detail


def test_a_missing_state_fails_with_the_fix(tmp_path: Path) -> None:
    check = _resume(_env(tmp_path, RESUME_SESSION_ID=SID))
    assert not check.ok and check.required
    assert check.fix.startswith("restore CLAUDE_CONFIG_DIR")


def test_without_is_resume_there_is_no_resume_check(tmp_path: Path) -> None:
    env = _env(tmp_path)
    del env["IS_RESUME"]
    assert "resume" not in [c.name for c in run_checks({**env, "OTEL_SDK_DISABLED": "true"})]
