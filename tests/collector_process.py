"""Our collector distribution as a test fixture: built by scripts/otelcol (once per manifest,
cached), run on 127.0.0.1 ports with a shipped config, stopped or SIGKILLed by the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]
CONFIGS = ROOT / "deploy" / "otel-collector"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_collector() -> Path:
    """The binary's path; raises with the build's own words when it cannot be built."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "otelcol")], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/otelcol failed ({done.returncode}): {done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


class Collector:
    """One collector process. Ports are free 127.0.0.1 ports, given to the config through the
    OTELCOL_* variables it reads (with production defaults when unset)."""

    def __init__(self, binary: Path, config: str, workdir: Path, env: dict[str, str]) -> None:
        self.binary = binary
        self.config = CONFIGS / config
        self.workdir = workdir
        self.http_port, self.grpc_port = free_port(), free_port()
        self.health_port, self.prometheus_port = free_port(), free_port()
        self.telemetry_port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(workdir),
            "OTELCOL_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{self.http_port}",
            "OTELCOL_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{self.grpc_port}",
            "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{self.health_port}",
            "OTELCOL_ZPAGES_ENDPOINT": f"127.0.0.1:{free_port()}",
            "OTELCOL_PROMETHEUS_ENDPOINT": f"127.0.0.1:{self.prometheus_port}",
            "OTELCOL_TELEMETRY_HOST": "127.0.0.1",
            "OTELCOL_TELEMETRY_PORT": str(self.telemetry_port),
            "OTELCOL_QUEUE_DIR": str(workdir / "queue"),
            "OTELCOL_BATCH_TIMEOUT": "200ms",
            "K8S_CLUSTER_NAME": "test-cluster",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "collector.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    def validate(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), "validate", f"--config={self.config}"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self, timeout_s: float = 30) -> Collector:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), f"--config={self.config}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log.read_text()[-3000:]}")
            try:
                url = f"http://127.0.0.1:{self.health_port}/"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"collector not healthy in {timeout_s}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def scrape(self) -> str:
        url = f"http://127.0.0.1:{self.prometheus_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def counter(self, name: str, label: str = "") -> float:
        """One of the collector's own metrics (config.yaml's service telemetry), e.g.
        `otelcol_receiver_refused_spans`, summed over the series whose labels contain `label`
        (e.g. `exporter="otlp_http/langfuse"`); 0 when absent (a counter not yet counted)."""
        url = f"http://127.0.0.1:{self.telemetry_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if series.split("{", 1)[0] == name and label in series:
                total += float(value)
        return total

    def usage(self) -> tuple[float, float, float]:
        """(current RSS MiB, peak RSS MiB, CPU seconds used) of the running process."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = {
            line.split(":")[0]: int(line.split()[1])
            for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))
        }
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024, cpu


def wait_for(condition: object, timeout_s: float = 30, step_s: float = 0.1) -> bool:
    """Poll `condition()` until true or the timeout (bounded; never raises)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(step_s)
    return bool(condition())  # type: ignore[operator]
