"""Scores delivered to every configured backend, off the agent loop, within the exit budget.

`ScoreDelivery` takes scores from the span renderer (outcomes, on the telemetry worker) and from
stdin feedback (on the agent loop: a queue put), and hands each to one thread per destination
(Langfuse, MLflow), so a hung backend costs the other nothing. A destination retries what may
succeed later (5xx, 429, refused, timeouts, and MLflow's 404 while the trace is not stored yet)
with backoff; at exit `close(deadline)` waits, at most until the exit budget's deadline, and the
report counts per destination what was delivered and what was not (`2 scores not delivered to
mlflow (...)`).

Who holds Langfuse's credentials (deploy/README.md): the runner. Scores go straight to Langfuse's
API with the project keys in the runner's environment, whatever route the spans take (direct,
the Langfuse SDK, or our collector); Langfuse makes no scores from OTel events.

`submit_score` is the same delivery for one score after the session (`claude-runner score`,
`runner.submit_score`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from runner.otel.attributes.content import ContentPolicy
from runner.otel.export.score_clients import (
    Judged,
    LangfuseScores,
    MlflowAssessments,
    ScoreDeliveryError,
    now,
)
from runner.otel.export.settings import TelemetrySettings
from runner.scores import Score, make_score, score_id

log = logging.getLogger("runner.otel")
REQUEST_TIMEOUT_S = 5.0
BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)


class ScoreClient(Protocol):
    name: str
    endpoint: str
    batch_size: int

    def send(self, items: Sequence[Judged], timeout_s: float) -> list[Judged]: ...


def score_clients(settings: TelemetrySettings) -> list[ScoreClient]:
    """The destinations scores go to: Langfuse when its keys are set and the spans reach it
    (directly, through the Langfuse SDK, or through a collector: `otlp`); MLflow when
    OBSERVABILITY_BACKENDS sends the spans there."""
    clients: list[ScoreClient] = []
    if settings.mode == "off":
        return clients
    langfuse_traces = settings.mode == "langfuse-sdk" or bool(
        {"langfuse", "otlp"} & set(settings.traces)
    )
    if settings.langfuse is not None and langfuse_traces:
        clients.append(LangfuseScores(settings.langfuse, settings.environment))
    if settings.mlflow is not None and "mlflow" in settings.traces:
        clients.append(MlflowAssessments(settings.mlflow, settings.environment))
    return clients


@dataclass
class ScoreReport:
    destination: str
    endpoint: str
    scores: int = 0
    delivered: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def not_delivered(self) -> int:
        return self.scores - self.delivered


class _Destination:
    """One backend's queue and thread."""

    def __init__(self, client: ScoreClient) -> None:
        self.client = client
        self.report = ScoreReport(client.name, client.endpoint)
        self.queue: deque[Judged] = deque()
        self.cond = threading.Condition()
        self.deadline: float | None = None
        self.closing = False
        self.thread: threading.Thread | None = None

    def put(self, item: Judged) -> None:
        with self.cond:
            self.report.scores += 1
            self.queue.append(item)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name=f"scores-{self.client.name}", daemon=True
                )
                self.thread.start()
            self.cond.notify_all()

    def _fail(self, items: Sequence[Judged], kind: str) -> None:
        with self.cond:
            self.report.failures[kind] = self.report.failures.get(kind, 0) + len(items)

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue and not self.closing:
                    self.cond.wait()
                if not self.queue:
                    return
                batch = [
                    self.queue.popleft()
                    for _ in range(min(self.client.batch_size, len(self.queue)))
                ]
            self._deliver(batch)

    def _deliver(self, batch: list[Judged]) -> None:
        attempt = 0
        while True:
            timeout = REQUEST_TIMEOUT_S
            if self.deadline is not None:
                timeout = min(timeout, self.deadline - time.monotonic())
                if timeout <= 0:
                    self._fail(batch, "budget")
                    return
            try:
                accepted = self.client.send(batch, timeout)
            except ScoreDeliveryError as exc:
                pause = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                attempt += 1
                late = self.deadline is not None and time.monotonic() + pause >= self.deadline
                if not exc.retry or late:
                    self._fail(batch, exc.kind)
                    return
                with self.cond:  # a close() wakes the wait to recheck the deadline
                    self.cond.wait(pause)
                continue
            except Exception as exc:
                log.debug("score delivery failed", exc_info=True)
                self._fail(batch, type(exc).__name__)
                return
            with self.cond:
                self.report.delivered += len(accepted)
            if len(accepted) < len(batch):
                self._fail(batch[len(accepted) :], "rejected")
            return

    def close(self, deadline: float) -> None:
        with self.cond:
            self.closing = True
            self.deadline = deadline
            self.cond.notify_all()

    def wait(self, deadline: float) -> ScoreReport:
        if self.thread is not None:
            self.thread.join(max(0.0, deadline - time.monotonic()))
        with self.cond:
            if self.queue:
                self.report.failures["budget"] = self.report.failures.get("budget", 0) + len(
                    self.queue
                )
                self.queue.clear()
            return ScoreReport(
                self.report.destination,
                self.report.endpoint,
                self.report.scores,
                self.report.delivered,
                dict(self.report.failures),
            )


class ScoreDelivery:
    """The session's scores: recorded on the trace by the renderer, delivered here."""

    def __init__(self, clients: Sequence[ScoreClient], content: ContentPolicy) -> None:
        self.content = content
        self._destinations = [_Destination(client) for client in clients]
        self._lock = threading.Lock()
        self._trace_id: str | None = None
        self._queries: dict[int, str] = {}
        self._feedback: list[tuple[Score, int]] = []
        self._pending: list[Score] = []
        self._last_query = 0

    @property
    def destinations(self) -> list[str]:
        return [d.client.name for d in self._destinations]

    def comment(self, score: Score) -> str | None:
        """What of a comment may leave the process: a person's words are content (captured only
        when content capture is on, redacted); the runner's own (an error type) are not."""
        if not score.comment:
            return None
        if score.source == "feedback":
            return self.content.text(score.comment) if self.content.capture else None
        return self.content.redactor.clean_value(score.comment)

    # --- from the renderer (the telemetry worker) ---------------------------------------------

    def judged(self, score: Score, trace_id: str, observation_id: str | None) -> None:
        """An outcome score, recorded on its span: deliver it."""
        with self._lock:
            self._trace_id = trace_id
        self._put(score, trace_id, observation_id)

    def query_span(self, index: int, trace_id: str, span_id: str) -> None:
        """A query's span has ended: feedback on it can now name its observation."""
        with self._lock:
            self._trace_id = trace_id
            self._queries[index] = span_id
            self._last_query = max(self._last_query, index)
            ready = [s for s in self._pending if (s.query or self._last_query) in self._queries]
            self._pending = [s for s in self._pending if s not in ready]
        for score in ready:
            self._feedback_ready(score)

    def session_feedback(self) -> list[tuple[Score, int]]:
        """Feedback received so far, with when (ns): events on the session's span."""
        with self._lock:
            return list(self._feedback)

    def feedback_span(self, score: Score) -> str | None:
        with self._lock:
            return self._queries.get(score.query or self._last_query)

    # --- from stdin (the agent loop) -----------------------------------------------------------

    def feedback(self, score: Score) -> None:
        """A feedback line's score (query: given, else the last query that ended)."""
        with self._lock:
            self._feedback.append((score, time.time_ns()))
            known = self._trace_id is not None and (score.query or self._last_query) in (
                self._queries
            )
            if not known:
                self._pending.append(score)
                return
        self._feedback_ready(score)

    def _feedback_ready(self, score: Score) -> None:
        with self._lock:
            trace_id = self._trace_id
            span = self._queries.get(score.query or self._last_query)
        if trace_id is not None:
            self._put(score, trace_id, span)

    # --- delivery -------------------------------------------------------------------------------

    def _put(self, score: Score, trace_id: str, observation_id: str | None) -> None:
        item = Judged(
            score=score,
            trace_id=trace_id,
            observation_id=observation_id,
            id=score_id(trace_id, observation_id, score.name),
            at=now(),
            comment=self.comment(score),
        )
        for destination in self._destinations:
            destination.put(item)

    def close(self, deadline: float) -> list[ScoreReport]:
        """Deliver what is left until `deadline` (time.monotonic()); report per destination.
        Feedback for a query that never ended goes on the trace itself."""
        with self._lock:
            pending, self._pending = self._pending, []
            trace_id = self._trace_id
        for score in pending:
            if trace_id is not None:
                self._put(score, trace_id, None)
        for destination in self._destinations:
            destination.close(deadline)
        return [destination.wait(deadline) for destination in self._destinations]


def log_scores(reports: Sequence[ScoreReport], *, budget_s: float) -> None:
    """One line per destination: INFO when every score was delivered, else a WARNING."""
    from runner.otel.export.environment_variables import RUNNER_EXIT_BUDGET
    from runner.otel.export.exporters import describe

    for report in reports:
        if not report.scores:
            continue
        label = f"{report.destination} ({report.endpoint})"
        if not report.not_delivered:
            log.info("telemetry: %d scores delivered to %s", report.delivered, label)
            continue
        reasons = [
            f"the exit budget ({RUNNER_EXIT_BUDGET}={budget_s:g}s) ran out"
            if kind == "budget"
            else describe(kind)
            for kind in report.failures
        ]
        log.warning(
            "telemetry: %d scores not delivered to %s (%s)",
            report.not_delivered,
            label,
            "; ".join(reasons) or "unknown",
        )


def submit_score(
    trace_id: str,
    name: str,
    value: bool | float | str,
    *,
    data_type: str | None = None,
    comment: str | None = None,
    observation_id: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
) -> list[ScoreReport]:
    """Write one score on a finished session's trace to every backend the environment
    configures (the same variables as `claude-runner run`): Langfuse's Scores API and MLflow's
    assessments. `trace_id`: 32 hex (stdout's session_start `trace_id`); `observation_id`: a
    span's 16 hex (e.g. a query's). The comment goes as written (redacted): the caller gives
    it. The score's source is `feedback` (MLflow: a HUMAN assessment). Bounded by `timeout_s`
    (default RUNNER_EXIT_BUDGET). Raises ScoreError for a value
    Langfuse would refuse; returns what each destination did."""
    import os

    from runner.scores import ScoreError

    env = dict(os.environ if environ is None else environ)
    tid = trace_id.strip().lower()
    if len(tid) != 32 or not set(tid) <= set("0123456789abcdef") or set(tid) == {"0"}:
        raise ScoreError("trace_id", "must be 32 hex digits (session_start's trace_id)")
    oid = observation_id.strip().lower() if observation_id else None
    if oid is not None and (len(oid) != 16 or not set(oid) <= set("0123456789abcdef")):
        raise ScoreError("observation_id", "must be 16 hex digits (a span id)")
    score = make_score(name, value, data_type, comment=comment, source="feedback")
    settings = TelemetrySettings.from_env(env)
    for warning in settings.warnings:
        log.warning("telemetry: %s", warning)
    clients = score_clients(settings)
    content = ContentPolicy(True, settings.content.redactor)  # the caller's own comment
    delivery = ScoreDelivery(clients, content)
    delivery._put(score, tid, oid)
    budget = settings.exit_budget_s if timeout_s is None else timeout_s
    reports = delivery.close(time.monotonic() + budget)
    log_scores(reports, budget_s=budget)
    return reports
