#!/usr/bin/env python3
"""Serves each platform project's daily budget as a Prometheus gauge, from a ConfigMap.

Why: the over-budget alert (rules/claude-runner.rules.yaml) compares each project's 24-hour
spend with `claude_runner_project_budget_usd{project=...}`; budgets change per project, the
rule never does. The ConfigMap `project-budgets` is mounted as a directory, one file per
project (the key is the project, the value its daily budget in USD); the directory is read at
every scrape, so a `kubectl edit configmap project-budgets` takes effect within the kubelet's
sync (about a minute) without a restart. Standard library only: it runs on any Python 3.11+
image. An entry that is not a non-negative number is skipped and counted in
`claude_runner_project_budget_errors`, and named on stderr.

    budget_exporter.py --dir /etc/project-budgets --listen 0.0.0.0:9464
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

METRIC = "claude_runner_project_budget_usd"
ERRORS = "claude_runner_project_budget_errors"
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
"""A ConfigMap key; files such as ..data (the kubelet's own) are not projects."""


def read_budgets(directory: Path) -> tuple[dict[str, float], list[str]]:
    """(project → budget USD, one message per entry skipped)."""
    budgets: dict[str, float] = {}
    errors: list[str] = []
    if not directory.is_dir():
        return budgets, [f"{directory} is not a directory: mount the project-budgets ConfigMap"]
    for path in sorted(directory.iterdir()):
        if not _PROJECT.match(path.name) or not path.is_file():
            continue
        raw = path.read_text(encoding="utf-8").strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            errors.append(f"project {path.name}: {raw[:40]!r} is not a budget in USD (e.g. 50)")
            continue
        budgets[path.name] = value
    return budgets, errors


def exposition(budgets: dict[str, float], errors: int) -> str:
    """The Prometheus text format (0.0.4)."""
    lines = [
        f"# HELP {METRIC} Daily budget of each project in USD (ConfigMap project-budgets).",
        f"# TYPE {METRIC} gauge",
        *(f'{METRIC}{{project="{name}"}} {value:g}' for name, value in sorted(budgets.items())),
        f"# HELP {ERRORS} Entries of project-budgets skipped: not a number of USD.",
        f"# TYPE {ERRORS} gauge",
        f"{ERRORS} {errors}",
    ]
    return "\n".join(lines) + "\n"


def serve(directory: Path, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self.send_error(404)
                return
            budgets, errors = read_budgets(directory)
            for message in errors:
                print(f"budget_exporter: {message}", file=sys.stderr, flush=True)
            body = exposition(budgets, len(errors)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/etc/project-budgets"))
    parser.add_argument("--listen", default="0.0.0.0:9464", help="host:port")
    args = parser.parse_args(argv)
    host, _, port = str(args.listen).rpartition(":")
    server = serve(args.dir, host, int(port))
    print(f"budget_exporter: serving {args.dir} on {args.listen}/metrics", file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
