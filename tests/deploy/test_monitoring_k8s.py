"""deploy/monitoring renders with kustomize: core objects validate against the Kubernetes
schemas, the PrometheusRule is the rules file, the dashboard ConfigMap is labelled for
Grafana's sidecar and holds the generated JSON, the budget exporter reads the budgets
ConfigMap as a directory and runs restricted, and the runner metrics keep their own labels."""

from __future__ import annotations

import json

import kubernetes_validate
import yaml

from tests.deploy.conftest import find, render
from tests.support.prometheus_stack import MONITORING, RULES

CRDS = {"PrometheusRule", "PodMonitor", "ServiceMonitor"}


def test_the_monitoring_kustomization_renders_and_is_consistent() -> None:
    objects = render(MONITORING)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        ["ConfigMap"] * 3 + ["Deployment", "Service", "PodMonitor", "ServiceMonitor"]
        + ["PrometheusRule"]
    )  # fmt: skip
    for obj in objects:
        if obj["kind"] not in CRDS:
            kubernetes_validate.validate(obj, "1.37", strict=True)
    rule = find(objects, "PrometheusRule", "claude-code-runner")
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    dashboards = find(objects, "ConfigMap", "claude-runner-dashboards")
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    (board,) = dashboards["data"].values()
    assert json.loads(board)["uid"] == "claude-runner-fleet"
    budgets = find(objects, "ConfigMap", "project-budgets")["data"]
    assert {k: float(v) for k, v in budgets.items()} == {"team-a": 50.0, "team-b": 20.0}
    deployment = find(objects, "Deployment", "claude-runner-budgets")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "--dir=/etc/project-budgets" in container["command"]
    volumes = {v["name"]: v["configMap"]["name"] for v in pod["volumes"]}
    assert volumes == {"app": "budget-exporter", "budgets": "project-budgets"}
    script = find(objects, "ConfigMap", "budget-exporter")["data"]["budget_exporter.py"]
    assert script == (MONITORING / "budget_exporter.py").read_text()
    service = find(objects, "Service", "claude-runner-budgets")
    monitor = find(objects, "ServiceMonitor", "claude-runner-budgets")
    assert monitor["spec"]["selector"]["matchLabels"] == service["metadata"]["labels"]
    pods = find(objects, "PodMonitor", "otel-collector")["spec"]["podMetricsEndpoints"]
    assert {e["port"]: e.get("honorLabels", False) for e in pods} == {
        "prometheus": True,
        "self-metrics": False,
    }
