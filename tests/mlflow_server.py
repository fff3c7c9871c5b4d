"""A real MLflow tracking server as a test fixture, and MLflow's own client to read it back.

The server runs from the venv that scripts/mlflow-server installs (mlflow 3.17.2, locked in
requirements/mlflow.txt, cached per lock hash outside the repository): `mlflow server` on a
SQLite store in a temporary directory, one uvicorn worker on a free 127.0.0.1 port. Measured on
2 busy cores: /health answers after 8-45 s, and a worker spends ~7 s over its first real OTLP
request (imports), so `start()` warms it with one export before any test relies on timing.

`read_back()` runs tests/mlflow/readback.py with the MLflow venv's python (MlflowClient, the
trace-metrics API) and returns its JSON: the runner's venv never imports mlflow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.collector_process import free_port

ROOT = Path(__file__).parents[1]
READBACK = ROOT / "tests" / "mlflow" / "readback.py"
EXPERIMENT_HEADER = "x-mlflow-experiment-id"

# No usage telemetry from the server, no background job runner (online scoring, archival):
# neither is under test, and the job runner is a second ~300 MB process on 2 cores.
SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}


def install_env() -> Path:
    """The MLflow venv's path; raises with the installer's own words when it cannot be made."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "mlflow-server")], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"scripts/mlflow-server failed ({done.returncode}): {done.stderr[-3000:]}"
        )
    return Path(done.stdout.strip().splitlines()[-1])


class MlflowServer:
    """One `mlflow server` process with a SQLite store under `workdir`."""

    def __init__(self, env_path: Path, workdir: Path) -> None:
        self.env_path = env_path
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "mlflow-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None
        self.warmup_s: float | None = None

    @property
    def python(self) -> Path:
        return self.env_path / "bin" / "python"

    def start(self, timeout_s: float = 180) -> MlflowServer:
        started = time.monotonic()
        command = [
            str(self.env_path / "bin" / "mlflow"),
            "server",
            f"--backend-store-uri=sqlite:///{self.workdir / 'mlflow.db'}",
            f"--artifacts-destination={self.workdir / 'artifacts'}",
            "--host=127.0.0.1",
            f"--port={self.port}",
            "--workers=1",
        ]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.workdir), **SERVER_ENV}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # uvicorn's worker is a child: stop the whole group
            )
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        self.startup_s = time.monotonic() - started
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"mlflow server not healthy in {timeout_s}s: {self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def warm(self) -> None:
        """One small trace exported and read back: the worker imports its translation and pricing
        code and the client side its modules, so later requests take their steady time."""
        started = time.monotonic()
        experiment_id = self.create_experiment(f"warm-up-{time.time_ns()}")
        provider = TracerProvider()
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        tracer = provider.get_tracer("warm-up")
        with tracer.start_as_current_span("warm-up"):
            attributes = {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 1,
            }
            with tracer.start_as_current_span("chat", attributes=attributes):
                pass
        self.export(experiment_id, memory.get_finished_spans())
        self.read_back(experiment_id)
        provider.shutdown()
        self.warmup_s = time.monotonic() - started

    def rest(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            result: dict[str, Any] = json.loads(response.read() or b"{}")
            return result

    def create_experiment(self, name: str) -> str:
        created = self.rest("/api/2.0/mlflow/experiments/create", {"name": name})
        return str(created["experiment_id"])

    def exporter(self, experiment_id: str, timeout_s: float = 60) -> OTLPSpanExporter:
        """OTLP/HTTP protobuf to /v1/traces, as the runner exports (the SDK's own exporter)."""
        return OTLPSpanExporter(
            endpoint=f"{self.url}/v1/traces",
            headers={EXPERIMENT_HEADER: experiment_id},
            timeout=timeout_s,
        )

    def export(self, experiment_id: str, spans: Sequence[ReadableSpan]) -> None:
        exporter = self.exporter(experiment_id)
        try:
            result = exporter.export(spans)
        finally:
            exporter.shutdown()
        if result is not SpanExportResult.SUCCESS:
            raise RuntimeError(f"export to MLflow failed: {self.log.read_text()[-3000:]}")

    def read_back(
        self,
        experiment_id: str,
        trace_ids: Sequence[str] | None = None,
        filters: Sequence[str] = (),
        timeout_s: float = 120,
    ) -> dict[str, Any]:
        """MLflow's own client's view (tests/mlflow/readback.py), as JSON."""
        request = {
            "tracking_uri": self.url,
            "experiment_id": experiment_id,
            "trace_ids": list(trace_ids or []),
            "filters": list(filters),
        }
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.workdir), **SERVER_ENV}
        done = subprocess.run(
            [str(self.python), "-P", str(READBACK), json.dumps(request)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
        )
        if done.returncode != 0:
            raise RuntimeError(f"readback failed: {done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def trace_id_of(otel_trace_id: int) -> str:
    """MLflow's trace id for an OTel trace id (`tr-` + 32 hex digits)."""
    return f"tr-{otel_trace_id:032x}"
