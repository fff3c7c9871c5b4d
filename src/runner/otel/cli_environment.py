"""The Claude Code CLI's view of the telemetry variables: credentials blanked, so the agent's
tools never see them. With RUNNER_CLI_TELEMETRY and the runner's relay (runner.cli_telemetry),
the CLI exports its spans and log events to the relay on 127.0.0.1 and holds no telemetry
credential at all; without the relay (`relay_endpoint=None`), the former direct export.

Measured on CLI 2.1.332 (notes/cli-telemetry.md): the CLI honours OTEL_TRACES_EXPORT_INTERVAL
and OTEL_LOGS_EXPORT_INTERVAL (ms; not OTEL_BSP_SCHEDULE_DELAY); with its default (5 s) a short
session's spans all come at its exit, which it always flushes.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from runner.otel.environment_variables import (
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    SECRET_VARIABLES,
)
from runner.otel.settings import TelemetrySettings

CLI_EXPORT_INTERVAL_MS = 1000
"""How often the CLI exports ended spans and log events to the relay: live to within a second
(a span reaches the runner about a second after it ends; a SIGKILL loses at most that), at
most one local request per signal a second, and none when there is nothing new."""
CONTENT_LOGGING = (
    "OTEL_LOG_USER_PROMPTS",
    "OTEL_LOG_ASSISTANT_RESPONSES",
    "OTEL_LOG_TOOL_DETAILS",
    "OTEL_LOG_TOOL_CONTENT",
    "OTEL_LOG_RAW_API_BODIES",
)
"""The CLI's switches for content in its telemetry: off, as the runner captures content itself,
under its own opt-in and redaction."""


def cli_environment(
    settings: TelemetrySettings,
    environ: Mapping[str, str],
    *,
    relay_endpoint: str | None = None,
) -> dict[str, str]:
    """The CLI's view of telemetry variables: credentials blanked unless it exports itself.

    `relay_endpoint`: the runner's relay (`CliTelemetryRelay.endpoint`, http://127.0.0.1:<port>)
    when RUNNER_CLI_TELEMETRY is on and the relay runs; then the CLI exports only there."""
    blank = {name: "" for name in SECRET_VARIABLES if environ.get(name)}
    if not settings.cli_telemetry or settings.mode == "off":
        return blank
    if relay_endpoint is not None:
        return relay_environment(relay_endpoint)
    if settings.mode != "otel":
        return blank
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    }
    if "langfuse" in settings.traces and settings.langfuse is not None:
        headers = ",".join(f"{k}={quote(v)}" for k, v in settings.langfuse.headers.items())
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "none",
                "OTEL_LOGS_EXPORTER": "none",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": settings.langfuse.traces_endpoint,
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": headers,
                **{name: "" for name in (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)},
            }
        )
    elif "otlp" in settings.traces:
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "otlp" if "otlp" in settings.metrics else "none",
                "OTEL_LOGS_EXPORTER": "otlp",
            }
        )
    return env


def relay_environment(endpoint: str) -> dict[str, str]:
    """Everything the CLI needs to export its spans and log events to the relay, and nothing
    else: every credential and destination the runner's environment holds is overridden."""
    interval = str(CLI_EXPORT_INTERVAL_MS)
    env = {name: "" for name in SECRET_VARIABLES}
    env.update(dict.fromkeys(CONTENT_LOGGING, ""))
    env.update(
        {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",  # the relay drops them: see runner.cli_telemetry
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_COMPRESSION": "",
            "OTEL_TRACES_EXPORT_INTERVAL": interval,
            "OTEL_LOGS_EXPORT_INTERVAL": interval,
        }
    )
    for signal in ("TRACES", "LOGS", "METRICS"):
        # per-signal variables inherited from the runner's environment would win over the above
        env[f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"] = f"{endpoint}/v1/{signal.lower()}"
        env[f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"] = "http/protobuf"
        env[f"OTEL_EXPORTER_OTLP_{signal}_COMPRESSION"] = ""
    return env
