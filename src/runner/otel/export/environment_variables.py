"""Every telemetry environment variable the runner (or the OTel SDK on its behalf) reads, one
documented constant each. `runner.otel.export.settings` turns them into decisions once; README
documents
them (a test checks). The standard OTEL_* variables keep their meaning."""

from typing import Final

OTEL_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
OTEL_TRACES_EXPORTER: Final = "OTEL_TRACES_EXPORTER"
OTEL_METRICS_EXPORTER: Final = "OTEL_METRICS_EXPORTER"
OTEL_EXPORTER_OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
OTEL_EXPORTER_OTLP_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTEL_EXPORTER_OTLP_HEADERS: Final = "OTEL_EXPORTER_OTLP_HEADERS"
OTEL_EXPORTER_OTLP_TRACES_HEADERS: Final = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
OTEL_EXPORTER_OTLP_METRICS_HEADERS: Final = "OTEL_EXPORTER_OTLP_METRICS_HEADERS"
TRACEPARENT: Final = "TRACEPARENT"
TRACESTATE: Final = "TRACESTATE"

LANGFUSE_ENABLED: Final = "LANGFUSE_ENABLED"
"""`true`: export traces to Langfuse directly (needs both keys); `false`: never."""
LANGFUSE_PUBLIC_KEY: Final = "LANGFUSE_PUBLIC_KEY"
LANGFUSE_SECRET_KEY: Final = "LANGFUSE_SECRET_KEY"
LANGFUSE_BASE_URL: Final = "LANGFUSE_BASE_URL"
"""Langfuse server, e.g. https://cloud.langfuse.com (LANGFUSE_HOST is an alias)."""
LANGFUSE_HOST: Final = "LANGFUSE_HOST"
TELEMETRY_MODE: Final = "TELEMETRY_MODE"
"""`otel` (default): the OTel path. `langfuse-sdk`: the Langfuse SDK fallback. `off`: none."""
RUNNER_EXIT_BUDGET: Final = "RUNNER_EXIT_BUDGET"
"""Seconds telemetry may add to the process's exit (flush and shutdown). Default 3."""
RUNNER_TRACE_VIEW: Final = "RUNNER_TRACE_VIEW"
"""`true`/`false`: print the session's span tree on stderr at the end (default: if a tty)."""
RUNNER_METRICS_USER_LABEL: Final = "RUNNER_METRICS_USER_LABEL"
"""`true`: metrics carry `user.id` as a label too (for fleets with few users; never by default)."""
RUNNER_CLI_TELEMETRY: Final = "RUNNER_CLI_TELEMETRY"
"""`true`: the Claude Code CLI exports its own telemetry to the same place, in the same trace."""
LANGFUSE_TRACING_ENVIRONMENT: Final = "LANGFUSE_TRACING_ENVIRONMENT"
"""Langfuse environment of every span (`langfuse.environment`), e.g. production."""
OTEL_BSP_SCHEDULE_DELAY: Final = "OTEL_BSP_SCHEDULE_DELAY"
OBSERVABILITY_BACKENDS: Final = "OBSERVABILITY_BACKENDS"
"""Comma-separated trace destinations, each exported to directly with its own queue:
`langfuse`, `mlflow`, `otlp` (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT). Unset: the older rules
(a collector endpoint, else the Langfuse keys)."""
MLFLOW_TRACKING_URI: Final = "MLFLOW_TRACKING_URI"
"""MLflow tracking server, e.g. http://mlflow:5000 (traces go to its /v1/traces)."""
MLFLOW_EXPERIMENT_ID: Final = "MLFLOW_EXPERIMENT_ID"
"""The experiment the traces land in (header x-mlflow-experiment-id)."""
MLFLOW_EXPERIMENT_NAME: Final = "MLFLOW_EXPERIMENT_NAME"
"""Read only to say that the OTLP route needs the id instead."""
MLFLOW_TRACKING_TOKEN: Final = "MLFLOW_TRACKING_TOKEN"
"""Bearer token for the tracking server (wins over username/password, as in MLflow)."""
MLFLOW_TRACKING_USERNAME: Final = "MLFLOW_TRACKING_USERNAME"
MLFLOW_TRACKING_PASSWORD: Final = "MLFLOW_TRACKING_PASSWORD"
"""Basic auth for the tracking server (both, or MLFLOW_TRACKING_TOKEN)."""
SECRET_VARIABLES: Final = (
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    MLFLOW_TRACKING_TOKEN,
    MLFLOW_TRACKING_USERNAME,
    MLFLOW_TRACKING_PASSWORD,
)
"""Telemetry credentials the agent's tools must not see: blanked in the CLI's environment."""
TELEMETRY_VARIABLES: Final = (
    OTEL_SDK_DISABLED,
    TELEMETRY_MODE,
    LANGFUSE_ENABLED,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    LANGFUSE_BASE_URL,
    LANGFUSE_HOST,
    LANGFUSE_TRACING_ENVIRONMENT,
    RUNNER_EXIT_BUDGET,
    RUNNER_TRACE_VIEW,
    RUNNER_CLI_TELEMETRY,
    TRACEPARENT,
    TRACESTATE,
    OBSERVABILITY_BACKENDS,
    MLFLOW_TRACKING_URI,
    MLFLOW_EXPERIMENT_ID,
    MLFLOW_EXPERIMENT_NAME,
    MLFLOW_TRACKING_TOKEN,
    MLFLOW_TRACKING_USERNAME,
    MLFLOW_TRACKING_PASSWORD,
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "RUNNER_CONTENT_MAX_CHARS",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    OTEL_TRACES_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
)
"""Telemetry variables the runner (or the OTel SDK on its behalf) reads; documented in README."""
