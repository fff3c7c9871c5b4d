"""A session's telemetry, wired: `setup_telemetry()` → `Telemetry` (observers, CLI env, report).

`session_observer` is the one factory of the session's observer (tree builder → span renderer);
production, tests and benchmarks all build it here. Nothing here ever fails or blocks a
session: setup problems are warnings and turn the affected path off; export problems are
counted and warned once per kind; shutdown is bounded by RUNNER_EXIT_BUDGET.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from runner.otel.export.cli_environment import cli_environment
from runner.otel.export.environment_variables import RUNNER_EXIT_BUDGET
from runner.otel.export.settings import TelemetrySettings
from runner.session.types import SessionObserver

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Tracer

    from runner.cli_telemetry import CliTelemetryRelay, RelayCounts
    from runner.otel.attributes.content import ContentPolicy
    from runner.otel.export.delivery import DestinationReport
    from runner.otel.export.pipeline import Pipeline
    from runner.otel.metrics import GenAIMetrics
    from runner.otel.span_renderer import SpanRenderer
    from runner.otel.telemetry_worker import PresetIds, TelemetryWorker
    from runner.otel.tree.builder import TreeBuilder

log = logging.getLogger("runner.otel")
SCOPE = "claude-code-runner"


def session_observer(
    tracer: Tracer,
    content: ContentPolicy,
    *,
    metrics: GenAIMetrics | None = None,
    parent: Context | None = None,
    environment: str | None = None,
    attach: bool = True,
    cli_wait_s: float | None = None,
) -> TreeBuilder:
    """The session's observer: runner events → tree → spans through `tracer`. `cli_wait_s`:
    with the CLI's telemetry relayed, how long a call or tool waits for the CLI's record."""
    from runner.otel.span_renderer import SpanRenderer
    from runner.otel.tree.builder import TreeBuilder

    renderer = SpanRenderer(
        tracer, content, metrics=metrics, parent=parent, attach=attach, environment=environment
    )
    return TreeBuilder(renderer, capture_content=content.capture, cli_wait_s=cli_wait_s)


def parent_context(settings: TelemetrySettings) -> Context | None:
    """The caller's trace (TRACEPARENT), validated in settings."""
    if settings.traceparent is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": settings.traceparent}
    if settings.tracestate:
        carrier["tracestate"] = settings.tracestate
    return TraceContextTextMapPropagator().extract(carrier)


@dataclass
class TelemetryReport:
    spans: int = 0
    """Spans the session produced and the sampler kept."""
    delivered: dict[str, int] = field(default_factory=dict)
    """Spans each trace destination accepted."""
    failures: dict[str, dict[str, int]] = field(default_factory=dict)
    within_budget: bool = True
    waiting: bool = False
    seconds: float = 0.0
    cli: RelayCounts | None = None
    """What the relay of the CLI's own telemetry saw (RUNNER_CLI_TELEMETRY)."""
    destinations: list[DestinationReport] = field(default_factory=list)
    """Per trace destination: spans handed to it, delivered, not confirmed, not delivered."""


class Telemetry:
    """What `setup_telemetry` built. `observers` go to the session driver."""

    def __init__(self, settings: TelemetrySettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.observers: list[SessionObserver] = []
        self.relay: CliTelemetryRelay | None = None
        if settings.cli_telemetry and settings.mode != "off":
            self.relay = _start_relay()
        endpoint = self.relay.endpoint if self.relay is not None else None
        self.cli_env = cli_environment(settings, environ, relay_endpoint=endpoint)
        self.pipeline: Pipeline | None = None
        self.renderer: SpanRenderer | None = None
        self.shutdown_hooks: list[Callable[[], None]] = []
        self.ids: PresetIds | None = None
        self.worker: TelemetryWorker | None = None

    def build_otel(self, environ: Mapping[str, str], collect: bool) -> SessionObserver:
        """The OTel path's observer (on the telemetry worker's thread)."""
        from runner.otel.export.pipeline import build_pipeline

        settings = self.settings
        pipeline = build_pipeline(settings, environ, collect=collect, id_generator=self.ids)
        tracer = pipeline.tracer_provider.get_tracer(SCOPE, _version())
        metrics = None
        if pipeline.meter_provider is not None:
            from runner.otel.metrics import GenAIMetrics

            metrics = GenAIMetrics(pipeline.meter_provider.get_meter(SCOPE, _version()))
        observer = session_observer(
            tracer,
            settings.content,
            metrics=metrics,
            parent=parent_context(settings),
            environment=settings.environment,
            attach=False,  # the CLI gets the session's TRACEPARENT explicitly (cli_env)
            cli_wait_s=self.cli_wait_s,
        )
        self.pipeline = pipeline
        self.renderer = cast("SpanRenderer", observer.renderer)
        for destination in pipeline.destinations:
            log.info("telemetry: %s", destination)
        return observer

    @property
    def cli_wait_s(self) -> float | None:
        return CLI_RECORD_WAIT_S if self.relay is not None else None

    def preset_session_ids(self) -> tuple[int, int]:
        """Fix the session span's ids now and give the CLI its TRACEPARENT from them."""
        import random

        trace_id, flags = random.getrandbits(128) or 1, "01"
        parent = self.settings.traceparent
        if parent is not None:
            trace_id, flags = int(parent.split("-")[1], 16), parent.split("-")[3]
        span_id = random.getrandbits(64) or 1
        self.cli_env["TRACEPARENT"] = f"00-{trace_id:032x}-{span_id:016x}-{flags}"
        if self.settings.tracestate:
            self.cli_env["TRACESTATE"] = self.settings.tracestate
        return trace_id, span_id

    def trace_view(self) -> str | None:
        self._wait_for_worker()
        pipeline = self.pipeline
        if pipeline is None or pipeline.collector is None or not pipeline.collector.spans:
            return None
        from runner.otel.trace_view import render

        view = render(pipeline.collector.spans, color=stderr_is_terminal())
        if pipeline.collector.dropped:
            view += f"({pipeline.collector.dropped} more spans not shown)\n"
        return view

    def shutdown(self) -> TelemetryReport:
        """Flush and shut down within the exit budget; report what was lost."""
        from runner.otel.export.delivery import log_delivery
        from runner.otel.export.pipeline import run_bounded

        report = TelemetryReport()
        budget = self.settings.exit_budget_s
        if self.relay is not None:
            report.cli = self.relay.stop(min(0.5, budget / 4))
            _log_relay(report.cli)
        self._wait_for_worker()
        if self.pipeline is None:
            for hook in self.shutdown_hooks:
                run_bounded(hook, budget)
            return report
        result = self.pipeline.shutdown(budget)
        report.within_budget, report.waiting = result.within_budget, result.waiting
        report.seconds = result.seconds
        report.spans = self.renderer.spans_recorded if self.renderer is not None else 0
        report.destinations = result.reports
        for health in self.pipeline.health:
            exported = health.report()
            if health.signal == "traces":
                report.delivered[health.endpoint] = exported.exported
            if exported.failures:
                report.failures[health.endpoint] = exported.failures
        log_delivery(result.reports, within_budget=result.within_budget, budget_s=budget)
        return report

    def _wait_for_worker(self) -> None:
        """The worker has handled the session's end (bounded by the exit budget)."""
        if self.worker is not None and not self.worker.wait(self.settings.exit_budget_s):
            log.warning(
                "telemetry: still busy %gs after the session (%s); the rest is not exported",
                self.settings.exit_budget_s,
                RUNNER_EXIT_BUDGET,
            )
            self.worker = None


def setup_telemetry(environ: Mapping[str, str] | None = None) -> Telemetry:
    """Decide telemetry from the environment now; build it on a thread beside the CLI's start
    (runner.otel.telemetry_worker). Never raises: a failure means no telemetry, with one warning."""
    env = dict(os.environ if environ is None else environ)
    settings = TelemetrySettings.from_env(env)
    for warning in settings.warnings:
        log.warning("telemetry: %s", warning)
    telemetry = Telemetry(settings, env)
    try:
        if settings.mode == "otel":
            collect = (
                settings.trace_view if settings.trace_view is not None else (stderr_is_terminal())
            )
            if not settings.traces and not settings.metrics and not collect:
                return telemetry  # nothing would see the spans: stay off the agent loop
            _defer(telemetry, lambda: telemetry.build_otel(env, collect))
        elif settings.mode == "langfuse-sdk" and settings.langfuse is not None:

            def build() -> SessionObserver:
                from runner.otel.langfuse_tracer import build_langfuse_tracer

                tracer, hook = build_langfuse_tracer(settings, env, telemetry.ids)
                telemetry.shutdown_hooks.append(hook)
                return session_observer(
                    tracer,
                    settings.content,
                    parent=parent_context(settings),
                    environment=settings.environment,
                    attach=False,  # the CLI gets the session's TRACEPARENT explicitly
                    cli_wait_s=telemetry.cli_wait_s,
                )

            _defer(telemetry, build)
    except Exception as exc:  # noqa: BLE001 - telemetry never fails a session
        from runner.otel.telemetry_worker import warn_setup_failed

        warn_setup_failed(exc)
        telemetry.observers.clear()
    return telemetry


def _defer(telemetry: Telemetry, build: Callable[[], SessionObserver]) -> None:
    from runner.accounting import pricing
    from runner.otel.telemetry_worker import TelemetryWorker

    trace_id, span_id = telemetry.preset_session_ids()

    def build_and_load_prices() -> SessionObserver:
        from runner.otel.telemetry_worker import PresetIds

        telemetry.ids = PresetIds(trace_id, span_id)
        observer = build()
        pricing.load()  # off the agent loop (the ledger prices there, from this snapshot)
        return observer

    telemetry.worker = TelemetryWorker(build_and_load_prices)
    telemetry.observers.append(telemetry.worker)


CLI_RECORD_WAIT_S = 2.0
"""How long a call or tool waits for the CLI's record of it before it ends without (the CLI
exports every tenth of a second: runner.otel.export.cli_environment)."""


def _start_relay() -> CliTelemetryRelay | None:
    """The relay for the CLI's own telemetry; None (one warning) when it cannot start."""
    from runner.cli_telemetry import CliTelemetryRelay

    try:
        return CliTelemetryRelay(lambda record: None).start()
    except OSError as exc:
        log.warning(
            "telemetry: RUNNER_CLI_TELEMETRY is on but its relay could not start (%s); the "
            "session runs without the CLI's own telemetry",
            exc,
        )
        return None


def _log_relay(counts: RelayCounts) -> None:
    log.info(
        "telemetry: the CLI's own telemetry: %d spans, %d log events relayed",
        counts.spans,
        counts.log_events,
    )
    lost = counts.dropped_requests + counts.sink_errors
    if lost:
        log.warning(
            "telemetry: %d of the CLI's export requests were dropped (the relay's queue was "
            "full) and %d records could not be handed on",
            counts.dropped_requests,
            counts.sink_errors,
        )


def stderr_is_terminal() -> bool:
    try:
        return os.isatty(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def _version() -> str:
    from runner._version import __version__

    return __version__
