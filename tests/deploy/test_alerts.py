"""The shipped alert rules pass `promtool check rules` and their unit tests (`promtool test
rules`: every alert has a case), the PrometheusRule carries exactly the same groups, and the
budget exporter serves the ConfigMap's budgets and names a bad entry."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.support.prometheus_stack import MONITORING, RULES, binary, start_budget_exporter

TESTS = RULES.with_name("claude-runner.rules.test.yaml")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("promtool"), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.prometheus
def test_promtool_checks_the_rules() -> None:
    done = _promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 10 rules found" in done.stdout


@pytest.mark.prometheus
def test_every_alert_has_a_promtool_unit_test_and_they_pass() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    tested = {
        case["alertname"]
        for test in yaml.safe_load(TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert len(alerts) == 8 and alerts == tested
    done = _promtool("test", "rules", str(TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_runbook_entry() -> None:
    troubleshooting = (MONITORING.parents[1] / "docs" / "troubleshooting.md").read_text()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                anchor = rule["annotations"]["runbook"].split("#", 1)[1]
                assert f'<a id="{anchor}"></a>' in troubleshooting, anchor


def test_the_prometheusrule_holds_the_same_groups_as_the_rules_file() -> None:
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["spec"] == yaml.safe_load(RULES.read_text())


def test_the_budget_exporter_serves_each_project_and_counts_bad_entries(tmp_path: Path) -> None:
    process, target = start_budget_exporter(
        tmp_path, {"team-a": "50", "team-b": "12.5\n", "team-c": "lots", "..data": "x"}
    )
    try:
        with urllib.request.urlopen(f"http://{target}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        process.stop()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert samples == [
        'claude_runner_project_budget_usd{project="team-a"} 50',
        'claude_runner_project_budget_usd{project="team-b"} 12.5',
        "claude_runner_project_budget_errors 1",
    ]
    assert "project team-c: 'lots' is not a budget in USD" in process.log.read_text()
