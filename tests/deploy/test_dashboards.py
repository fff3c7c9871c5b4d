"""The dashboard is code: the checked-in JSON is deploy/monitoring/generate.py's output (built
with grafana-foundation-sdk), every panel queries the chosen Prometheus, and the panels the
fleet view needs are there. That each panel's query returns series after real sessions is
tests/collector/test_prometheus_e2e.py."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.dashboards import DASHBOARDS, panel_queries
from tests.support.prometheus_stack import MONITORING


def test_the_checked_in_dashboard_and_prometheusrule_are_the_generators_output() -> None:
    done = subprocess.run(
        [sys.executable, str(MONITORING / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_panel_queries_the_chosen_prometheus_and_the_fleet_view_is_complete() -> None:
    (path,) = DASHBOARDS.glob("*.json")
    board = json.loads(path.read_text())
    assert board["uid"] == "claude-runner-fleet"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["project"]["includeAll"] is True
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert len({p["title"] for p in panels}) == len(panels) == 22
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == [
        "Cost",
        "Sessions",
        "Latency",
        "Cache and context",
        "Tools",
        "Telemetry health (the collector's own metrics, :8888)",
    ]
    text = " ".join(e for _, exprs in panel_queries() for e in exprs)
    for needed in (
        "by (agentic_session_project)",  # cost by project
        "by (gen_ai_request_model)",  # cost by model
        "by (user_id)",  # cost by user
        "agentic_session_status",  # sessions by outcome, budget stops
        "gen_ai_client_operation_duration_seconds_bucket",
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
        "agentic_session_cache_savings_usd_total",
        "agentic_session_context_utilization_bucket",
        'agentic_session_tool_permission_decision="reject"',
        "otelcol_receiver_accepted_spans",
        "otelcol_receiver_refused_spans",
        "otelcol_exporter_send_failed_spans",
        "otelcol_exporter_enqueue_failed_spans",
        "otelcol_exporter_queue_size",
        "claude_runner_project_budget_usd",
    ):
        assert needed in text, needed
