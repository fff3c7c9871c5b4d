"""Telemetry for a session run: `setup_telemetry()` → `Telemetry` (observer, shutdown, view).

Nothing here ever fails or blocks a session: setup problems are warnings and turn the affected
path off; export problems are counted and warned once per kind; shutdown is bounded by
RUNNER_EXIT_BUDGET.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from runner.otel.settings import (
    RUNNER_EXIT_BUDGET,
    SECRET_VARIABLES,
    TRACEPARENT,
    TRACESTATE,
    TelemetrySettings,
)
from runner.types import SessionObserver

if TYPE_CHECKING:
    from opentelemetry.context import Context

    from runner.otel.mapper import SpanRenderer
    from runner.otel.providers import Pipeline

log = logging.getLogger("runner.otel")
SCOPE = "claude-code-runner"


@dataclass
class TelemetryReport:
    spans: int = 0
    """Spans the session produced and the sampler kept."""
    delivered: dict[str, int] = field(default_factory=dict)
    """Spans each trace destination accepted."""
    failures: dict[str, dict[str, int]] = field(default_factory=dict)
    within_budget: bool = True
    waiting: bool = False
    """An export was still waiting for the backend's answer when the budget ran out."""
    seconds: float = 0.0


class Telemetry:
    """What `setup_telemetry` built. `observers` go to the session driver."""

    def __init__(
        self,
        settings: TelemetrySettings,
        environ: Mapping[str, str],
    ) -> None:
        self.settings = settings
        self.observers: list[SessionObserver] = []
        self.cli_env = _cli_env(settings, environ)
        self._pipeline: Pipeline | None = None
        self._renderer: SpanRenderer | None = None
        self._shutdown_hooks: list[Callable[[], None]] = []

    # --- wiring (the OTel path) -------------------------------------------------------------

    def _build_otel(self, environ: Mapping[str, str], collect: bool) -> None:
        from runner.otel.content import ContentPolicy
        from runner.otel.mapper import SpanRenderer
        from runner.otel.metrics import GenAIMetrics
        from runner.otel.model import SessionModel
        from runner.otel.providers import build_pipeline

        if not self.settings.traces and not self.settings.metrics and not collect:
            return  # nothing would see the spans: stay off the agent loop entirely
        pipeline = build_pipeline(self.settings, environ, collect=collect)
        content = ContentPolicy.from_env(environ)
        tracer = pipeline.tracer_provider.get_tracer(SCOPE, _version())
        metrics = None
        if pipeline.meter_provider is not None:
            metrics = GenAIMetrics(pipeline.meter_provider.get_meter(SCOPE, _version()))
        renderer = SpanRenderer(tracer, content, metrics=metrics, parent=_parent(environ))
        self._pipeline = pipeline
        self._renderer = renderer
        self.observers.append(SessionModel(renderer, capture_content=content.capture))
        for destination in pipeline.destinations:
            log.info("telemetry: %s", destination)

    # --- after the session --------------------------------------------------------------------

    def trace_view(self) -> str | None:
        pipeline = self._pipeline
        if pipeline is None or pipeline.collector is None or not pipeline.collector.spans:
            return None
        from runner.otel.providers import stderr_is_terminal
        from runner.otel.trace_view import render

        view = render(pipeline.collector.spans, color=stderr_is_terminal())
        if pipeline.collector.dropped:
            view += f"({pipeline.collector.dropped} more spans not shown)\n"
        return view

    def shutdown(self) -> TelemetryReport:
        """Flush and shut the providers down within the exit budget; report what was lost."""
        pipeline, renderer = self._pipeline, self._renderer
        report = TelemetryReport()
        if pipeline is None:
            for hook in self._shutdown_hooks:
                _bounded(hook, self.settings.exit_budget_s)
            return report
        started = time.monotonic()

        def work() -> None:
            pipeline.tracer_provider.shutdown()
            if pipeline.meter_provider is not None:
                pipeline.meter_provider.shutdown()

        budget = self.settings.exit_budget_s
        grace = min(0.5, budget / 4)
        thread = _start(work)
        thread.join(budget - grace)
        if thread.is_alive():
            # Retrying or waiting: stop retries so the batch fails with its reason, counted.
            for exporter in pipeline.span_exporters:
                exporter.abort()
            thread.join(grace)
        report.within_budget = not thread.is_alive()
        report.waiting = any(e.in_flight for e in pipeline.span_exporters)
        report.seconds = time.monotonic() - started
        report.spans = renderer.spans_recorded if renderer is not None else 0
        for health in pipeline.health:
            result = health.report()
            if health.signal == "traces":
                report.delivered[health.endpoint] = result.exported
            if result.failures:
                report.failures[health.endpoint] = result.failures
        self._log_report(report)
        return report

    def _log_report(self, report: TelemetryReport) -> None:
        for endpoint, delivered in report.delivered.items():
            lost = report.spans - delivered
            if lost > 0:
                reason = (
                    ""
                    if report.within_budget
                    else (
                        f"; the exit budget ({RUNNER_EXIT_BUDGET}="
                        f"{self.settings.exit_budget_s:g}s) ran out"
                    )
                )
                log.warning(
                    "telemetry: %d of %d spans were not delivered to %s%s",
                    lost,
                    report.spans,
                    endpoint,
                    reason,
                )
            else:
                log.info("telemetry: %d spans delivered to %s", delivered, endpoint)


def setup_telemetry(environ: Mapping[str, str] | None = None) -> Telemetry:
    """Build telemetry from the environment. Never raises: a failure means no telemetry."""
    env = dict(os.environ if environ is None else environ)
    settings = TelemetrySettings.from_env(env)
    for warning in settings.warnings:
        log.warning("telemetry: %s", warning)
    telemetry = Telemetry(settings, env)
    try:
        if settings.mode == "otel":
            from runner.otel.providers import stderr_is_terminal

            collect = (
                settings.trace_view if settings.trace_view is not None else (stderr_is_terminal())
            )
            telemetry._build_otel(env, collect)
        elif settings.mode == "langfuse-sdk" and settings.langfuse is not None:
            from runner.otel.langfuse_fallback import build_langfuse_observer

            observer, hook = build_langfuse_observer(settings, env)
            telemetry.observers.append(observer)
            telemetry._shutdown_hooks.append(hook)
    except Exception as exc:
        log.warning(
            "telemetry: setup failed (%s: %s); the session runs without telemetry",
            type(exc).__name__,
            exc,
        )
        log.debug("telemetry setup failure", exc_info=True)
        telemetry.observers.clear()
    return telemetry


def _start(work: Callable[[], None]) -> threading.Thread:
    """Run `work` on a daemon thread (it never holds the process's exit)."""

    def run() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            log.warning("telemetry: shutdown failed (%s)", type(exc).__name__)

    thread = threading.Thread(target=run, name="telemetry-shutdown", daemon=True)
    thread.start()
    return thread


def _bounded(work: Callable[[], None], budget_s: float) -> bool:
    """Run `work`, waiting at most `budget_s`. True if it finished."""
    thread = _start(work)
    thread.join(budget_s)
    return not thread.is_alive()


def _parent(environ: Mapping[str, str]) -> Context | None:
    raw = environ.get(TRACEPARENT, "").strip()
    if not raw:
        return None
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": raw}
    if environ.get(TRACESTATE):
        carrier["tracestate"] = environ[TRACESTATE]
    context = TraceContextTextMapPropagator().extract(carrier)
    if not trace.get_current_span(context).get_span_context().is_valid:
        log.warning(
            "telemetry: %s=%r is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); "
            "the session starts a new trace",
            TRACEPARENT,
            quote(raw[:80], safe="-"),
        )
        return None
    return context


def _cli_env(settings: TelemetrySettings, environ: Mapping[str, str]) -> dict[str, str]:
    """The CLI's view of telemetry variables: credentials blanked unless it exports itself."""
    blank = {name: "" for name in SECRET_VARIABLES if environ.get(name)}
    if not settings.cli_telemetry or settings.mode != "otel":
        return blank
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    }
    if "langfuse" in settings.traces and settings.langfuse is not None:
        headers = ",".join(f"{k}={quote(v)}" for k, v in settings.langfuse.headers.items())
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "none",
                "OTEL_LOGS_EXPORTER": "none",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": settings.langfuse.traces_endpoint,
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": headers,
                **{name: "" for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")},
            }
        )
    elif "otlp" in settings.traces:
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "otlp" if "otlp" in settings.metrics else "none",
                "OTEL_LOGS_EXPORTER": "otlp",
            }
        )
    return env


def _version() -> str:
    from runner._version import __version__

    return __version__


__all__ = ["Telemetry", "TelemetryReport", "setup_telemetry"]
