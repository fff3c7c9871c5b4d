"""Where traces and metrics go, decided from the environment; bad values are one warning each
naming the variable, and turn that path off instead of failing the session."""

from __future__ import annotations

import pytest

from runner.otel.settings import TelemetrySettings

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
