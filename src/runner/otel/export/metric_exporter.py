"""A metric exporter that counts and warns once per failure kind, like CountingSpanExporter.

Its own module so the metrics SDK is imported only when metrics are exported (~30 ms).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

from runner.otel.export.exporters import ClientRecorder, ExportHealth, classify


class CountingMetricExporter(MetricExporter):
    """Wraps a metric exporter; failures are one warning naming the HTTP status and the fix for
    metrics (a 404: the endpoint takes traces only), then counted."""

    def __init__(self, inner: MetricExporter, health: ExportHealth) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self.health = health
        self._recorder = ClientRecorder()
        self._recorder.hook(inner)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:  # noqa: BLE001
            self.health.failure(1, classify(None, exc), type(exc).__name__)
            return MetricExportResult.FAILURE
        if result is MetricExportResult.SUCCESS:
            self._recorder.last = None
            self.health.success(1)
        else:
            kind, detail, answered = self._recorder.outcome()
            self.health.failure(1, kind, detail, confirmed=answered)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
