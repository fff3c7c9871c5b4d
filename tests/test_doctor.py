"""`claude-runner doctor` against local receivers in each state gives the right verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.offline import OfflineMessagesServer
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, PUBLIC, SECRET, free_port


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "runner", "doctor", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout), done.stdout + done.stderr


KEY = "sk-ant-doctor-0000"


@pytest.fixture
def model() -> Iterator[OfflineMessagesServer]:
    """The model endpoint: accepts only KEY (401 otherwise), as the real API does."""
    with OfflineMessagesServer([], api_key=KEY) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, model: OfflineMessagesServer) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
    return {
        **base,
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": model.url,
        "WORKSPACE_PATH": str(tmp_path),
    }


@pytest.fixture
def langfuse() -> Iterator[OTLPHttpReceiver]:
    r = OTLPHttpReceiver(auth=BASIC)
    yield r
    r.stop()


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def langfuse_env(env: dict[str, str], url: str, secret: str = SECRET) -> dict[str, str]:
    return {
        **env,
        "LANGFUSE_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_SECRET_KEY": secret,
        "LANGFUSE_BASE_URL": url,
    }


def test_healthy_langfuse_passes_every_check_and_a_test_span_arrives(
    env: dict[str, str], langfuse: OTLPHttpReceiver
) -> None:
    code, report, raw = doctor(langfuse_env(env, langfuse.url))
    checks = _by_name(report)
    assert code == 0 and report["ok"] is True, raw
    assert checks["Claude Code CLI"]["detail"].split()[0].count(".") == 2  # a version
    assert checks["Langfuse keys"]["detail"] == "accepted (project test-project)"
    assert checks["test span accepted"]["ok"] is True
    spans = langfuse.spans("/api/public/otel/v1/traces")
    assert [s.name for s in spans] == ["claude-runner doctor"]
    assert SECRET not in raw and "sk-ant-doctor-0000" not in raw


def test_rejected_langfuse_keys_warn_and_fail_only_with_strict(
    env: dict[str, str], langfuse: OTLPHttpReceiver
) -> None:
    code, report, raw = doctor(langfuse_env(env, langfuse.url, secret="sk-lf-wrong-key-1234"))
    keys = _by_name(report)["Langfuse keys"]
    assert code == 0 and keys["ok"] is False and keys["required"] is False  # telemetry: a warning
    strict, _, _ = doctor(
        langfuse_env(env, langfuse.url, secret="sk-lf-wrong-key-1234"), "--strict"
    )
    assert strict == 1
    assert "HTTP 401" in keys["detail"] and "LANGFUSE_SECRET_KEY" in keys["fix"]
    assert _by_name(report)["test span accepted"]["ok"] is False
    assert "sk-lf-wrong-key-1234" not in raw


def test_unreachable_telemetry_endpoint_fails_with_strict(env: dict[str, str]) -> None:
    code, report, _ = doctor(langfuse_env(env, f"http://127.0.0.1:{free_port()}"), "--strict")
    reach = _by_name(report)["telemetry endpoint reachable"]
    assert code == 1 and reach["ok"] is False and "unreachable" in reach["detail"]


@pytest.mark.parametrize(
    ("case", "ready", "detail"),
    [
        ("healthy", True, "accepted ANTHROPIC_API_KEY"),
        ("refused", False, "ANTHROPIC_API_KEY was refused by ANTHROPIC_BASE_URL="),
        ("unreachable", False, "is unreachable (connection refused"),
    ],
)
def test_model_credentials_are_checked_against_the_endpoint(
    env: dict[str, str], case: str, ready: bool, detail: str
) -> None:
    if case == "refused":
        env["ANTHROPIC_API_KEY"] = "sk-ant-wrong-key-9999"
    elif case == "unreachable":
        env["ANTHROPIC_BASE_URL"] = f"http://127.0.0.1:{free_port()}"
    code, report, raw = doctor(env)
    credentials = _by_name(report)["model credentials"]
    assert (code == 0) is ready and credentials["ok"] is ready, raw
    assert detail in credentials["detail"]
    assert "sk-ant-wrong-key-9999" not in raw and KEY not in raw


def test_a_bad_telemetry_mode_is_one_line_and_no_library_logs(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runner", "doctor"],
        env={**env, "TELEMETRY_MODE": "otlp"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    marks = [line for line in done.stdout.splitlines() if line[:1] in ("✓", "✗", "!")]
    lines = [line for line in marks if line.split(":")[0].split(" ", 1)[1].startswith("telemetry")]
    assert len(lines) == 1 and "TELEMETRY_MODE='otlp' is unknown" in lines[0], done.stdout
    assert done.stderr == ""


def test_missing_keys_and_credentials(env: dict[str, str]) -> None:
    del env["ANTHROPIC_API_KEY"]
    code, report, _ = doctor({**env, "LANGFUSE_PUBLIC_KEY": PUBLIC})
    checks = _by_name(report)
    assert code == 1
    assert checks["model credentials"]["ok"] is False
    assert "ANTHROPIC_API_KEY" in checks["model credentials"]["fix"]
    assert "LANGFUSE_SECRET_KEY is not set" in checks["telemetry configuration"]["detail"]


def test_no_telemetry_configured_is_a_warning_not_a_failure(env: dict[str, str]) -> None:
    code, report, _ = doctor(env)
    telemetry = _by_name(report)["telemetry"]
    assert code == 0 and telemetry["ok"] is False and telemetry["required"] is False


def test_a_collector_endpoint_gets_a_test_span(env: dict[str, str]) -> None:
    collector = OTLPHttpReceiver()
    try:
        code, report, raw = doctor({**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    finally:
        collector.stop()
    assert code == 0, raw
    assert [s.name for s in collector.spans()] == ["claude-runner doctor"]
    assert _by_name(report)["telemetry"]["detail"].startswith("OTLP/HTTP")


def test_text_output_marks_each_check(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runner", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "✓ model credentials: ANTHROPIC_BASE_URL=" in done.stdout
    assert "accepted ANTHROPIC_API_KEY (value not shown)" in done.stdout
    assert done.stdout.strip().endswith("ready: a session can run")
