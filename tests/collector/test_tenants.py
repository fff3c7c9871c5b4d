"""Tenant routing: each trace goes to the Langfuse project of the tenant whose credential the
collector checked — never the tenant a sender claims in its attributes."""

from __future__ import annotations

import base64

from runner.offline import Usage, text
from tests.collector.conftest import StartCollector
from tests.collector_process import free_port, wait_for
from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes
from tests.support.backends import LANGFUSE_PATH, TELEMETRY_ON

TOKENS = {"team-a": "ingest-token-team-a-0001", "team-b": "ingest-token-team-b-0002"}
KEYS = {name: (f"pk-lf-{name}", f"sk-lf-{name}-secret") for name in ("team-a", "team-b", "dflt")}


def _basic(name: str) -> str:
    public, secret = KEYS[name]
    return base64.b64encode(f"{public}:{secret}".encode()).decode()


def test_each_tenant_reaches_only_its_own_project_whatever_it_claims(
    collector: StartCollector, runner: Runner
) -> None:
    projects = {name: OTLPHttpReceiver(auth=f"Basic {_basic(name)}") for name in KEYS}
    ports = {name: free_port() for name in TOKENS}
    try:
        otelcol = collector(
            "config.tenants.yaml",
            LANGFUSE_BASE_URL=projects["dflt"].url,
            LANGFUSE_AUTH=_basic("dflt"),
            TEAM_A_INGEST_TOKEN=TOKENS["team-a"],
            TEAM_A_LANGFUSE_AUTH=_basic("team-a"),
            TEAM_A_LANGFUSE_BASE_URL=projects["team-a"].url,
            TEAM_B_INGEST_TOKEN=TOKENS["team-b"],
            TEAM_B_LANGFUSE_AUTH=_basic("team-b"),
            TEAM_B_LANGFUSE_BASE_URL=projects["team-b"].url,
            OTELCOL_TEAM_A_HTTP_ENDPOINT=f"127.0.0.1:{ports['team-a']}",
            OTELCOL_TEAM_A_GRPC_ENDPOINT=f"127.0.0.1:{free_port()}",
            OTELCOL_TEAM_B_HTTP_ENDPOINT=f"127.0.0.1:{ports['team-b']}",
            OTELCOL_TEAM_B_GRPC_ENDPOINT=f"127.0.0.1:{free_port()}",
        )

        def session(session_id: str, port: int, token: str, claims: str) -> None:
            done = runner.run(
                [text("ok", Usage(10, 5))],
                **TELEMETRY_ON,
                SESSION_ID=session_id,
                NAMESPACE=claims,
                OTEL_RESOURCE_ATTRIBUTES=f"k8s.namespace.name={claims},tenant.id={claims}",
                OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
                OTEL_EXPORTER_OTLP_HEADERS=f"Authorization=Bearer%20{token}",
            )
            assert done.code == 0, done.stderr

        session("a-honest", ports["team-a"], TOKENS["team-a"], "team-a")
        session("b-honest", ports["team-b"], TOKENS["team-b"], "team-b")
        # team-a's credential, claiming team-b everywhere it can: still team-a's project.
        session("a-claims-b", ports["team-a"], TOKENS["team-a"], "team-b")
        # a wrong token: refused, so nowhere.
        session("forged", ports["team-b"], "not-a-valid-token-000", "team-b")
        session("default", int(otelcol.http_url.rsplit(":", 1)[1]), "", "whoever")
        assert wait_for(
            lambda: (
                all(
                    len(p.spans(LANGFUSE_PATH)) >= 3
                    for p in projects.values()
                    if p is not projects["team-a"]
                )
                and len(projects["team-a"].spans(LANGFUSE_PATH)) >= 6
            )
        )
    finally:
        for project in projects.values():
            project.stop()

    def sessions(name: str) -> set[str]:
        return {str(attributes(s)["session.id"]) for s in projects[name].spans(LANGFUSE_PATH)}

    assert sessions("team-a") == {"a-honest", "a-claims-b"}
    assert sessions("team-b") == {"b-honest"}
    assert sessions("dflt") == {"default"}
    for name, project in projects.items():
        posts = [r for r in project.requests if r.path == LANGFUSE_PATH]
        assert {r.headers["authorization"] for r in posts} == {f"Basic {_basic(name)}"}
        tenants = {r.get("tenant.id") for r in project.resources()}
        assert tenants == {"default" if name == "dflt" else name}  # the collector's, not claimed
