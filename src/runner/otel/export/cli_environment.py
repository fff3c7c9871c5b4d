"""The Claude Code CLI's view of the telemetry variables: credentials blanked, so the agent's
tools never see them. With RUNNER_CLI_TELEMETRY and the runner's relay (runner.cli_telemetry),
the CLI exports its spans and log events to the relay on 127.0.0.1 and holds no telemetry
credential at all; without the relay the CLI exports nothing.

Measured on CLI 2.1.332 (docs/cli-telemetry.md): the CLI honours OTEL_TRACES_EXPORT_INTERVAL
and OTEL_LOGS_EXPORT_INTERVAL (ms; not OTEL_BSP_SCHEDULE_DELAY); with its default (5 s) a short
session's spans all come at its exit, which it always flushes.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.otel.export.environment_variables import SECRET_VARIABLES
from runner.otel.export.settings import TelemetrySettings

CLI_EXPORT_INTERVAL_MS = 100
"""How often the CLI exports ended spans and log events to the relay: a span reaches the runner
within a tenth of a second of its end, so a query's end waits for the record of its last call
about that long (bounded by runner.session.driver.CLI_SETTLE_S; measured: +0.26 s a query against
+0.51 s at 250 ms, benchmarks/cli_relay.py); at most ten local requests per signal a second,
none when nothing ended (its batch processor skips empty batches)."""
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
    """The CLI's view of telemetry variables: every credential blanked; with
    RUNNER_CLI_TELEMETRY and the runner's relay (`relay_endpoint`, http://127.0.0.1:<port>),
    the CLI exports its own telemetry there and nowhere else. Without the relay it exports
    nothing: the runner is the pod's only exporter."""
    blank = {name: "" for name in SECRET_VARIABLES if environ.get(name)}
    blank.update(
        {
            name: _without_userinfo(environ[name])
            for name in URL_VARIABLES
            if "@" in environ.get(name, "")
        }
    )
    if not settings.cli_telemetry or settings.mode == "off" or relay_endpoint is None:
        return blank
    return {**blank, **relay_environment(relay_endpoint)}


URL_VARIABLES = ("LANGFUSE_BASE_URL", "LANGFUSE_HOST", "MLFLOW_TRACKING_URI")
"""Telemetry URLs that may carry credentials (`https://user:pass@host`): the CLI sees them
without."""


def _without_userinfo(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


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
