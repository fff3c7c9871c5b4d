"""Telemetry settings for end-to-end runs: direct export to a Langfuse-like OTLP receiver."""

from __future__ import annotations

import base64

PUBLIC, SECRET = "pk-lf-test-0123456789", "sk-lf-test-SECRET-9876543210"
BASIC = "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
LANGFUSE_PATH = "/api/public/otel/v1/traces"


def langfuse_env(url: str) -> dict[str, str | None]:
    """Telemetry on, straight to the receiver at `url` as Langfuse (its keys, its route)."""
    return {
        "OTEL_SDK_DISABLED": None,
        "RUNNER_EXIT_BUDGET": "5",
        "LANGFUSE_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_SECRET_KEY": SECRET,
        "LANGFUSE_BASE_URL": url,
    }
