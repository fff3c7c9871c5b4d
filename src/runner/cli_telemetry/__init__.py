"""The Claude Code CLI's own telemetry, relayed through the runner (RUNNER_CLI_TELEMETRY).

The CLI exports OTLP/HTTP to `CliTelemetryRelay` on 127.0.0.1; the relay hands each span and log
event to the runner as a typed record (`CliSpan`, `CliLogEvent`). The runner stays the only
exporter: the CLI holds no telemetry credential, and nothing it sends is exported as it is.
"""

from runner.cli_telemetry.records import (
    BadPayload,
    CliLogEvent,
    CliRecord,
    CliSpan,
    CliSpanEvent,
    decode_logs,
    decode_spans,
)
from runner.cli_telemetry.relay import CliTelemetryRelay, RelayCounts

__all__ = [
    "BadPayload",
    "CliLogEvent",
    "CliRecord",
    "CliSpan",
    "CliSpanEvent",
    "CliTelemetryRelay",
    "RelayCounts",
    "decode_logs",
    "decode_spans",
]
