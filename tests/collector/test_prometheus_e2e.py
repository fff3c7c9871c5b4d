"""End to end on real parts: real sessions of two projects through our collector build's
Prometheus exporter, a real Prometheus scraping it (1 s) and evaluating the shipped rules (1 s),
the budgets from deploy/monitoring/budget_exporter.py, a real Alertmanager routing to a local
webhook. The over-budget project's alert arrives with its labels, the other's does not; every
dashboard panel's query returns series from that Prometheus; the trace id rides as exemplar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.collector.conftest import StartCollector
from tests.collector_process import wait_for
from tests.support.dashboards import panel_queries
from tests.support.fleet_sessions import PLAN, run_fleet
from tests.support.langfuse_projects import LangfuseProjects
from tests.support.prometheus_stack import (
    Webhook,
    fast_rules,
    query,
    start_alertmanager,
    start_budget_exporter,
    start_prometheus,
)

KEYS = {"team-a": ("pk-lf-a", "sk-lf-a-0001"), "team-b": ("pk-lf-b", "sk-lf-b-0002")}
BUDGETS = {"team-a": "0.001", "team-b": "100"}  # team-a's sessions cost more than 0.001 USD


@pytest.mark.prometheus
@pytest.mark.e2e
def test_budget_alert_end_to_end_and_every_dashboard_panel_has_series(
    collector: StartCollector, tmp_path: Path
) -> None:
    started: list[Any] = []
    webhook = Webhook()
    langfuse = LangfuseProjects(KEYS)
    try:
        otelcol = collector("config.projects.yaml", LANGFUSE_BASE_URL=langfuse.url)
        budgets, budgets_target = start_budget_exporter(tmp_path / "budgets", BUDGETS)
        started.append(budgets)
        alertmanager, alertmanager_url = start_alertmanager(tmp_path / "am", webhook)
        started.append(alertmanager)
        prometheus, url = start_prometheus(
            tmp_path / "prom",
            {
                "claude-runner-metrics": f"127.0.0.1:{otelcol.prometheus_port}",
                "otel-collector": f"127.0.0.1:{otelcol.telemetry_port}",
                "claude-runner-budgets": budgets_target,
            },
            alertmanager_url,
            fast_rules(tmp_path),
        )
        started.append(prometheus)
        done = run_fleet(tmp_path / "sessions", otelcol.http_url, KEYS)
        cost = {
            project: sum(
                d.end["total_cost_usd"]
                for p, d in zip(PLAN, done, strict=True)
                if p.project == project
            )
            for project in KEYS
        }
        assert wait_for(lambda: webhook.firing("ClaudeRunnerProjectOverBudget"), timeout_s=90)
        time.sleep(3)  # later evaluations: team-b must still not fire
        spend = {
            s["metric"]["project"]: float(s["value"][1])
            for s in query(url, "project:agentic_session_cost_usd:sum_24h")
        }
        panels = {title: [(e, query(url, e)) for e in exprs] for title, exprs in panel_queries()}
        now = time.time()
        exemplars = query(
            url,
            "agentic_session_cost_usd_total",
            "query_exemplars",
            start=f"{now - 600:.0f}",
            end=f"{now + 60:.0f}",
        )
    finally:
        for process in reversed(started):
            process.stop()
        webhook.stop()
        langfuse.stop()
    # The spend Prometheus sees per project is the sessions' own (stdout) cost.
    assert spend.keys() == {"team-a", "team-b"}
    for project in KEYS:
        assert abs(spend[project] - cost[project]) < 1e-9, (spend, cost)
    alerts = webhook.firing("ClaudeRunnerProjectOverBudget")
    assert {a["labels"]["project"] for a in alerts} == {"team-a"}
    labels = alerts[0]["labels"]
    assert (
        labels["severity"] == "warning" and labels["alertname"] == "ClaudeRunnerProjectOverBudget"
    )
    assert "team-a" in alerts[0]["annotations"]["summary"]
    assert alerts[0]["annotations"]["runbook"].startswith("docs/troubleshooting.md#")
    empty = {title: e for title, results in panels.items() for e, series in results if not series}
    assert not empty, empty

    def values(title: str, label: str, index: int = 0) -> dict[str, float]:
        _, series = panels[f"claude-code-runner fleet / {title}"][index]
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in series}

    assert values("Sessions by outcome", "agentic_session_status") == {
        "success": 4,
        "budget_exceeded": 1,
    }
    assert values("Budget stops", "agentic_session_project") == {"team-b": 1}
    assert values("Tool errors and permission denials", "agentic_session_project", 1) == {
        "team-b": 1
    }
    by_project = values("Spend by project", "agentic_session_project")
    assert by_project.keys() == cost.keys()
    assert all(abs(by_project[p] - cost[p]) < 1e-9 for p in cost)
    counts = {title: [len(series) for _, series in results] for title, results in panels.items()}
    print(json.dumps(counts, indent=1))  # the note's per-panel series counts (pytest -s)
    traced = {e["labels"].get("trace_id") for group in exemplars for e in group["exemplars"]}
    assert traced and all(t and len(t) == 32 for t in traced)
