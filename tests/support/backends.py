"""Telemetry destinations as the tests configure them: Langfuse's keys and the environment
that sends a session's trace straight to a Langfuse-like receiver, an MLflow-like receiver,
both at once, and a free port on 127.0.0.1."""

from __future__ import annotations

import base64
import socket

from tests.otlp_receiver import OTLPHttpReceiver

PUBLIC, SECRET = "pk-lf-test-0123456789", "sk-lf-test-SECRET-9876543210"
BASIC = "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
LANGFUSE_PATH = "/api/public/otel/v1/traces"
LANGFUSE_AUTH = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
"""The Basic credential without its scheme (as the collector's configs take it)."""
TELEMETRY_ON = {"OTEL_SDK_DISABLED": None, "RUNNER_EXIT_BUDGET": "2"}
MLFLOW_EXPERIMENT = "7"
MLFLOW_TOKEN = "mlflow-token-SECRET-424242"


def langfuse_env(url: str) -> dict[str, str | None]:
    """A session's environment that exports straight to the Langfuse-like receiver at `url`."""
    return {
        **TELEMETRY_ON,
        "LANGFUSE_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_SECRET_KEY": SECRET,
        "LANGFUSE_BASE_URL": url,
    }


def mlflow_receiver(mode: str | int = "ok") -> OTLPHttpReceiver:
    """An MLflow-like OTLP receiver: bearer token, experiment header, no metrics route."""
    return OTLPHttpReceiver(
        mode=mode,
        auth=f"Bearer {MLFLOW_TOKEN}",
        required_headers={"x-mlflow-experiment-id": MLFLOW_EXPERIMENT},
        not_found=("/v1/metrics",),
    )


def both_backends(langfuse_url: str, mlflow_url: str, budget: str = "3") -> dict[str, str | None]:
    """A session's environment that exports to Langfuse and MLflow at once."""
    return {
        "OTEL_SDK_DISABLED": None,
        "RUNNER_EXIT_BUDGET": budget,
        "OBSERVABILITY_BACKENDS": "langfuse,mlflow",
        "LANGFUSE_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_SECRET_KEY": SECRET,
        "LANGFUSE_BASE_URL": langfuse_url,
        "MLFLOW_TRACKING_URI": mlflow_url,
        "MLFLOW_EXPERIMENT_ID": MLFLOW_EXPERIMENT,
        "MLFLOW_TRACKING_TOKEN": MLFLOW_TOKEN,
    }


def free_port() -> int:
    """A port nothing listens on (for a refused connection)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
