"""A real Prometheus, Alertmanager and the budget exporter on 127.0.0.1 for the deploy tests,
with a webhook receiver standing in for the on-call tool. Debian's packages (`apt-get install
prometheus prometheus-alertmanager`, as .ci/run and scripts/test do): tests that need them skip
where the binaries are missing, except under CI, where that is a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collector_process import free_port

ROOT = Path(__file__).parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = MONITORING / "rules" / "claude-runner.rules.yaml"


def binary(*names: str) -> str:
    """The first of `names` on PATH; skips the test (fails under CI) when there is none."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = (
        f"{' or '.join(names)} not installed: apt-get install prometheus prometheus-alertmanager"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {timeout_s}s: {log.read_text()[-3000:]}")


class Webhook:
    """Alertmanager's webhook receiver: keeps every alert it is sent."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.alerts.extend(json.loads(body).get("alerts", []))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/alerts"

    def firing(self, alertname: str) -> list[dict[str, Any]]:
        return [
            a
            for a in self.alerts
            if a["labels"].get("alertname") == alertname and a.get("status") == "firing"
        ]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class Process:
    """A started server process; `stop` ends it (and only it)."""

    def __init__(self, argv: list[str], workdir: Path, ready_url: str) -> None:
        self.log = workdir / "process.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            _wait_ready(ready_url, self.proc, self.log)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_alertmanager(workdir: Path, webhook: Webhook) -> tuple[Process, str]:
    """Routes every alert to the webhook at once (group_wait 1 s)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname", "project"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": webhook.url}]}],
    }
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        binary("prometheus-alertmanager", "alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    return Process(argv, workdir, f"{url}/-/ready"), url


def fast_rules(workdir: Path, interval: str = "1s") -> Path:
    """The shipped rules with every group evaluated each `interval` (a test cannot wait 30 s)."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        group["interval"] = interval
    path = workdir / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def start_prometheus(
    workdir: Path, targets: dict[str, str], alertmanager: str, rules: Path
) -> tuple[Process, str]:
    """Scrapes each `job → host:port` every second (honor_labels: the runner metrics carry
    their own job and instance), evaluates `rules` and stores exemplars."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [alertmanager.removeprefix("http://")]}]}
            ]
        },
        "scrape_configs": [
            {"job_name": job, "honor_labels": True, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        binary("prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--enable-feature=exemplar-storage",
    ]
    url = f"http://127.0.0.1:{port}"
    return Process(argv, workdir, f"{url}/-/ready"), url


def start_budget_exporter(workdir: Path, budgets: dict[str, str]) -> tuple[Process, str]:
    """deploy/monitoring/budget_exporter.py over a directory laid out like the mounted
    ConfigMap (a file per project)."""
    directory = workdir / "project-budgets"
    directory.mkdir(parents=True, exist_ok=True)
    for project, value in budgets.items():
        (directory / project).write_text(value)
    port = free_port()
    argv = [
        sys.executable,
        str(MONITORING / "budget_exporter.py"),
        f"--dir={directory}",
        f"--listen=127.0.0.1:{port}",
    ]
    return Process(argv, workdir, f"http://127.0.0.1:{port}/metrics"), f"127.0.0.1:{port}"


def query(prometheus: str, expr: str, path: str = "query", **params: str) -> list[Any]:
    """An instant query's result (a list of series), or another API's `data` (`path`, e.g.
    `query_exemplars` with start and end); raises on a PromQL error."""
    url = f"{prometheus}/api/v1/{path}?" + urllib.parse.urlencode({"query": expr, **params})
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"] if path == "query" else answer["data"])
