"""Exporters that count what they deliver and warn once per kind of failure.

The OTLP exporters log every failed batch; a dead backend would flood stderr. Here each exporter
is wrapped: spans exported and lost are counted, and the first failure of each kind (refused,
timeout, TLS, HTTP 401/403/413/429/5xx) is one warning naming the endpoint (never credentials)
and the likely fix. The SDK exporters' own per-batch log lines are silenced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger("runner.otel")

_SDK_EXPORT_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.metrics._internal.export",
)

FIXES = {
    "http_401": "the credentials were refused: check LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY "
    "(or the Authorization in OTEL_EXPORTER_OTLP_HEADERS)",
    "http_403": "the key pair has no permission for this project: check the Langfuse project "
    "of the keys",
    "http_404": "wrong path: check the endpoint (Langfuse: <base>/api/public/otel/v1/traces; a "
    "collector: <base>/v1/traces)",
    "http_413": "batches are too large: lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "http_429": "rate limited: spans are retried within the exit budget; raise the backend's limit",
    "http_5xx": "the backend failed: check its health",
    "refused": "nothing listens there: check the endpoint and that the collector is running",
    "timeout": "the backend did not answer in time: check its health, or raise "
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "tls": "TLS failed: is the endpoint https:// on a plain-HTTP port, or the certificate "
    "untrusted?",
    "failed": "check the endpoint and the backend",
}


def silence_sdk_export_logs() -> None:
    """The wrappers below report failures; the SDK's per-batch lines would repeat them."""
    for name in _SDK_EXPORT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def classify(status_code: int | None, error: BaseException | None) -> str:
    if status_code is not None:
        if status_code in (401, 403, 404, 413, 429):
            return f"http_{status_code}"
        if status_code >= 500:
            return "http_5xx"
        return f"http_{status_code}"
    text = f"{type(error).__name__} {error}".lower() if error else ""
    if "ssl" in text or "tls" in text or "certificate" in text or "wrong version" in text:
        return "tls"
    if "timeout" in text or "timed out" in text or "read timed" in text:
        return "timeout"
    if "refused" in text or "connection" in text or "unavailable" in text:
        return "refused"
    return "failed"


@dataclass
class ExportReport:
    exported: int
    failed: int
    failures: dict[str, int]


class ExportHealth:
    """Counts spans exported and lost for one destination; warns once per failure kind."""

    def __init__(self, signal: str, endpoint: str) -> None:
        self.signal = signal
        self.endpoint = _safe_endpoint(endpoint)
        self._lock = threading.Lock()
        self.exported = 0
        self.failed = 0
        self.failures: dict[str, int] = {}

    def success(self, count: int) -> None:
        with self._lock:
            self.exported += count

    def failure(self, count: int, kind: str, detail: str = "") -> None:
        with self._lock:
            self.failed += count
            first = kind not in self.failures
            self.failures[kind] = self.failures.get(kind, 0) + 1
        if first:
            what = kind.replace("http_", "HTTP ").replace("5xx", "5xx")
            log.warning(
                "telemetry: %s export to %s failed (%s%s): %s. The session goes on; further "
                "failures of this kind are counted, not logged.",
                self.signal,
                self.endpoint,
                what,
                f": {detail}" if detail else "",
                FIXES.get(kind, FIXES["failed"]),
            )

    def report(self) -> ExportReport:
        with self._lock:
            return ExportReport(self.exported, self.failed, dict(self.failures))


class CountingSpanExporter(SpanExporter):
    """Wraps a span exporter; records each batch's outcome in `health`.

    For the OTLP/HTTP exporter it also reads the HTTP status of a failed batch, through the
    exporter's `_client._submit` (private in opentelemetry-exporter-otlp-proto-http 1.45). If
    that attribute is missing, failures are still counted, as kind `failed`.
    """

    def __init__(
        self, inner: SpanExporter | Callable[[], SpanExporter], health: ExportHealth
    ) -> None:
        """`inner` may be a factory: it is then called on the batch processor's thread at the
        first export, which keeps the exporter's imports (~0.1 s) off the session's start."""
        self._factory = inner if not isinstance(inner, SpanExporter) else None
        self._inner: SpanExporter | None = inner if isinstance(inner, SpanExporter) else None
        self._lock = threading.Lock()
        self.health = health
        self.in_flight = False
        self._last: tuple[int | None, BaseException | None] | None = None
        if self._inner is not None:
            self._hook_client()

    @property
    def inner(self) -> SpanExporter:
        with self._lock:
            if self._inner is None:
                assert self._factory is not None
                self._inner = self._factory()
                self._hook_client()
            return self._inner

    def _hook_client(self) -> None:
        """Record the HTTP status or error of each attempt (retries included), so a batch
        given up at shutdown still says why it failed."""
        client = getattr(self._inner, "_client", None)
        submit = getattr(client, "_submit", None)
        if client is None or submit is None:
            return  # failures are still counted, as kind `failed`

        def recording_submit(*args: Any, **kwargs: Any) -> Any:
            try:
                result = submit(*args, **kwargs)
            except Exception as exc:
                self._last = (None, exc)
                raise
            self._last = (getattr(result, "status_code", None), getattr(result, "error", None))
            return result

        client._submit = recording_submit

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # `_last` is kept from earlier batches: after an abort, the exporter fails the batches
        # still queued without trying them, and their reason is the last one seen.
        self.in_flight = True
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # noqa: BLE001 - an exporter bug must not stop the batch thread
            self.health.failure(len(spans), classify(None, exc), type(exc).__name__)
            return SpanExportResult.FAILURE
        finally:
            self.in_flight = False
        if result is SpanExportResult.SUCCESS:
            self._last = None
            self.health.success(len(spans))
        else:
            status, error = self._last or (None, None)
            detail = f"{type(error).__name__}" if error is not None and status is None else ""
            self.health.failure(len(spans), classify(status, error), detail)
        return result

    def abort(self) -> None:
        """Stop retrying now (exit budget nearly spent): the batch in hand fails and is
        counted with its last error."""
        if self._inner is None:
            return
        try:
            self._inner.shutdown()
        except Exception:
            log.debug("exporter shutdown failed", exc_info=True)

    def shutdown(self) -> None:
        if self._inner is not None:
            self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis) if self._inner is not None else True


def _safe_endpoint(endpoint: str) -> str:
    """scheme://host[:port]/path, without userinfo or query (they can hold credentials)."""
    parsed = urlparse(endpoint)
    if not parsed.scheme:
        return endpoint.split("?", 1)[0]
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"
