"""The collector-projects overlay: the collector runs config.projects.yaml and holds no
Langfuse key; each Job sends its own project's Langfuse auth with its traces, from its
namespace's langfuse-keys Secret; every session pod is its own metrics identity."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from tests.deploy.conftest import DEPLOY, container, find, render


def _env(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list(container(obj)["env"]) if obj["kind"] == "Job" else []


def test_the_projects_overlay_forwards_each_jobs_own_keys_and_the_collector_holds_none() -> None:
    objects = render(DEPLOY / "k8s" / "overlays" / "collector-projects")
    for obj in objects:
        kubernetes_validate.validate(obj, "1.37", strict=True)
    collector = find(objects, "Deployment", "otel-collector")
    (otelcol,) = collector["spec"]["template"]["spec"]["containers"]
    assert otelcol["args"] == ["--config=/conf/config.projects.yaml"]
    assert "langfuse-keys" not in str(otelcol.get("env", []))
    (config,) = [
        o["data"]
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("otel-collector-config")
    ]
    assert "projectauth" in config["config.projects.yaml"]
    job = find(objects, "Job")
    env = {e["name"]: e for e in _env(job)}
    headers = env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"]["valueFrom"]["secretKeyRef"]
    assert headers == {"name": "langfuse-keys", "key": "otlp-headers"}
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in env  # metrics carry no credential
    assert not {"LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"} & env.keys()
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector:4318"


def test_each_session_pod_is_its_own_metrics_identity() -> None:
    for overlay in ("base", "overlays/collector", "overlays/collector-projects"):
        job = find(render(DEPLOY / "k8s" / overlay), "Job")
        names = [e["name"] for e in _env(job)]
        attributes = next(e for e in _env(job) if e["name"] == "OTEL_RESOURCE_ATTRIBUTES")
        assert "service.instance.id=$(POD_NAME)" in attributes["value"]
        # Kubernetes expands $(POD_NAME) only from a variable defined earlier in the list.
        assert names.index("POD_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES")
