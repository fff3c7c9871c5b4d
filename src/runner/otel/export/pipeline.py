"""The export pipeline: settings → providers → exporters, and a shutdown within the budget.

The one place that chooses: Resource, TracerProvider, MeterProvider and their exporters.
Providers are built with `shutdown_on_exit=False`: the SDK's exit hook would block exit for the
exporter's full timeout and retries (6-40 s measured with a hung backend). `shutdown` enforces
the exit budget instead. Only batch processors sit on the session's path; their export interval
is the runner's default (1 s, settings.DEFAULT_SCHEDULE_DELAY_MS) unless OTEL_BSP_SCHEDULE_DELAY
says otherwise.

Each trace destination (Langfuse, MLflow, an OTLP endpoint, the console) has its own exporter,
batch processor (queue and thread), timeout and counts; at exit they are flushed in parallel
against one deadline, so a hung backend costs the others nothing and the whole exit stays
within RUNNER_EXIT_BUDGET.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from runner._version import __version__
from runner.otel.export.delivery import DestinationReport
from runner.otel.export.exporters import CountingSpanExporter, ExportHealth, silence_sdk_export_logs
from runner.otel.export.reach import ReachProbe
from runner.otel.export.settings import TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter

log = logging.getLogger("runner.otel")
DEFAULT_SERVICE_NAME = "claude-code-runner"
DOWNWARD_API = {
    "POD_NAMESPACE": "k8s.namespace.name",
    "POD_NAME": "k8s.pod.name",
    "JOB_NAME": "k8s.job.name",
    "NODE_NAME": "k8s.node.name",
    "DEPLOYMENT_ENVIRONMENT": "deployment.environment.name",
}
"""Variables the Job sets from the downward API (deploy/k8s) → resource attributes."""
TRACE_VIEW_MAX_SPANS = 5000


def build_resource(environ: Mapping[str, str]) -> Resource:
    """Our defaults, then downward-API variables, then OTEL_RESOURCE_ATTRIBUTES and
    OTEL_SERVICE_NAME (the SDK reads those two itself) on top."""
    ours: dict[str, str] = {
        SERVICE_NAME: DEFAULT_SERVICE_NAME,
        SERVICE_VERSION: __version__,
        # One per process: sessions with the same labels never overwrite each other's metric
        # series (a collector's Prometheus exporter keys them by resource).
        "service.instance.id": str(uuid.uuid4()),
    }
    for variable, attribute in DOWNWARD_API.items():
        if environ.get(variable):
            ours[attribute] = environ[variable]
    from_env = Resource.create({})
    merged = Resource(ours).merge(from_env)
    if str(from_env.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        merged = merged.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return merged


class SpanCollector(SpanProcessor):
    """Keeps finished spans in memory (bounded) for the end-of-run trace view."""

    def __init__(self, limit: int = TRACE_VIEW_MAX_SPANS) -> None:
        self.spans: list[ReadableSpan] = []
        self.limit = limit
        self.dropped = 0

    def on_end(self, span: ReadableSpan) -> None:
        if len(self.spans) < self.limit:
            self.spans.append(span)
        else:
            self.dropped += 1


class CountedBatchSpanProcessor(BatchSpanProcessor):
    """A BatchSpanProcessor that counts the spans handed to its queue (sampled ones, as the
    processor itself keeps): the denominator of its destination's delivery report."""

    received = 0

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self.received += 1  # on_end runs on the telemetry worker thread only
        super().on_end(span)


@dataclass
class TraceDestination:
    """One trace backend: its exporter (with counts) and its own queue."""

    name: str
    exporter: CountingSpanExporter
    processor: CountedBatchSpanProcessor
    probe: ReachProbe | None = None

    def report(self) -> DestinationReport:
        counts, waiting = self.exporter.counts()
        health = self.exporter.health
        unconfirmed, failures = counts.unconfirmed + waiting, counts.failures
        certain = self.probe.verdict if self.probe is not None else None
        if unconfirmed and certain is not None:
            # Still in flight to a backend that cannot take it (runner.otel.export.reach).
            unconfirmed, failures = 0, {**failures, certain: failures.get(certain, 0) + 1}
        return DestinationReport(
            destination=self.name,
            endpoint=health.endpoint,
            spans=self.processor.received,
            delivered=counts.exported,
            unconfirmed=unconfirmed,
            failures=failures,
        )


@dataclass
class ShutdownResult:
    within_budget: bool
    waiting: bool
    """An export was still waiting for the backend's answer when the budget ran out."""
    seconds: float
    reports: list[DestinationReport] = field(default_factory=list)
    """Per trace destination: spans handed to it, delivered, not confirmed, not delivered."""


@dataclass
class Pipeline:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider | None
    health: list[ExportHealth] = field(default_factory=list)
    collector: SpanCollector | None = None
    destinations: list[str] = field(default_factory=list)
    """One line per destination for the log: `traces → langfuse (https://…)`."""
    span_exporters: list[CountingSpanExporter] = field(default_factory=list)
    traces: list[TraceDestination] = field(default_factory=list)

    def shutdown(self, budget_s: float) -> ShutdownResult:
        """Flush every destination in parallel and shut down within `budget_s`. Just before the
        budget runs out, each destination still busy is aborted: its retries end, a batch that
        was waiting for its answer counts as not confirmed, nothing more is sent."""
        started = time.monotonic()
        deadline = started + budget_s
        grace = min(0.5, budget_s / 4)
        flushing = [(d, start_daemon(d.processor.shutdown, f"flush-{d.name}")) for d in self.traces]
        threads = [thread for _, thread in flushing]
        if self.meter_provider is not None:
            threads.append(start_daemon(self.meter_provider.shutdown, "flush-metrics"))
        _join_all(threads, deadline - grace)
        for destination, thread in flushing:
            if thread.is_alive():
                destination.exporter.abort()
        _join_all(threads, deadline)
        return ShutdownResult(
            within_budget=not any(t.is_alive() for t in threads),
            waiting=any(e.in_flight for e in self.span_exporters),
            seconds=time.monotonic() - started,
            reports=[d.report() for d in self.traces],
        )


def _join_all(threads: list[threading.Thread], until: float) -> None:
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))


def start_daemon(work: Callable[[], None], name: str = "telemetry-shutdown") -> threading.Thread:
    """Run `work` on a daemon thread (it never holds the process's exit); failures are one
    warning."""

    def run() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            log.warning("telemetry: shutdown failed (%s)", type(exc).__name__)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def run_bounded(work: Callable[[], None], budget_s: float) -> bool:
    """Run `work`, waiting at most `budget_s`. True if it finished."""
    thread = start_daemon(work)
    thread.join(budget_s)
    return not thread.is_alive()


def build_pipeline(
    settings: TelemetrySettings,
    environ: Mapping[str, str],
    *,
    collect: bool,
    id_generator: Any = None,
) -> Pipeline:
    silence_sdk_export_logs()
    resource = build_resource(environ)
    # `id_generator`: an IdGenerator by shape (runner.otel.telemetry_worker.PresetIds)
    tracer_provider = TracerProvider(
        resource=resource, shutdown_on_exit=False, id_generator=id_generator
    )
    pipeline = Pipeline(tracer_provider=tracer_provider, meter_provider=None)
    timeout_s = None  # the SDK reads OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT; exit has its budget
    for name in settings.traces:
        exporter, endpoint = _span_exporter(name, settings, environ, timeout_s)
        health = ExportHealth("traces", endpoint, name)
        pipeline.health.append(health)
        pipeline.destinations.append(f"traces → {health.label}")
        counting = CountingSpanExporter(exporter, health)
        pipeline.span_exporters.append(counting)
        processor = CountedBatchSpanProcessor(
            counting, schedule_delay_millis=settings.schedule_delay_ms
        )
        probe = ReachProbe(endpoint) if name != "console" else None
        pipeline.traces.append(TraceDestination(name, counting, processor, probe))
        tracer_provider.add_span_processor(processor)
    if collect:
        pipeline.collector = SpanCollector()
        tracer_provider.add_span_processor(pipeline.collector)
    if not settings.metrics:
        return pipeline
    # Imported only when metrics are exported (~30 ms).
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from runner.otel.export.metric_exporter import CountingMetricExporter

    readers = []
    for name in settings.metrics:
        metric_exporter, endpoint = _metric_exporter(name, settings, timeout_s)
        health = ExportHealth("metrics", endpoint, "otlp" if name == "otlp" else name)
        pipeline.health.append(health)
        pipeline.destinations.append(f"metrics → {health.label}")
        readers.append(
            PeriodicExportingMetricReader(CountingMetricExporter(metric_exporter, health))
        )
    pipeline.meter_provider = MeterProvider(
        resource=resource, metric_readers=readers, shutdown_on_exit=False
    )
    return pipeline


def _span_exporter(
    name: str, settings: TelemetrySettings, environ: Mapping[str, str], timeout_s: float | None
) -> tuple[SpanExporter | Callable[[], SpanExporter], str]:
    """An exporter, or a factory for one (built on the batch thread at first export)."""
    if name == "console":
        return ConsoleSpanExporter(out=sys.stderr), "stderr"
    if name in ("langfuse", "mlflow"):
        target = settings.langfuse if name == "langfuse" else settings.mlflow
        assert target is not None
        endpoint, headers = target.traces_endpoint, target.headers

        def direct() -> SpanExporter:
            from opentelemetry.exporter.otlp.proto.http import Compression
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=endpoint, headers=headers, timeout=timeout_s, compression=Compression.Gzip
            )
            only_own_headers(exporter, headers)
            return exporter

        return direct, endpoint
    endpoint = settings.otlp_traces_endpoint
    if settings.protocol == "grpc":

        def grpc() -> SpanExporter:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )

            return GrpcSpanExporter(timeout=timeout_s)

        return grpc, endpoint

    def http() -> SpanExporter:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Endpoint, headers, compression and timeout come from the OTEL_* variables (the SDK).
        return OTLPSpanExporter(timeout=timeout_s)

    return http, endpoint


def _metric_exporter(
    name: str, settings: TelemetrySettings, timeout_s: float | None
) -> tuple[MetricExporter, str]:
    if name == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter(out=sys.stderr), "stderr"
    endpoint = settings.otlp_metrics_endpoint
    if settings.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )

        return GrpcMetricExporter(timeout=timeout_s), endpoint
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    exporter = OTLPMetricExporter(timeout=timeout_s)
    return exporter, getattr(exporter, "_endpoint", endpoint)


def only_own_headers(exporter: object, own: Mapping[str, str]) -> None:
    """A direct destination sends its own headers only. The SDK merges OTEL_EXPORTER_OTLP_[
    TRACES_]HEADERS into every OTLP/HTTP exporter's headers, so without this the collector's
    credentials would go to Langfuse or MLflow as well. Works on the exporter's private client
    (opentelemetry-exporter-otlp-proto-http 1.45); tests/otel/test_multi_export_e2e.py checks it."""
    client = getattr(exporter, "_client", None)
    headers = getattr(client, "_headers", None)
    if not isinstance(headers, dict):
        log.debug("OTLP exporter without _client._headers: OTEL_EXPORTER_OTLP_HEADERS may apply")
        return
    keep = {k.lower() for k in own} | {"content-type", "user-agent", "content-encoding"}
    for key in [k for k in headers if k.lower() not in keep]:
        del headers[key]
