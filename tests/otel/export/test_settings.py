"""Where traces and metrics go, decided from the environment; bad values are one warning each
naming the variable, and turn that path off instead of failing the session."""

from __future__ import annotations

import pytest

from runner.otel.export.settings import TelemetrySettings

KEYS = {"LANGFUSE_PUBLIC_KEY": "pk-lf-1", "LANGFUSE_SECRET_KEY": "sk-lf-secret-value"}


def settings(**env: str) -> TelemetrySettings:
    return TelemetrySettings.from_env(env)


def test_nothing_configured_exports_nothing() -> None:
    s = settings()
    assert (s.mode, s.traces, s.metrics, s.warnings) == ("otel", (), (), ())


def test_langfuse_keys_alone_send_traces_to_langfuse_and_no_metrics() -> None:
    s = settings(**KEYS, LANGFUSE_BASE_URL="https://lf.example.com/")
    assert s.traces == ("langfuse",) and s.metrics == ()
    assert s.langfuse is not None
    assert s.langfuse.traces_endpoint == "https://lf.example.com/api/public/otel/v1/traces"
    assert s.langfuse.headers["x-langfuse-ingestion-version"] == "4"
    assert s.langfuse.headers["Authorization"] == "Basic cGstbGYtMTpzay1sZi1zZWNyZXQtdmFsdWU="


def test_langfuse_host_is_an_alias_and_cloud_is_the_default() -> None:
    assert settings(**KEYS, LANGFUSE_HOST="http://lf:3000").langfuse.base_url == "http://lf:3000"  # type: ignore[union-attr]
    assert settings(**KEYS).langfuse.base_url == "https://cloud.langfuse.com"  # type: ignore[union-attr]


def test_a_collector_endpoint_wins_over_langfuse_keys() -> None:
    s = settings(**KEYS, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318")
    assert s.traces == ("otlp",) and s.metrics == ("otlp",)


def test_langfuse_enabled_false_turns_it_off_even_with_keys() -> None:
    assert settings(**KEYS, LANGFUSE_ENABLED="false").traces == ()


def test_console_and_none_exporters() -> None:
    assert settings(OTEL_TRACES_EXPORTER="console").traces == ("console",)
    assert settings(OTEL_TRACES_EXPORTER="none", **KEYS).traces == ()
    s = settings(OTEL_TRACES_EXPORTER="console,otlp", OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4318")
    assert s.traces == ("console", "otlp")


def test_sdk_disabled_and_mode_off() -> None:
    assert settings(OTEL_SDK_DISABLED="true", **KEYS).mode == "off"
    assert settings(TELEMETRY_MODE="off", **KEYS).mode == "off"
    assert settings(TELEMETRY_MODE="langfuse-sdk", **KEYS).mode == "langfuse-sdk"


def test_grpc_protocol() -> None:
    s = settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
    assert s.protocol == "grpc" and s.traces == ("otlp",)


BAD = [
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "not a URL"),
    (
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "zipkin"},
        "OTEL_TRACES_EXPORTER",
        "unknown exporter",
    ),
    (
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic abc,broken",
        },
        "OTEL_EXPORTER_OTLP_HEADERS",
        "pair 2 is not key=value",
    ),
    (
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        },
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "not supported",
    ),
    ({"LANGFUSE_PUBLIC_KEY": "pk-lf-1"}, "LANGFUSE_SECRET_KEY", "set both"),
    ({**KEYS, "LANGFUSE_BASE_URL": "cloud.langfuse.com"}, "LANGFUSE_BASE_URL", "https://"),
    ({"LANGFUSE_ENABLED": "true"}, "LANGFUSE_ENABLED", "not set"),
    ({"TELEMETRY_MODE": "datadog"}, "TELEMETRY_MODE", "otel, langfuse-sdk, off"),
    ({"RUNNER_EXIT_BUDGET": "soon"}, "RUNNER_EXIT_BUDGET", "using 3"),
]


@pytest.mark.parametrize(("env", "variable", "fix"), BAD)
def test_bad_config_is_one_warning_naming_the_variable_and_that_path_is_off(
    env: dict[str, str], variable: str, fix: str
) -> None:
    s = TelemetrySettings.from_env(env)
    assert len(s.warnings) == 1, s.warnings
    warning = s.warnings[0]
    assert variable in warning and fix in warning and "\n" not in warning
    assert "otlp" not in s.traces and "langfuse" not in s.traces
    assert "sk-lf-secret-value" not in warning and "Basic abc" not in warning


# Several destinations (OBSERVABILITY_BACKENDS) and signal-specific endpoints.

MLFLOW = {"MLFLOW_TRACKING_URI": "http://mlflow:5000/", "MLFLOW_EXPERIMENT_ID": "12"}


def test_backends_list_exports_to_each_named_destination_in_its_order() -> None:
    s = settings(OBSERVABILITY_BACKENDS="mlflow, Langfuse", **KEYS, **MLFLOW)
    assert s.traces == ("mlflow", "langfuse") and s.metrics == () and s.warnings == ()
    assert s.mlflow is not None and s.langfuse is not None
    assert s.mlflow.traces_endpoint == "http://mlflow:5000/v1/traces"
    assert s.mlflow.headers == {"x-mlflow-experiment-id": "12"}


def test_the_list_wins_over_the_older_rules_and_otlp_can_be_one_more_destination() -> None:
    collector = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    # Without the list a collector endpoint takes the traces and Langfuse gets none ...
    assert settings(**KEYS, **collector).traces == ("otlp",)
    # ... with it, exactly what it names; metrics still follow the OTLP endpoint.
    s = settings(OBSERVABILITY_BACKENDS="langfuse,otlp", **KEYS, **collector)
    assert s.traces == ("langfuse", "otlp") and s.metrics == ("otlp",)
    s = settings(OBSERVABILITY_BACKENDS="langfuse", **KEYS, **collector)
    assert s.traces == ("langfuse",) and s.metrics == ("otlp",)
    # Langfuse keys alone do not add Langfuse to a list that does not name it.
    assert settings(OBSERVABILITY_BACKENDS="mlflow", **KEYS, **MLFLOW).traces == ("mlflow",)


def test_mlflow_is_never_implied_by_its_variables_alone() -> None:
    """MLFLOW_* may be set for the agent's own use: exporting there takes the list."""
    assert settings(**MLFLOW).traces == ()
    assert settings(**KEYS, **MLFLOW).traces == ("langfuse",)


def test_mlflow_auth_token_wins_over_basic_as_in_mlflow() -> None:
    token = settings(
        OBSERVABILITY_BACKENDS="mlflow",
        **MLFLOW,
        MLFLOW_TRACKING_TOKEN="tok-SECRET",
        MLFLOW_TRACKING_USERNAME="u",
        MLFLOW_TRACKING_PASSWORD="p",
    )
    assert token.mlflow is not None
    assert token.mlflow.headers["Authorization"] == "Bearer tok-SECRET"
    basic = settings(
        OBSERVABILITY_BACKENDS="mlflow",
        **MLFLOW,
        MLFLOW_TRACKING_USERNAME="u",
        MLFLOW_TRACKING_PASSWORD="p",
    )
    assert basic.mlflow is not None
    assert basic.mlflow.headers["Authorization"] == "Basic dTpw"  # base64("u:p")
    assert "tok-SECRET" not in repr(token) and "dTpw" not in repr(basic)


def test_console_beside_the_list_and_none_turns_traces_off() -> None:
    s = settings(OBSERVABILITY_BACKENDS="langfuse", OTEL_TRACES_EXPORTER="console,otlp", **KEYS)
    assert s.traces == ("console", "langfuse")
    assert (
        settings(OBSERVABILITY_BACKENDS="langfuse", OTEL_TRACES_EXPORTER="none", **KEYS).traces
        == ()
    )
    assert settings(OBSERVABILITY_BACKENDS="none", **KEYS).traces == ()


def test_a_traces_endpoint_alone_sends_no_metrics() -> None:
    """The OTLP spec: a signal's own endpoint configures that signal only; nothing goes to the
    SDK's default localhost:4318."""
    s = settings(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://t:4318/v1/traces")
    assert s.traces == ("otlp",) and s.metrics == () and s.warnings == ()
    s = settings(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="http://m:4318/v1/metrics")
    assert s.traces == () and s.metrics == ("otlp",)
    assert s.otlp_metrics_endpoint == "http://m:4318/v1/metrics"
    s = settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4318")
    assert s.otlp_metrics_endpoint == "http://c:4318/v1/metrics"
    assert s.otlp_traces_endpoint == "http://c:4318/v1/traces"


BAD_DESTINATIONS = [
    ({"OBSERVABILITY_BACKENDS": "langfuse,datadog", **KEYS}, "datadog", ("langfuse",)),
    ({"OBSERVABILITY_BACKENDS": "mlflow,langfuse", **KEYS}, "MLFLOW_TRACKING_URI", ("langfuse",)),
    (
        {
            "OBSERVABILITY_BACKENDS": "mlflow,langfuse",
            **KEYS,
            **MLFLOW,
            "MLFLOW_TRACKING_URI": "databricks",
        },
        "http://mlflow:5000",
        ("langfuse",),
    ),
    (
        {
            "OBSERVABILITY_BACKENDS": "mlflow,langfuse",
            **KEYS,
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "MLFLOW_EXPERIMENT_NAME": "agents",
        },
        "MLFLOW_EXPERIMENT_NAME is not enough",
        ("langfuse",),
    ),
    (
        {
            "OBSERVABILITY_BACKENDS": "mlflow,langfuse",
            **KEYS,
            **MLFLOW,
            "MLFLOW_EXPERIMENT_ID": "my exp",
        },
        "not an experiment id",
        ("langfuse",),
    ),
    (
        {
            "OBSERVABILITY_BACKENDS": "mlflow,langfuse",
            **KEYS,
            **MLFLOW,
            "MLFLOW_TRACKING_PASSWORD": "pw-SECRET",
        },
        "MLFLOW_TRACKING_USERNAME is not set",
        ("langfuse",),
    ),
    (
        {"OBSERVABILITY_BACKENDS": "langfuse,mlflow", **MLFLOW},
        "LANGFUSE_SECRET_KEY are not set",
        ("mlflow",),
    ),
    (
        {
            "OBSERVABILITY_BACKENDS": "langfuse,mlflow",
            **KEYS,
            **MLFLOW,
            "LANGFUSE_ENABLED": "false",
        },
        "LANGFUSE_ENABLED=false",
        ("mlflow",),
    ),
    (
        {"OBSERVABILITY_BACKENDS": "otlp,mlflow", **MLFLOW},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        ("mlflow",),
    ),
    (
        {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/v1/traces",
            "OTEL_METRICS_EXPORTER": "otlp",
        },
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ("otlp",),
    ),
    (
        {"OBSERVABILITY_BACKENDS": "langfuse", "OTEL_TRACES_EXPORTER": "console", **KEYS},
        "add otlp",
        ("console",),
    ),
    (
        {
            "OBSERVABILITY_BACKENDS": "langfuse,mlflow",
            "TELEMETRY_MODE": "langfuse-sdk",
            **KEYS,
            **MLFLOW,
        },
        "TELEMETRY_MODE=otel",
        (),
    ),
]


@pytest.mark.parametrize(("env", "fix", "left"), BAD_DESTINATIONS)
def test_a_bad_destination_is_one_warning_and_the_others_go_on(
    env: dict[str, str], fix: str, left: tuple[str, ...]
) -> None:
    s = TelemetrySettings.from_env(env)
    assert len(s.warnings) == 1, s.warnings
    warning = s.warnings[0]
    assert fix in warning and "\n" not in warning, warning
    assert s.traces == left
    assert "pw-SECRET" not in warning and "sk-lf-secret-value" not in warning


def test_credentials_in_the_mlflow_uri_are_not_sent_or_shown() -> None:
    s = settings(
        OBSERVABILITY_BACKENDS="mlflow",
        **{**MLFLOW, "MLFLOW_TRACKING_URI": "https://alice:pw-SECRET@mlflow.example.com"},
    )
    assert (
        s.mlflow is not None and s.mlflow.traces_endpoint == "https://mlflow.example.com/v1/traces"
    )
    assert len(s.warnings) == 1 and "MLFLOW_TRACKING_USERNAME" in s.warnings[0]
    assert "pw-SECRET" not in s.warnings[0]
