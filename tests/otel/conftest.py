"""Tracing fixtures: a real session (real SDK + CLI against the scripted server) run in-process,
its spans in an in-memory exporter and its metrics in an in-memory reader."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runner.config import RunnerConfig, Tenancy
from runner.launcher import run_session
from runner.offline import OfflineMessagesServer, offline_environment
from runner.offline.script import Step
from runner.offline.server import Jitter
from runner.otel import session_observer
from runner.otel.attributes.content import ContentPolicy
from runner.otel.metrics import GenAIMetrics
from runner.otel.span_renderer import SpanRenderer
from runner.output.stdout_events import EventWriter
from runner.redaction import Redactor
from runner.session.types import SessionOutcome


@dataclass
class Traced:
    outcome: SessionOutcome
    spans: list[ReadableSpan]
    server: OfflineMessagesServer
    metrics: MetricsData | None
    stdout: str
    renderer: SpanRenderer

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name.startswith(prefix)]

    def one(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, f"{len(found)} spans named {name!r}: {[s.name for s in self.spans]}"
        return found[0]

    @property
    def root(self) -> ReadableSpan:
        return self.one("agentic-session")

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans if s.parent and s.parent.span_id == span.context.span_id]

    def otlp_bytes(self) -> bytes:
        return encode_spans(self.spans).SerializeToString()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]


RunTraced = Callable[..., Traced]


@pytest.fixture
def traced_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunTraced]:
    servers: list[OfflineMessagesServer] = []

    def run(
        script: list[Step],
        *,
        prompt: str | None = "Do the scripted task.",
        messages: list[str] | None = None,
        capture: bool = False,
        timeout_s: float = 60,
        env: dict[str, str] | None = None,
        jitter: Jitter | None = None,
    ) -> Traced:
        server = OfflineMessagesServer(script, jitter=jitter).start()
        servers.append(server)
        workspace = tmp_path / "workspace"
        workspace.mkdir(exist_ok=True)
        for name, value in {**offline_environment(server.url, tmp_path), **(env or {})}.items():
            monkeypatch.setenv(name, value)
        config = RunnerConfig(
            session_id="traced-session",
            prompt=prompt,
            interactive=messages is not None,
            timeout_s=timeout_s,
            workspace=workspace,
            allowed_tools=("Bash", "Agent", "Task"),
            tenancy=Tenancy(namespace="team-a", project="proj-x", user_id="user-7"),
        )
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        content = ContentPolicy(capture, Redactor.from_environ(os.environ))
        model = session_observer(
            tracer_provider.get_tracer("test"),
            content,
            metrics=GenAIMetrics(meter_provider.get_meter("test")),
        )
        renderer = model.renderer
        assert isinstance(renderer, SpanRenderer)
        stdin = None
        if messages is not None:
            lines = [json.dumps({"type": "user_message", "text": m}) for m in messages]
            stdin = io.StringIO("\n".join(lines) + "\n")
        out = io.StringIO()
        outcome = run_session(config, EventWriter(out), [model], stdin=stdin)
        return Traced(
            outcome=outcome,
            spans=list(exporter.get_finished_spans()),
            server=server,
            metrics=reader.get_metrics_data(),
            stdout=out.getvalue(),
            renderer=renderer,
        )

    yield run
    for server in servers:
        server.stop()
