"""deploy/k8s renders, validates against the Kubernetes schemas, meets Pod Security
"restricted", and sets exactly the variables the runner reads."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from runner import environment_variables as ev
from runner.otel.export.environment_variables import TELEMETRY_VARIABLES
from runner.otel.export.pipeline import DOWNWARD_API
from tests.deploy.conftest import OVERLAYS, container, find

KNOWN = set(ev.CONTRACT) | set(TELEMETRY_VARIABLES) | set(DOWNWARD_API)


@pytest.mark.parametrize("overlay", [*OVERLAYS, "base"])
def test_every_rendered_object_validates_against_the_kubernetes_schemas(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    for obj in rendered[overlay]:
        kubernetes_validate.validate(obj, "1.37", strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_session_pod_meets_pod_security_restricted(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    job = find(rendered[overlay], "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert "hostNetwork" not in pod and "hostPID" not in pod
    c = container(job)["securityContext"]
    assert c["allowPrivilegeEscalation"] is False
    assert c["readOnlyRootFilesystem"] is True
    assert c["capabilities"]["drop"] == ["ALL"]
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["activeDeadlineSeconds"] > 3600  # TIMEOUT fires first, cleanly
    resources = container(job)["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
        resources["limits"]
    )
    mounts = {m["mountPath"] for m in container(job)["volumeMounts"]}
    assert {"/home/runner", "/tmp", "/workspace"} <= mounts
    sa = find(rendered[overlay], "ServiceAccount", "claude-code-runner")
    assert sa["automountServiceAccountToken"] is False


def _env(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(job)["env"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_job_sets_only_variables_the_runner_reads(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    env = _env(find(rendered[overlay], "Job"))
    unknown = set(env) - KNOWN
    assert not unknown, f"the Job sets variables the runner does not read: {unknown}"
    for required in (ev.SESSION_ID, ev.PROMPT, ev.WORKSPACE_PATH, ev.ANTHROPIC_API_KEY):
        assert required in env


def test_langfuse_secret_and_config_references_are_optional(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    env = _env(find(rendered["langfuse-direct"], "Job"))
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "langfuse-keys" and ref["optional"] is True
    for name in ("LANGFUSE_ENABLED", "LANGFUSE_BASE_URL", "OTEL_SDK_DISABLED"):
        ref = env[name]["valueFrom"]["configMapKeyRef"]
        assert ref["name"] == "langfuse-config" and ref["optional"] is True
    config = find(rendered["langfuse-direct"], "ConfigMap", "langfuse-config")["data"]
    assert config["LANGFUSE_ENABLED"] == "true"


def test_in_the_collector_topology_sessions_hold_no_langfuse_keys(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["collector"]
    env = _env(find(objects, "Job"))
    assert "LANGFUSE_SECRET_KEY" not in env and "LANGFUSE_PUBLIC_KEY" not in env
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector:4318"
    collector = find(objects, "Deployment", "otel-collector")
    assert collector["spec"]["replicas"] == 2
    c = container(collector)
    langfuse_auth = next(e for e in c["env"] if e["name"] == "LANGFUSE_AUTH")
    assert langfuse_auth["valueFrom"]["secretKeyRef"] == {
        "name": "langfuse-keys",
        "key": "basic-auth",
    }
    assert c["image"].startswith("claude-code-runner-otelcol:")  # our distribution
    assert c["readinessProbe"]["httpGet"]["port"] == "health"
    ports = {p["port"] for p in find(objects, "Service", "otel-collector")["spec"]["ports"]}
    assert {4317, 4318} <= ports
    assert find(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    volume = next(v for v in collector["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    find(objects, "ConfigMap", volume["configMap"]["name"])  # the generated config exists


def test_network_policy_allows_only_dns_https_and_the_collector(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for overlay in OVERLAYS:
        policy = find(rendered[overlay], "NetworkPolicy", "claude-code-runner-session")
        assert policy["spec"]["ingress"] == []
        ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
        collector = {
            "collector": {4317, 4318},
            "collector-scaled": {4317, 4318},
            "collector-mlflow": {4317, 4318},
            "collector-projects": {4317, 4318},
            "collector-tenants": {14317, 14318},  # team-a's receiver only
        }
        assert ports == {53, 443} | collector.get(overlay, set())


def test_the_mlflow_topology_fans_traces_out_to_langfuse_and_mlflow_from_the_collector(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["collector-mlflow"]
    c = container(find(objects, "Deployment", "otel-collector"))
    assert c["args"] == ["--config=/conf/config.mlflow.yaml"]
    env = {e["name"]: e for e in c["env"]}
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"):
        assert env[name]["valueFrom"]["configMapKeyRef"] == {"name": "langfuse-config", "key": name}
    assert "TRACES_BACKEND_ENDPOINT" not in env
    assert env["LANGFUSE_AUTH"]["valueFrom"]["secretKeyRef"]["name"] == "langfuse-keys"
    volume = next(
        v
        for v in find(objects, "Deployment", "otel-collector")["spec"]["template"]["spec"][
            "volumes"
        ]
        if "configMap" in v
    )
    configs = find(objects, "ConfigMap", volume["configMap"]["name"])["data"]
    pipelines = yaml.safe_load(configs["config.mlflow.yaml"])["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp_http/langfuse", "otlp_http/mlflow"]
    assert "otlp_http/mlflow" not in pipelines["metrics"]["exporters"]  # MLflow: traces only
    data = find(objects, "ConfigMap", "langfuse-config")["data"]
    assert data["MLFLOW_TRACKING_URI"].startswith("http")
    job = _env(find(objects, "Job"))  # sessions: the collector only, no backend credentials
    assert job["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector:4318"
    assert not {"LANGFUSE_SECRET_KEY", "MLFLOW_TRACKING_TOKEN", "OBSERVABILITY_BACKENDS"} & set(job)


def test_the_scaled_topology_routes_by_trace_id_to_a_stateful_sampling_tier(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["collector-scaled"]
    front = container(find(objects, "Deployment", "otel-collector"))
    assert front["args"] == ["--config=/conf/config.front.yaml"]
    assert {e["name"] for e in front["env"]} == {"SAMPLER_HOSTNAME", "GOMEMLIMIT"}  # no keys
    sampler = find(objects, "StatefulSet", "otelcol-sampler")
    assert sampler["spec"]["serviceName"] == "otelcol-sampler"
    assert container(sampler)["args"] == ["--config=/conf/config.sampling.yaml"]
    assert find(objects, "Service", "otelcol-sampler")["spec"]["clusterIP"] == "None"
    # The front tier finds the replicas from the headless Service: no list to keep in step.
    config = find(objects, "ConfigMap", "langfuse-config")["data"]
    assert config["SAMPLER_HOSTNAME"] == "otelcol-sampler"
    assert "SAMPLER_ENDPOINTS" not in config


def test_the_tenant_topology_takes_each_tenants_credentials_from_its_own_secret(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["collector-tenants"]
    c = container(find(objects, "Deployment", "otel-collector"))
    assert c["args"] == ["--config=/conf/config.tenants.yaml"]
    secrets = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in c["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert secrets["TEAM_A_INGEST_TOKEN"] == "otel-ingest-team-a"
    assert secrets["TEAM_A_LANGFUSE_AUTH"] == "langfuse-keys-team-a"
    assert secrets["TEAM_B_LANGFUSE_AUTH"] == "langfuse-keys-team-b"
    job = _env(find(objects, "Job"))
    assert job["OTEL_EXPORTER_OTLP_HEADERS"]["valueFrom"]["secretKeyRef"]["name"] == (
        "otel-ingest-team-a"
    )


def test_the_secret_example_holds_placeholders_only() -> None:
    from tests.deploy.conftest import DEPLOY

    text = (DEPLOY / "k8s" / "secret.example.yaml").read_text()
    assert "REPLACE_ME" in text
    for line in text.splitlines():
        if line.strip().startswith(("public-key:", "secret-key:", "api-key:")):
            assert "REPLACE_ME" in line
