"""Exporters that count what they deliver and warn once per kind of failure.

The OTLP exporters log every failed batch; a dead backend would flood stderr. Here each exporter
is wrapped: spans exported and lost are counted, and the first failure of each kind (refused,
timeout, TLS, HTTP 401/403/404/413/429/5xx) is one warning naming the destination and endpoint
(never credentials) and the likely fix for that signal. The SDK exporters' own per-batch log
lines are silenced.

Lost is of two kinds. *Not delivered*: the backend answered with an error, nothing listened, or
the spans were never sent (still queued when the exit budget ran out). *Not confirmed*: the
request was sent and no answer came — a timeout, or a request still outstanding when the budget
ran out — so the backend may well have stored them (measured: a busy MLflow server stored all 7
spans of a batch whose answer came after the budget).
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

FIXES_BY_SIGNAL = {
    ("metrics", "http_404"): "this endpoint has no metrics route (MLflow and Langfuse ingest "
    "traces only): set OTEL_METRICS_EXPORTER=none, or point metrics at a collector with "
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
}
FIXES_BY_DESTINATION = {
    ("mlflow", "http_401"): "the credentials were refused: check MLFLOW_TRACKING_TOKEN (or "
    "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)",
    ("mlflow", "http_403"): "the user has no permission on the experiment: check "
    "MLFLOW_EXPERIMENT_ID and the user's permission on it",
    ("mlflow", "http_400"): "MLflow refused the request: check that experiment "
    "MLFLOW_EXPERIMENT_ID exists on MLFLOW_TRACKING_URI",
    ("mlflow", "http_404"): "wrong path: MLFLOW_TRACKING_URI must be the tracking server's base "
    "URL (traces go to <uri>/v1/traces; MLflow 3.x serves it), and the experiment must exist",
}
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
    """Refused by the backend, or never reached it."""
    failures: dict[str, int]
    unconfirmed: int = 0
    """Sent and not answered (timeout, or the exit budget ran out)."""


class ExportHealth:
    """Counts what one destination accepted, refused and left unconfirmed; warns once per
    failure kind. `destination`: the backend's name (langfuse, mlflow, otlp, console) for the
    messages and their fixes."""

    def __init__(self, signal: str, endpoint: str, destination: str = "") -> None:
        self.signal = signal
        self.endpoint = _safe_endpoint(endpoint)
        self.destination = destination
        self._lock = threading.Lock()
        self.exported = 0
        self.failed = 0
        self.unconfirmed = 0
        self.failures: dict[str, int] = {}

    @property
    def label(self) -> str:
        return f"{self.destination} ({self.endpoint})" if self.destination else self.endpoint

    def success(self, count: int) -> None:
        with self._lock:
            self.exported += count

    def failure(self, count: int, kind: str, detail: str = "", *, confirmed: bool = True) -> None:
        """`confirmed=False`: sent but unanswered (a timeout): counted as not confirmed."""
        with self._lock:
            if confirmed:
                self.failed += count
            else:
                self.unconfirmed += count
            first = kind not in self.failures
            self.failures[kind] = self.failures.get(kind, 0) + 1
        if first:
            log.warning(
                "telemetry: %s export to %s failed (%s%s): %s. The session goes on; further "
                "failures of this kind are counted, not logged.",
                self.signal,
                self.label,
                describe(kind),
                f": {detail}" if detail else "",
                self.fix(kind),
            )

    def unanswered(self, count: int) -> None:
        """Sent, and the exit budget ran out before the answer: not confirmed, no warning
        (the delivery report says it)."""
        with self._lock:
            self.unconfirmed += count

    def fix(self, kind: str) -> str:
        return (
            FIXES_BY_SIGNAL.get((self.signal, kind))
            or FIXES_BY_DESTINATION.get((self.destination, kind))
            or FIXES.get(kind, FIXES["failed"])
        )

    def report(self) -> ExportReport:
        with self._lock:
            return ExportReport(
                self.exported, self.failed, dict(self.failures), unconfirmed=self.unconfirmed
            )


def describe(kind: str) -> str:
    """A failure kind as people say it: http_404 → HTTP 404."""
    return kind.replace("http_", "HTTP ")


class ClientRecorder:
    """Records each attempt of an OTLP/HTTP exporter: the HTTP status or error of the last one,
    and whether a request is outstanding now. It wraps the exporter's `_client._submit`
    (private in opentelemetry-exporter-otlp-proto-http 1.45, the same for spans and metrics);
    if that is missing, nothing is recorded and failures are still counted, as kind `failed`."""

    def __init__(self) -> None:
        self.last: tuple[int | None, BaseException | None] | None = None
        self.outstanding = False
        self.hooked = False

    def hook(self, exporter: object) -> None:
        client = getattr(exporter, "_client", None)
        submit = getattr(client, "_submit", None)
        if client is None or submit is None:
            return

        def recording_submit(*args: Any, **kwargs: Any) -> Any:
            self.outstanding = True
            try:
                result = submit(*args, **kwargs)
            except Exception as exc:
                self.last = (None, exc)
                raise
            finally:
                self.outstanding = False
            self.last = (getattr(result, "status_code", None), getattr(result, "error", None))
            return result

        client._submit = recording_submit
        self.hooked = True

    def outcome(self) -> tuple[str, str, bool]:
        """The last attempt's failure kind, its detail, and whether the backend answered it
        (False for a timeout: the spans may have been stored)."""
        status, error = self.last or (None, None)
        kind = classify(status, error)
        detail = type(error).__name__ if error is not None and status is None else ""
        return kind, detail, kind != "timeout"


class CountingSpanExporter(SpanExporter):
    """Wraps a span exporter; records each batch's outcome in `health`, with the HTTP status of
    a failed batch for the OTLP/HTTP exporter (ClientRecorder)."""

    def __init__(
        self, inner: SpanExporter | Callable[[], SpanExporter], health: ExportHealth
    ) -> None:
        """`inner` may be a factory: it is then called on the batch processor's thread at the
        first export, which keeps the exporter's imports (~0.1 s) off the session's start."""
        self._factory = inner if not isinstance(inner, SpanExporter) else None
        self._inner: SpanExporter | None = inner if isinstance(inner, SpanExporter) else None
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self.health = health
        self.in_flight = False
        self.batch = 0
        """Spans in the batch being exported now (0 between batches)."""
        self.aborted = False
        self._unanswered_at_abort = False
        self._recorder = ClientRecorder()
        if self._inner is not None:
            self._recorder.hook(self._inner)

    @property
    def inner(self) -> SpanExporter:
        with self._lock:
            if self._inner is None:
                assert self._factory is not None
                self._inner = self._factory()
                self._recorder.hook(self._inner)
            return self._inner

    @property
    def sending(self) -> int:
        """Spans sent and waiting for the backend's answer right now."""
        if not self.in_flight:
            return 0
        waiting = self._recorder.outstanding if self._recorder.hooked else True
        return self.batch if waiting else 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.aborted:
            # The exit budget ran out: what is still queued is not sent (not delivered).
            return SpanExportResult.FAILURE
        # `_last` is kept from earlier batches: a batch that fails without an attempt of its
        # own is reported with the last reason seen.
        self.batch, self.in_flight = len(spans), True
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # noqa: BLE001 - an exporter bug must not stop the batch thread
            with self._state:
                self.in_flight, self.batch = False, 0
            self.health.failure(len(spans), classify(None, exc), type(exc).__name__)
            return SpanExportResult.FAILURE
        with self._state:  # the batch leaves `sending` and enters the counts at once
            self.in_flight, self.batch = False, 0
            if result is SpanExportResult.SUCCESS:
                self._recorder.last = None
                self.health.success(len(spans))
            elif self._unanswered_at_abort:
                self.health.unanswered(len(spans))
        if result is not SpanExportResult.SUCCESS and not self._unanswered_at_abort:
            kind, detail, answered = self._recorder.outcome()
            self.health.failure(len(spans), kind, detail, confirmed=answered)
        return result

    def counts(self) -> tuple[ExportReport, int]:
        """What the backend confirmed or refused so far, and the spans of a batch that was
        waiting for its answer when the exit budget ran out and still is."""
        with self._state:
            waiting = self.batch if self.in_flight and self._unanswered_at_abort else 0
            return self.health.report(), waiting

    def abort(self) -> None:
        """Stop now (exit budget nearly spent): retries end, a batch waiting for its answer is
        counted as not confirmed, and nothing more is sent."""
        self._unanswered_at_abort = self.sending > 0
        self.aborted = True
        if self._inner is None:
            return
        try:
            self._inner.shutdown()
        except Exception:
            log.debug("exporter shutdown failed", exc_info=True)

    def shutdown(self) -> None:
        if self._inner is not None and not self.aborted:
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
