"""What each trace destination confirmed at exit, said honestly, one line per destination.

Three counts per destination, from its exporter (runner.otel.export.exporters): *delivered* (the
backend
answered 2xx), *not confirmed* (sent, no answer: a timeout, or still waiting when the exit
budget ran out — the backend may have stored them), *not delivered* (refused, unreachable, or
never sent). The spans a destination was handed are counted by its own queue, so a destination
added or dropped never skews another's figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.otel.export.environment_variables import RUNNER_EXIT_BUDGET
from runner.otel.export.exporters import describe

log = logging.getLogger("runner.otel")


@dataclass(frozen=True)
class DestinationReport:
    destination: str
    """langfuse, mlflow, otlp or console."""
    endpoint: str
    """Without credentials (userinfo and query stripped)."""
    spans: int
    """Spans handed to this destination's queue."""
    delivered: int
    unconfirmed: int
    failures: dict[str, int] = field(default_factory=dict)
    """Failed batches by kind (http_503, refused, timeout, …)."""

    @property
    def not_delivered(self) -> int:
        return max(0, self.spans - self.delivered - self.unconfirmed)

    @property
    def label(self) -> str:
        return f"{self.destination} ({self.endpoint})" if self.destination else self.endpoint


def log_delivery(
    reports: Sequence[DestinationReport], *, within_budget: bool, budget_s: float
) -> None:
    """One line per destination: INFO when every span was delivered, else a WARNING that says
    what was not delivered (and why) and what was not confirmed."""
    budget = f"the exit budget ({RUNNER_EXIT_BUDGET}={budget_s:g}s) ran out"
    for report in reports:
        if report.not_delivered == 0 and report.unconfirmed == 0:
            log.info("telemetry: %d spans delivered to %s", report.delivered, report.label)
            continue
        if report.not_delivered:
            reasons = [describe(kind) for kind in report.failures if kind != "timeout"]
            if not within_budget:
                reasons.append(budget)
            log.warning(
                "telemetry: %d of %d spans were not delivered to %s%s",
                report.not_delivered,
                report.spans,
                report.label,
                f" ({'; '.join(reasons)})" if reasons else "",
            )
        if report.unconfirmed:
            why = (
                f"sent, but {budget} before the answer"
                if not within_budget or "timeout" not in report.failures
                else "sent, but the request timed out"
            )
            log.warning(
                "telemetry: %d of %d spans were not confirmed by %s: %s; the backend may have "
                "stored them",
                report.unconfirmed,
                report.spans,
                report.label,
                why,
            )
