"""Real sessions of two projects at once through our collector, for the Prometheus and
dashboard tests: successes with tool calls and cache reads, a failing tool, a tool the
permission settings refuse (seen with RUNNER_CLI_TELEMETRY), and a budget stop."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.offline import Usage, bash, demo_script, text
from tests.e2e.harness import Finished, Runner
from tests.support.backends import TELEMETRY_ON
from tests.support.langfuse_projects import basic

WORK = [
    bash("echo one", Usage(300, 40, 0, 1200), say="First."),
    bash("exit 3", Usage(60, 12, 1200)),
    text("Done.", Usage(80, 20, 1260, 10)),
]
REFUSED = [bash("touch denied.txt", Usage(50, 10)), text("It was refused.", Usage(60, 12, 50))]


@dataclass(frozen=True)
class Planned:
    session_id: str
    project: str
    script: list[Any]
    env: dict[str, str]
    exit_code: int


PLAN = (
    Planned("a-1", "team-a", WORK, {}, 0),
    Planned("a-2", "team-a", WORK, {}, 0),
    Planned("b-1", "team-b", WORK, {}, 0),
    Planned("b-2", "team-b", REFUSED, {"RUNNER_CLI_TELEMETRY": "true", "ALLOWED_TOOLS": "Read"}, 0),
    Planned("b-3", "team-b", list(demo_script().steps), {"MAX_BUDGET_USD": "0.005"}, 6),
)


def run_fleet(
    root: Path, endpoint: str, keys: dict[str, tuple[str, str]] | None = None
) -> list[Finished]:
    """Every planned session at once; each its own HOME, workspace and service.instance.id
    (the runner pod's identity in Kubernetes, deploy/k8s/base/job.yaml)."""
    running = []
    for plan in PLAN:
        home = root / plan.session_id
        home.mkdir(parents=True)
        auth = {}
        if keys is not None:
            value = urllib.parse.quote(basic(*keys[plan.project]))
            auth["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = f"Authorization={value}"
        env = {
            **TELEMETRY_ON,
            **auth,
            "SESSION_ID": plan.session_id,
            "PROJECT_NAME": plan.project,
            "NAMESPACE": f"ns-{plan.project}",
            "USER_ID": f"user-{plan.session_id}",
            "RUNNER_METRICS_USER_LABEL": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "500",
            "OTEL_RESOURCE_ATTRIBUTES": f"service.instance.id=pod-{plan.session_id}",
            **plan.env,
        }
        running.append(Runner(home).start(plan.script, **env))
    done = [r.finish(timeout=120) for r in running]
    codes = [d.code for d in done]
    assert codes == [p.exit_code for p in PLAN], [d.stderr[-800:] for d in done]
    return done
