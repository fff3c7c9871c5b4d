"""One Langfuse project per platform project with no collector edit (config.projects.yaml):
each Job sends its own project's Langfuse Basic auth with its traces; the collector batches by
that credential and forwards it (our projectauth extension). Sessions of two projects at once,
one without a credential and one with keys of no project: each project gets exactly its own
sessions' spans, the rest reach no project and are counted, and no log shows a credential."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from runner.offline import Usage, bash, text
from tests.collector.conftest import StartCollector
from tests.collector_process import CONFIGS, wait_for
from tests.deploy.conftest import DEPLOY, find, render
from tests.e2e.harness import Runner
from tests.otlp_receiver import attributes
from tests.support.backends import LANGFUSE_PATH, TELEMETRY_ON
from tests.support.langfuse_projects import LangfuseProjects, basic

KEYS = {"team-a": ("pk-lf-team-a", "sk-lf-team-a-secret1"), "team-b": ("pk-lf-team-b", "sk-lf-b2")}
SCRIPT = [bash("echo hi", Usage(100, 20), say="Working."), text("Done.", Usage(120, 10, 100))]
SPANS = 1 + 1 + 2 + 1  # session, query, two calls, one tool
PER_PROJECT = 3


def _headers(auth: str) -> str:
    """OTEL_EXPORTER_OTLP_TRACES_HEADERS: the Authorization header, value percent-encoded."""
    return "Authorization=" + urllib.parse.quote(auth)


@pytest.mark.e2e
def test_each_projects_sessions_reach_only_its_own_langfuse_project(
    collector: StartCollector, tmp_path: Path
) -> None:
    langfuse = LangfuseProjects(KEYS)
    try:
        otelcol = collector("config.projects.yaml", LANGFUSE_BASE_URL=langfuse.url)
        plan: dict[str, str | None] = {
            f"{project}-{i}": basic(*KEYS[project]) for i in range(PER_PROJECT) for project in KEYS
        }
        plan["nobody"] = None
        plan["forged"] = basic("pk-lf-team-a", "not-the-secret")
        running = []
        for session_id, auth in plan.items():  # all at once: batches of both projects mix
            extra = {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": _headers(auth)} if auth else {}
            (tmp_path / session_id).mkdir()
            running.append(
                Runner(tmp_path / session_id).start(
                    SCRIPT,
                    **TELEMETRY_ON,
                    **extra,
                    SESSION_ID=session_id,
                    PROJECT_NAME=session_id.rsplit("-", 1)[0],
                    OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.http_url,
                    OTEL_BSP_SCHEDULE_DELAY="100",
                )
            )
        done = [r.finish(timeout=120) for r in running]
        assert [d.code for d in done] == [0] * len(plan), [d.stderr[-500:] for d in done]
        projects = langfuse.projects

        def settled() -> bool:
            arrived = all(
                len(p.spans(LANGFUSE_PATH)) >= PER_PROJECT * SPANS for p in projects.values()
            )
            failed = otelcol.counter("otelcol_exporter_send_failed_spans", "otlp_http/langfuse")
            return arrived and failed >= 2 * SPANS

        assert wait_for(settled, timeout_s=60)
        failed = otelcol.counter("otelcol_exporter_send_failed_spans", "otlp_http/langfuse")
        log = otelcol.log.read_text()
    finally:
        langfuse.stop()
    for project, receiver in projects.items():
        spans = receiver.spans(LANGFUSE_PATH)
        sessions = {str(attributes(s).get("session.id")) for s in spans}
        assert sessions == {f"{project}-{i}" for i in range(PER_PROJECT)}, project
        assert len(spans) == len({s.span_id for s in spans}) == PER_PROJECT * SPANS
        posts = [r for r in receiver.requests if r.path == LANGFUSE_PATH]
        assert {r.headers["authorization"] for r in posts} == {basic(*KEYS[project])}
        assert {r.headers.get("x-langfuse-ingestion-version") for r in posts} == {"4"}
    # No credential: never sent anywhere. Keys of no project: refused by Langfuse (401).
    # Both counted by the collector as spans it could not deliver, nothing else lost.
    assert failed == 2 * SPANS
    assert None not in langfuse.refused and set(langfuse.refused) == {plan["forged"]}
    assert "span batch without a project credential: not forwarded" in log
    for secret in [s for pair in KEYS.values() for s in pair] + [str(plan["forged"])]:
        assert secret.split()[-1] not in log
    for finished in done:
        for secret in ("sk-lf-team-a-secret1", "sk-lf-b2", str(plan["team-a-0"]).split()[-1]):
            assert secret not in finished.stderr and secret not in finished.stdout_raw


def test_the_projects_overlays_collector_config_validates_with_its_env(
    otelcol: Path, tmp_path: Path
) -> None:
    """What `kubectl apply -k deploy/k8s/overlays/collector-projects` runs: its config, with
    exactly the variables its Deployment provides, passes our build's `validate`."""
    objects = render(DEPLOY / "k8s" / "overlays" / "collector-projects")
    (configmap,) = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("otel-collector-config")
    ]
    config = tmp_path / "config.projects.yaml"
    config.write_text(configmap["data"]["config.projects.yaml"])
    collector = find(objects, "Deployment", "otel-collector")
    env = {e["name"] for e in collector["spec"]["template"]["spec"]["containers"][0]["env"]}
    needed = set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", config.read_text()))
    assert needed <= env, needed - env
    values = {"LANGFUSE_BASE_URL": "https://cloud.langfuse.com", "K8S_CLUSTER_NAME": "c"}
    done = subprocess.run(
        [str(otelcol), "validate", f"--config={config}"],
        env={"PATH": os.environ.get("PATH", ""), **values},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_our_projectauth_extension_passes_its_go_tests(otelcol: Path) -> None:
    """scripts/otelcol compiles the extension's tests beside the collector; this runs them."""
    compiled = otelcol.parent / "projectauth.test"
    assert compiled.exists(), "scripts/otelcol did not compile projectauth's Go tests"
    done = subprocess.run(
        [str(compiled), "-test.count=1", "-test.v"],
        cwd=CONFIGS / "projectauth",
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("--- PASS") == 3 and done.stdout.strip().endswith("PASS")
