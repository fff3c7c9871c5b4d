"""RunnerConfig.from_env: every bad input stops with one line naming the variable and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.config import DEFAULT_TIMEOUT_S, RunnerConfig
from runner.errors import ConfigError


@pytest.fixture
def good(tmp_path: Path) -> dict[str, str]:
    return {
        "SESSION_ID": "s-1",
        "PROMPT": "hi",
        "WORKSPACE_PATH": str(tmp_path),
        "ANTHROPIC_API_KEY": "sk-ant-test-123456",
    }


def test_a_complete_environment_gives_a_typed_config(good: dict[str, str]) -> None:
    good.update(
        TIMEOUT="90",
        INTERACTIVE="TRUE",
        ALLOWED_TOOLS="Bash, Read,,Edit",
        PERMISSION_MODE="acceptEdits",
        NAMESPACE="team-a",
        PROJECT_NAME="proj",
        USER_ID="u-9",
        MAX_TURNS="7",
    )
    config = RunnerConfig.from_env(good)
    assert config.session_id == "s-1"
    assert config.timeout_s == 90.0
    assert config.interactive is True
    assert config.allowed_tools == ("Bash", "Read", "Edit")
    assert config.permission_mode == "acceptEdits"
    assert (config.tenancy.namespace, config.tenancy.project, config.tenancy.user_id) == (
        "team-a",
        "proj",
        "u-9",
    )
    assert config.max_turns == 7
    assert config.model == "claude-sonnet-4-5"


def test_defaults(good: dict[str, str]) -> None:
    config = RunnerConfig.from_env(good)
    assert config.timeout_s == DEFAULT_TIMEOUT_S
    assert config.interactive is False
    assert config.allowed_tools == ()
    assert config.model_access == "anthropic"


def test_timeout_zero_means_no_limit(good: dict[str, str]) -> None:
    good["TIMEOUT"] = "0"
    assert RunnerConfig.from_env(good).timeout_s is None


def test_prompt_file_is_read(good: dict[str, str], tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("from a file", encoding="utf-8")
    del good["PROMPT"]
    good["PROMPT_FILE"] = str(prompt)
    assert RunnerConfig.from_env(good).prompt == "from a file"


def test_interactive_needs_no_prompt(good: dict[str, str]) -> None:
    del good["PROMPT"]
    good["INTERACTIVE"] = "true"
    assert RunnerConfig.from_env(good).prompt is None


def test_vertex_credentials_are_enough(good: dict[str, str]) -> None:
    del good["ANTHROPIC_API_KEY"]
    good.update(CLAUDE_CODE_USE_VERTEX="1", ANTHROPIC_VERTEX_PROJECT_ID="p", CLOUD_ML_REGION="r")
    assert RunnerConfig.from_env(good).model_access == "vertex"


BAD = [
    ({"SESSION_ID": None}, "SESSION_ID", "set it to the AgenticSession name"),
    ({"SESSION_ID": "  "}, "SESSION_ID", "set it"),
    ({"TIMEOUT": "abc"}, "TIMEOUT", "positive number"),
    ({"TIMEOUT": "-5"}, "TIMEOUT", "positive number"),
    ({"TIMEOUT": "inf"}, "TIMEOUT", "positive number"),
    ({"IDLE_TIMEOUT": "soon"}, "IDLE_TIMEOUT", "positive number"),
    ({"INTERACTIVE": "maybe"}, "INTERACTIVE", "true or false"),
    ({"WORKSPACE_PATH": "/nonexistent/ws"}, "WORKSPACE_PATH", "create it"),
    ({"ANTHROPIC_API_KEY": None}, "ANTHROPIC_API_KEY", "no model credentials"),
    ({"PROMPT": None}, "PROMPT", "INTERACTIVE=true"),
    ({"PROMPT": None, "PROMPT_FILE": "/nonexistent/p.txt"}, "PROMPT_FILE", "readable"),
    ({"PERMISSION_MODE": "yolo"}, "PERMISSION_MODE", "acceptEdits"),
    ({"MAX_TURNS": "0"}, "MAX_TURNS", "positive integer"),
    ({"SESSION_ID": "a\nb"}, "SESSION_ID", "single-line"),
    ({"NAMESPACE": "x\ny"}, "NAMESPACE", "single-line"),
    (
        {"ANTHROPIC_API_KEY": None, "CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "r"},
        "ANTHROPIC_VERTEX_PROJECT_ID",
        "Vertex",
    ),
]


@pytest.mark.parametrize(("change", "variable", "fix"), BAD)
def test_bad_input_names_the_variable_and_the_fix_in_one_line(
    good: dict[str, str], change: dict[str, str | None], variable: str, fix: str
) -> None:
    for name, value in change.items():
        if value is None:
            good.pop(name, None)
        else:
            good[name] = value
    with pytest.raises(ConfigError) as raised:
        RunnerConfig.from_env(good)
    message = str(raised.value)
    assert "\n" not in message
    assert variable in message
    assert fix in message
    assert "sk-ant-test-123456" not in message


def test_read_only_workspace_is_refused(good: dict[str, str], tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    # root writes through file modes; /proc refuses new files to everyone.
    good["WORKSPACE_PATH"] = "/proc" if os.geteuid() == 0 else str(ro)
    with pytest.raises(ConfigError, match=r"WORKSPACE_PATH.*not writable"):
        RunnerConfig.from_env(good)


def test_workspace_that_is_a_file_is_refused(good: dict[str, str], tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    good["WORKSPACE_PATH"] = str(afile)
    with pytest.raises(ConfigError, match=r"WORKSPACE_PATH.*not a directory"):
        RunnerConfig.from_env(good)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_TURNS", "²"),
        ("MAX_TURNS", "١٢"),
        ("TIMEOUT", "１２"),
        ("IDLE_TIMEOUT", "1e3"),
        ("MAX_BUDGET_USD", "-1"),
        ("MAX_BUDGET_USD", "0"),
        ("MAX_BUDGET_USD", "five"),
    ],
)
def test_numbers_are_ascii_and_one_line_errors(good: dict[str, str], name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RunnerConfig.from_env({**good, name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}=") and "\n" not in message


def test_the_cost_guard_and_the_check_switch(good: dict[str, str]) -> None:
    config = RunnerConfig.from_env({**good, "MAX_BUDGET_USD": "2.50", "RUNNER_PREFLIGHT": "false"})
    assert config.max_budget_usd == 2.5 and config.preflight is False
    assert RunnerConfig.from_env(good).preflight is True


@pytest.mark.parametrize(
    "model",
    ["claude-sonnet-4-5", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "opus[1m]", "a@b/c"],
)
def test_model_names_of_every_provider_form_are_accepted(good: dict[str, str], model: str) -> None:
    assert RunnerConfig.from_env({**good, "LLM_MODEL": model}).model == model


@pytest.mark.parametrize("model", ["claude sonnet", "'claude'", "-x", "claude;rm"])
def test_model_names_the_cli_would_choke_on_are_refused(good: dict[str, str], model: str) -> None:
    with pytest.raises(ConfigError, match="LLM_MODEL="):
        RunnerConfig.from_env({**good, "LLM_MODEL": model})


def test_bypass_permissions_is_refused_as_root_only(
    good: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import runner.config as config_module

    env = {**good, "PERMISSION_MODE": "bypassPermissions"}
    monkeypatch.setattr(config_module, "_running_as_root", lambda: True)
    with pytest.raises(ConfigError, match="non-root user"):
        RunnerConfig.from_env(env)
    monkeypatch.setattr(config_module, "_running_as_root", lambda: False)
    assert RunnerConfig.from_env(env).permission_mode == "bypassPermissions"
