"""The Dockerfile is hadolint-clean and matches the manifests; the collector config names only
defined components that exist in the contrib distribution, with every ${env:...} provided."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, ROOT, container, find, tool

DOCKERFILE = ROOT / "Dockerfile"
SECTIONS = ("extensions", "receivers", "processors", "exporters")


@pytest.mark.parametrize(
    "dockerfile", [DOCKERFILE, DEPLOY / "otel-collector" / "Dockerfile"], ids=["runner", "otelcol"]
)
def test_dockerfiles_are_hadolint_clean(dockerfile: Path) -> None:
    done = subprocess.run([tool("hadolint"), str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_collector_image_is_static_and_non_root() -> None:
    text = (DEPLOY / "otel-collector" / "Dockerfile").read_text()
    final = text[text.rindex("\nFROM ") :]
    assert "distroless/static" in final and "USER 65532:65532" in final
    assert "CGO_ENABLED=0" in text  # a static binary: nothing from the build stage's libc
    assert "builder-config.yaml" in text


def _final_stage() -> list[str]:
    lines = DOCKERFILE.read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[start:]


def _env_of(stage: list[str]) -> dict[str, str]:
    text = "\n".join(stage).replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r'(\w+)="?([^"\s]*)"?', line[4:]):
                env[key] = value
    return env


def test_image_user_entrypoint_and_paths_match_the_job(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    stage = _final_stage()
    user = next(line.split()[1] for line in stage if line.startswith("USER "))
    entrypoint = json.loads(next(line[11:] for line in stage if line.startswith("ENTRYPOINT ")))
    env = _env_of(stage)
    job = find(rendered["langfuse-direct"], "Job")
    pod = job["spec"]["template"]["spec"]["securityContext"]
    assert user == f"{pod['runAsUser']}:{pod['runAsGroup']}"
    assert int(user.split(":")[0]) != 0
    assert entrypoint == ["claude-runner"]
    assert container(job)["args"] == ["run"]
    job_env = {e["name"]: e.get("value") for e in container(job)["env"]}
    assert env["WORKSPACE_PATH"] == job_env["WORKSPACE_PATH"] == "/workspace"
    mounts = {m["mountPath"] for m in container(job)["volumeMounts"]}
    assert {env["HOME"], env["TMPDIR"], env["WORKSPACE_PATH"]} <= mounts
    assert env["CLAUDE_CONFIG_DIR"].startswith(env["HOME"] + "/")
    build_tools = ("gcc", "build-essential", "make ")
    assert not any(t in line for line in stage for t in build_tools)


def _config(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "otel-collector" / name).read_text())  # type: ignore[no-any-return]


def _check_components(config: dict[str, Any]) -> None:
    """Structure only; that every component exists is checked by our collector build itself
    (tests/collector/test_configs.py runs `otelcol validate` on every shipped config)."""
    service = config["service"]
    for extension in service.get("extensions", []):
        assert extension in config["extensions"], extension
    for pipeline_name, pipeline in service["pipelines"].items():
        for key, section in (
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ):
            for component in pipeline.get(key, []):
                assert component in config[section], f"{pipeline_name}: {component} undefined"
    # Storage and authenticators an exporter names must be enabled extensions.
    for exporter in config["exporters"].values():
        if not isinstance(exporter, dict):
            continue
        storage = (exporter.get("sending_queue") or {}).get("storage")
        auth = (exporter.get("auth") or {}).get("authenticator")
        for extension in (storage, auth):
            if extension:
                assert extension in service["extensions"]


@pytest.mark.parametrize(
    "name",
    [
        "config.yaml",
        "config.local.yaml",
        "config.front.yaml",
        "config.sampling.yaml",
        "config.tenants.yaml",
    ],
)
def test_collector_configs_name_only_defined_components(name: str) -> None:
    _check_components(_config(name))


def test_collector_fans_traces_out_and_routes_metrics_away_from_langfuse() -> None:
    config = _config("config.yaml")
    langfuse = config["exporters"]["otlp_http/langfuse"]
    assert langfuse["endpoint"].endswith("/api/public/otel")
    assert langfuse["headers"]["x-langfuse-ingestion-version"] == "4"
    assert langfuse["sending_queue"]["storage"] == "file_storage/queue"
    assert langfuse["retry_on_failure"]["enabled"] is True
    pipelines = config["service"]["pipelines"]
    assert {"otlp_http/langfuse", "otlp_grpc/traces-backend"} <= set(
        pipelines["traces"]["exporters"]
    )
    assert "otlp_http/langfuse" not in pipelines["metrics"]["exporters"]
    assert "prometheus" in pipelines["metrics"]["exporters"]
    processors = pipelines["traces"]["processors"]
    assert processors[0] == "memory_limiter" and processors[-1] == "batch"
    assert {"attributes/redaction", "redaction"} <= set(processors)
    local = _config("config.local.yaml")
    assert set(local["exporters"]) == {"debug", "file"}


def test_every_env_the_collector_config_uses_is_provided_and_documented(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    text = (DEPLOY / "otel-collector" / "config.yaml").read_text()
    used = set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", text))  # those without a default
    assert used
    collector = find(rendered["collector"], "Deployment", "otel-collector")
    provided = {e["name"] for e in container(collector)["env"]}
    assert used <= provided, used - provided
    docs = (DEPLOY / "README.md").read_text()
    for name in used:
        assert f"`{name}`" in docs, f"{name} is not documented in deploy/README.md"


def test_the_attribute_redaction_pattern_spares_token_counts() -> None:
    config = _config("config.yaml")
    pattern = config["processors"]["attributes/redaction"]["actions"][0]["pattern"]
    regex = re.compile(pattern.replace("(?i)", ""), re.IGNORECASE)
    assert not regex.fullmatch("gen_ai.usage.input_tokens")
    assert not regex.fullmatch("gen_ai.usage.cache_read.input_tokens")
    assert regex.fullmatch("http.request.header.authorization")
    assert regex.fullmatch("langfuse_secret_key")
