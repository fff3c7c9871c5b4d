"""The Claude Code CLI's view of the telemetry variables: credentials blanked, so the agent's
tools never see them, unless the CLI exports its own telemetry (RUNNER_CLI_TELEMETRY), then
pointed at the same destination in the session's trace. The CLI has one OTLP exporter: with
several destinations it goes to the first of Langfuse, the OTLP endpoint, MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from runner.otel.environment_variables import (
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    SECRET_VARIABLES,
)
from runner.otel.settings import TelemetrySettings


def cli_environment(settings: TelemetrySettings, environ: Mapping[str, str]) -> dict[str, str]:
    """The CLI's view of telemetry variables: credentials blanked unless it exports itself."""
    blank = {name: "" for name in SECRET_VARIABLES if environ.get(name)}
    if not settings.cli_telemetry or settings.mode != "otel":
        return blank
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    }
    if "langfuse" in settings.traces and settings.langfuse is not None:
        env.update(_direct(settings.langfuse.traces_endpoint, settings.langfuse.headers))
        env.update({name: "" for name in (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)})
    elif "otlp" in settings.traces:
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "otlp" if "otlp" in settings.metrics else "none",
                "OTEL_LOGS_EXPORTER": "otlp",
            }
        )
    elif "mlflow" in settings.traces and settings.mlflow is not None:
        env.update(_direct(settings.mlflow.traces_endpoint, settings.mlflow.headers))
    return env


def _direct(endpoint: str, headers: Mapping[str, str]) -> dict[str, str]:
    """Traces only, to one OTLP/HTTP endpoint with these headers (and no others)."""
    encoded = ",".join(f"{k}={quote(v)}" for k, v in headers.items())
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": encoded,
    }
