"""Each destination's counts and the words of the exit report: `not delivered` only for spans
the backend refused, never reached, or that were never sent; `not confirmed` for spans sent
without an answer (a timeout, or the exit budget). The real OTLP/HTTP exporter against a local
receiver."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from runner.otel.export.delivery import DestinationReport, log_delivery
from runner.otel.export.exporters import CountingSpanExporter, ExportHealth
from tests.otlp_receiver import OTLPHttpReceiver


def _spans(count: int) -> list[ReadableSpan]:
    tracer = TracerProvider().get_tracer("test")
    spans = []
    for i in range(count):
        span = tracer.start_span(f"s{i}")
        span.end()
        spans.append(span)
    return spans  # type: ignore[return-value]


def _exporter(url: str, timeout_s: float = 10) -> CountingSpanExporter:
    inner = OTLPSpanExporter(endpoint=f"{url}/v1/traces", timeout=timeout_s)
    return CountingSpanExporter(inner, ExportHealth("traces", f"{url}/v1/traces", "mlflow"))


@pytest.mark.parametrize(
    ("mode", "delivered", "failed", "unconfirmed", "kind"),
    [
        ("ok", 3, 0, 0, None),
        (404, 0, 3, 0, "http_404"),
        (400, 0, 3, 0, "http_400"),
        ("slow:3", 0, 0, 3, "timeout"),  # no answer within the exporter's 1 s: maybe stored
    ],
)
def test_each_outcome_is_counted_as_what_it_is(
    mode: str | int, delivered: int, failed: int, unconfirmed: int, kind: str | None
) -> None:
    receiver = OTLPHttpReceiver(mode=mode)
    try:
        exporter = _exporter(receiver.url, timeout_s=1)
        exporter.export(_spans(3))
        counts, waiting = exporter.counts()
    finally:
        receiver.stop()
    assert (counts.exported, counts.failed, counts.unconfirmed, waiting) == (
        delivered,
        failed,
        unconfirmed,
        0,
    )
    assert list(counts.failures) == ([kind] if kind else [])


def test_a_batch_waiting_for_its_answer_when_aborted_is_not_confirmed_and_nothing_more_is_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = OTLPHttpReceiver(mode="hang")
    try:
        exporter = _exporter(receiver.url, timeout_s=30)
        exporter.inner  # noqa: B018 - build the exporter now, as the batch thread would
        worker = threading.Thread(target=exporter.export, args=(_spans(4),), daemon=True)
        worker.start()
        deadline = time.monotonic() + 10
        while exporter.sending == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exporter.sending == 4
        exporter.abort()
        counts, waiting = exporter.counts()
        assert counts.unconfirmed + waiting == 4 and counts.failed == 0
        worker.join(10)
        sent_before = len(receiver.requests)
        exporter.export(_spans(2))  # still queued at the abort: not sent
        assert len(receiver.requests) == sent_before
    finally:
        receiver.stop()
    counts, waiting = exporter.counts()
    assert (counts.exported, counts.failed, counts.unconfirmed + waiting) == (0, 0, 4)
    assert not [r for r in caplog.records if "failed (" in r.getMessage()]  # the report says it


def test_the_report_says_per_destination_what_was_lost_and_how(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reports = [
        DestinationReport("langfuse", "https://lf/api/public/otel/v1/traces", 7, 7, 0),
        DestinationReport("mlflow", "http://m:5000/v1/traces", 7, 0, 7),
        DestinationReport("otlp", "http://c:4318/v1/traces", 7, 2, 3, {"http_5xx": 2}),
    ]
    with caplog.at_level(logging.INFO, logger="runner.otel"):
        log_delivery(reports, within_budget=False, budget_s=3)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "telemetry: 7 spans delivered to langfuse (https://lf/api/public/otel/v1/traces)",
        "telemetry: 7 of 7 spans were not confirmed by mlflow (http://m:5000/v1/traces): sent, "
        "but the exit budget (RUNNER_EXIT_BUDGET=3s) ran out before the answer; the backend "
        "may have stored them",
        "telemetry: 2 of 7 spans were not delivered to otlp (http://c:4318/v1/traces) (HTTP 5xx; "
        "the exit budget (RUNNER_EXIT_BUDGET=3s) ran out)",
        "telemetry: 3 of 7 spans were not confirmed by otlp (http://c:4318/v1/traces): sent, but "
        "the exit budget (RUNNER_EXIT_BUDGET=3s) ran out before the answer; the backend may "
        "have stored them",
    ]
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING", "WARNING", "WARNING"]
