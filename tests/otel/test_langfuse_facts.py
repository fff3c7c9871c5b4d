"""The runner's own facts (the ledger's figures, status, cost source, ...) visible and filterable
in Langfuse on BOTH paths: Langfuse keeps a span's other attributes (`metadata.attributes`)
only for spans of a foreign scope, none for the `langfuse` SDK's (TELEMETRY_MODE=langfuse-sdk),
but it keeps `langfuse.observation.metadata.*`/`langfuse.trace.metadata.*` as metadata keys of
their own for every scope (tests/langfuse_metadata.py). Checked in the Langfuse view with the
spans' real scopes, on real sessions; the stored values are strings, as Langfuse stores them."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import Finished, Runner
from tests.langfuse_view import Trace, langfuse_trace, scoped_spans
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, langfuse_env
from tests.support.scripts import SUBAGENT_SCRIPT

LANGFUSE_PATH = "/api/public/otel/v1/traces"
pytestmark = pytest.mark.e2e


def _run(runner: Runner, mode: str) -> tuple[Finished, Trace]:
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        env = {
            **langfuse_env(receiver.url),
            "USER_ID": "user-9",
            "NAMESPACE": "ns",
            "PROJECT_NAME": "proj",
            "ALLOWED_TOOLS": "Bash,Agent,Task",
        }
        if mode != "otel":
            env["TELEMETRY_MODE"] = mode
        done = runner.run(SUBAGENT_SCRIPT, **env)
    finally:
        receiver.stop()
    assert done.code == 0, done.stderr
    return done, langfuse_trace(scoped_spans(receiver.requests, LANGFUSE_PATH))


@pytest.mark.parametrize("mode", ["otel", "langfuse-sdk"])
def test_the_ledgers_figures_are_langfuse_metadata_on_both_paths(runner: Runner, mode: str) -> None:
    done, trace = _run(runner, mode)
    end = done.end
    by_name = {o.name: o for o in trace.observations}

    # The trace (its root's metadata): status, calls, cost, Claude Code's figure, tenancy.
    meta = trace.metadata
    assert meta["status"] == end["status"] == "success"
    assert int(meta["llm_calls"]) == end["llm_calls"] == 5
    assert float(meta["cost_usd"]) == pytest.approx(end["total_cost_usd"], abs=1e-12)
    assert float(meta["cost.reported_usd"]) == pytest.approx(end["reported_cost_usd"], abs=1e-12)
    assert int(meta["num_turns"]) == end["num_turns"]
    assert (meta["namespace"], meta["project"], meta["interactive"]) == ("ns", "proj", "false")

    # The query and the subagent: their own totals; each call: how it was priced.
    query = by_name["invoke_agent claude-code"].stored_metadata
    assert int(query["llm_calls"]) == 5 and int(query["query.index"]) == 1
    assert float(query["cost_usd"]) == pytest.approx(end["total_cost_usd"], abs=1e-12)
    (figures,) = end["subagents"]
    sub = by_name["invoke_agent general-purpose"].stored_metadata
    assert float(sub["cost_usd"]) == pytest.approx(figures["cost_usd"], abs=1e-12)
    assert int(sub["llm_calls"]) == figures["calls"] == 2
    for generation in trace.of_type("generation"):
        assert generation.stored_metadata["cost_source"] == "price"
        assert 0 < float(generation.stored_metadata["context.utilization"]) < 1
    assert "cost_usd" not in by_name["execute_tool Agent"].metadata  # a tool has no figures


def test_both_paths_give_the_same_metadata_keys_and_values(runner: Runner) -> None:
    _, otel = _run(runner, "otel")
    _, sdk = _run(runner, "langfuse-sdk")

    def facts(trace: Trace) -> list[str]:
        return sorted(json.dumps([o.name, o.metadata], sort_keys=True) for o in trace.observations)

    assert facts(otel) == facts(sdk)
    assert any(o.metadata for o in sdk.observations if o.type == "generation")
