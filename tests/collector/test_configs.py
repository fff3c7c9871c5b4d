"""Every shipped collector config loads in the collector we build: the files as they are, and
the ConfigMap each overlay renders, with the environment its workload provides."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.collector_process import CONFIGS
from tests.deploy.conftest import DEPLOY, render

# Values standing in for what Secrets and ConfigMaps hold in a cluster.
PLACEHOLDERS = {
    "LANGFUSE_AUTH": "cGstbGY6c2stbGY=",
    "LANGFUSE_BASE_URL": "https://cloud.langfuse.com",
    "TRACES_BACKEND_ENDPOINT": "tempo.observability.svc:4317",
    "K8S_CLUSTER_NAME": "c",
    "SAMPLER_HOSTNAME": "otelcol-sampler",
    "EXPENSIVE_SESSION_USD": "1.0",
    "SAMPLE_PERCENT": "10",
    "OTELCOL_REPLICA": "otelcol-sampler-0",
    "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc:5000",
    "MLFLOW_EXPERIMENT_ID": "1",
    **{
        f"TEAM_{t}_{k}": v
        for t in "AB"
        for k, v in (
            ("INGEST_TOKEN", "t"),
            ("LANGFUSE_AUTH", "a"),
            ("LANGFUSE_BASE_URL", "https://x"),
        )
    },
}
SHIPPED = sorted(p.name for p in CONFIGS.glob("config*.yaml"))


def _validate(binary: Path, config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "validate", f"--config={config}"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _needed(text: str) -> set[str]:
    """Variables a config reads without a default."""
    return set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", text))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_config_validates(otelcol: Path, name: str) -> None:
    config = CONFIGS / name
    env = {k: PLACEHOLDERS[k] for k in _needed(config.read_text())}
    done = _validate(otelcol, config, env)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_config_missing_a_component_is_refused(otelcol: Path, tmp_path: Path) -> None:
    """The check can fail: a component our distribution lacks (the contrib k8sattributes)."""
    text = (
        (CONFIGS / "config.local.yaml")
        .read_text()
        .replace("processors:\n  batch:", "processors:\n  k8sattributes: {}\n  batch:")
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = _validate(otelcol, bad, {})
    assert done.returncode != 0 and "k8sattributes" in done.stderr


def _workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet") and "otel" in o["metadata"]["name"]
    ]


@pytest.mark.parametrize(
    "overlay", ["collector", "collector-scaled", "collector-tenants", "collector-mlflow"]
)
def test_each_overlays_rendered_configmap_validates_with_its_workloads_env(
    otelcol: Path, tmp_path: Path, overlay: str
) -> None:
    objects = render(DEPLOY / "k8s" / "overlays" / overlay)
    (configmap,) = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("otel-collector-config")
    ]
    for name, text in configmap["data"].items():
        (tmp_path / name).write_text(text)
    checked = 0
    for workload in _workloads(objects):
        container = workload["spec"]["template"]["spec"]["containers"][0]
        (arg,) = [a for a in container["args"] if a.startswith("--config=/conf/")]
        config = tmp_path / arg.removeprefix("--config=/conf/")
        provided = {e["name"] for e in container.get("env", [])}
        missing = _needed(config.read_text()) - provided
        assert not missing, f"{workload['metadata']['name']}: {sorted(missing)} not provided"
        env = {
            e["name"]: e["value"] if "value" in e else PLACEHOLDERS.get(e["name"], "x")
            for e in container.get("env", [])
        }
        done = _validate(otelcol, config, env)
        assert done.returncode == 0, (workload["metadata"]["name"], done.stderr[-2000:])
        checked += 1
    expected = {
        "collector": 1,
        "collector-scaled": 2,
        "collector-tenants": 1,
        "collector-mlflow": 1,
    }
    assert checked == expected[overlay]


def test_our_trace_id_routing_exporter_passes_its_go_tests(otelcol: Path) -> None:
    """scripts/otelcol compiles the tests with the collector (minutes on a cold Go cache: the
    build step's time, not this test's); this runs them."""
    compiled = otelcol.parent / "traceidrouting.test"
    assert compiled.exists(), "scripts/otelcol did not compile the exporter's Go tests"
    done = subprocess.run(
        [str(compiled), "-test.count=1"],
        cwd=CONFIGS / "traceidrouting",
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip().endswith("PASS")
