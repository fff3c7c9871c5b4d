"""What the Claude Code CLI's environment gets: with the relay, its telemetry goes to 127.0.0.1
and it holds no telemetry credential; without RUNNER_CLI_TELEMETRY, nothing changes."""

from __future__ import annotations

import pytest

from runner.otel.export.cli_environment import CLI_EXPORT_INTERVAL_MS, cli_environment
from runner.otel.export.environment_variables import SECRET_VARIABLES
from runner.otel.export.settings import TelemetrySettings

RELAY = "http://127.0.0.1:45678"
OPERATOR = {
    "LANGFUSE_PUBLIC_KEY": "pk-lf-1",
    "LANGFUSE_SECRET_KEY": "sk-lf-secret-value",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic c2VjcmV0",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://elsewhere/v1/traces",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-key=secret",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
    "OTEL_LOG_USER_PROMPTS": "1",
}
SECRETS = ("sk-lf-secret-value", "c2VjcmV0", "x-key=secret", "pk-lf-1")


def env_for(cli_telemetry: bool, mode: str = "", relay: str | None = RELAY) -> dict[str, str]:
    environ = {**OPERATOR, "RUNNER_CLI_TELEMETRY": "true" if cli_telemetry else "false"}
    if mode:
        environ["TELEMETRY_MODE"] = mode
    settings = TelemetrySettings.from_env(environ)
    return cli_environment(settings, environ, relay_endpoint=relay)


@pytest.mark.parametrize("mode", ["otel", "langfuse-sdk"])
def test_with_the_relay_the_cli_exports_only_to_it_and_holds_no_credential(mode: str) -> None:
    env = env_for(True, mode)
    # Presence: telemetry on, every signal's endpoint the relay, protobuf, a Job's interval.
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert env["CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"] == "1"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == RELAY
    assert env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == f"{RELAY}/v1/traces"
    assert env["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] == f"{RELAY}/v1/logs"
    assert env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/protobuf"
    assert (env["OTEL_TRACES_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == ("otlp", "otlp")
    assert env["OTEL_METRICS_EXPORTER"] == "none"
    assert env["OTEL_TRACES_EXPORT_INTERVAL"] == str(CLI_EXPORT_INTERVAL_MS) == "100"
    # Absence: every credential variable blanked (the CLI's view overrides the inherited one),
    # no secret value anywhere, no destination but 127.0.0.1, no content logging.
    for name in SECRET_VARIABLES:
        assert env[name] == ""
    assert not any(secret in value for value in env.values() for secret in SECRETS)
    urls = [v for k, v in env.items() if k.endswith("ENDPOINT")]
    assert len(urls) == 4 and all(u.startswith(RELAY) for u in urls)
    assert env["OTEL_LOG_USER_PROMPTS"] == ""


def test_without_cli_telemetry_nothing_changes_but_the_credentials_are_blanked() -> None:
    env = env_for(False)
    assert env == {
        "LANGFUSE_PUBLIC_KEY": "",
        "LANGFUSE_SECRET_KEY": "",
        "OTEL_EXPORTER_OTLP_HEADERS": "",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "",
    }


def test_mode_off_gives_the_cli_no_telemetry_even_with_a_relay() -> None:
    env = env_for(True, "off")
    assert "CLAUDE_CODE_ENABLE_TELEMETRY" not in env
    assert all(value == "" for value in env.values())


def test_without_a_relay_the_cli_exports_nothing_and_holds_no_credential() -> None:
    """The runner is the pod's only exporter: a relay that could not start means no CLI
    telemetry, never a direct export with the runner's credentials."""
    env = env_for(True, "otel", relay=None)
    assert "CLAUDE_CODE_ENABLE_TELEMETRY" not in env
    assert env and all(value == "" for value in env.values())
