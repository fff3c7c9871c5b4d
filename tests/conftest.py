"""Shared fixtures: a clean environment for every test, and the scripted Messages API server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Runner

_RUNNER_PREFIXES = ("OTEL_", "LANGFUSE_", "CLAUDE_", "ANTHROPIC_", "TRACEPARENT", "TRACESTATE")
_RUNNER_NAMES = {
    "SESSION_ID",
    "PROMPT",
    "PROMPT_FILE",
    "INTERACTIVE",
    "LLM_MODEL",
    "TIMEOUT",
    "IDLE_TIMEOUT",
    "WORKSPACE_PATH",
    "ALLOWED_TOOLS",
    "PERMISSION_MODE",
    "MAX_TURNS",
    "NAMESPACE",
    "PROJECT_NAME",
    "USER_ID",
    "CLOUD_ML_REGION",
    "TELEMETRY_MODE",
    "RUNNER_LOG_LEVEL",
    "RUNNER_EXIT_BUDGET",
    "IS_RESUME",
    "RESUME_SESSION_ID",
    "RESUME_TRACE_ID",
    "RESUME_FALLBACK",
}


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Each test starts without any runner, OTel, Langfuse or Claude variable from outside."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in _RUNNER_NAMES or name.startswith(_RUNNER_PREFIXES):
            del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Starts the real `claude-runner` process with its own HOME and workspace."""
    return Runner(tmp_path_factory.mktemp("run"))


# What each test needs, as a marker, so a run can leave out what a machine lacks
# (`pytest -m "not collector and not mlflow"`; README, "Tests"):
#   e2e         the real SDK and Claude Code CLI against the scripted server (any test that
#               uses the `runner`, `traced_session` or `cli_session` fixtures, or says so)
#   collector   our collector build (tests/collector: scripts/otelcol, Go)
#   mlflow      a real MLflow tracking server (tests/mlflow: scripts/mlflow-server)
#   prometheus  Debian's Prometheus, promtool and Alertmanager
_FOLDER_MARKS = {"collector": "collector", "mlflow": "mlflow", "e2e": "e2e"}
_E2E_FIXTURES = {"runner", "traced_session", "cli_session"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        parts = Path(str(item.fspath)).relative_to(root).parts
        for part in parts[:-1]:
            if part in _FOLDER_MARKS:
                item.add_marker(_FOLDER_MARKS[part])
        if _E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("e2e")
