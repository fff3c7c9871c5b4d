"""Real sessions (the real `claude-runner`, SDK and Claude Code CLI against the scripted Messages
API server) exported over OTLP/HTTP to a real MLflow server and read back with MLflow's own
client: MLflow's trace cost and its per-span/per-model cost views equal Claude Code's figures,
every span has its stored, searchable type, and the trace has its name, tags, session, user and
state (tests/mlflow/sessions.py has the checks every session shares)."""

from __future__ import annotations

import json
import os

import pytest

from runner.offline import Failure, Reply, ToolUse, Usage, bash, text
from tests.e2e.harness import Runner, expected_cost
from tests.mlflow.sessions import Exported, check_session, row, run_to_mlflow
from tests.mlflow_server import MlflowServer
from tests.support.scripts import SUBAGENT_SCRIPT

pytestmark = [pytest.mark.xdist_group("mlflow"), pytest.mark.timeout(600)]

TOOL_SEARCH = "span.type = 'TOOL'"
TOOLS_WITH_A_FAILURE = [
    bash("ls", Usage(1200, 85, 0, 3400), say="Starting."),
    bash("exit 2", Usage(180, 42, 3400, 0)),
    text("The second command failed.", Usage(95, 38, 3620, 7)),
]
HAIKU_SUBAGENT = [
    Reply(
        content=(
            ToolUse(
                "Agent",
                {
                    "description": "quick look",
                    "prompt": "SUBTASK: run echo",
                    "subagent_type": "general-purpose",
                    "model": "haiku",  # Claude Code requests its Haiku model for the subagent
                },
            ),
        ),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo sub-out", Usage(3000, 11, 5, 2000), match="SUBTASK"),
    text("sub done", Usage(400, 12, 2005, 0), match="sub-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]
ONE_HOUR = Usage(100, 20, 0, 5000, cache_creation_1h_input_tokens=4000)
# MLflow's own table prices every cache write at the 5-minute rate ($3.75/M, not $6/M).
ONE_HOUR_AT_MLFLOW_PRICE = (100 * 3 + 20 * 15 + 5000 * 3.75) / 1e6


def _report(label: str, e: Exported) -> None:
    """One row for the report table (MLFLOW_E2E_REPORT=<file>: appended as a JSON line)."""
    target = os.environ.get("MLFLOW_E2E_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(row(label, e)) + "\n")


def test_a_session_with_a_failing_tool(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    e = run_to_mlflow(
        runner, mlflow_server, experiment, TOOLS_WITH_A_FAILURE, session_id="mlflow-tools"
    )
    _report("tools, one failing (exit 2)", e)
    assert e.end["status"] == "success", e.done.stderr
    check_session(e)

    (query,) = e.named("invoke_agent")
    tools = e.named("execute_tool Bash")
    assert len(tools) == 2
    assert all(t["parent_id"] == query["span_id"] for t in tools)
    failed = [t for t in tools if t["status"] == "SpanStatusCode.ERROR"]
    assert len(failed) == 1
    assert failed[0]["attributes"]["error.type"]
    assert e.view["searches"][TOOL_SEARCH] == [e.trace["trace_id"]]
    for call in e.done.server.message_calls:  # Sonnet at list prices, from the served usage
        (span,) = [
            s for s in e.named("chat ") if s["attributes"]["gen_ai.response.id"] == call.message_id
        ]
        assert span["cost"]["total_cost"] == pytest.approx(expected_cost(call.usage), abs=1e-12)


def test_a_session_with_a_subagent(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    e = run_to_mlflow(runner, mlflow_server, experiment, SUBAGENT_SCRIPT, session_id="mlflow-sub")
    _report("subagent", e)
    assert e.end["status"] == "success", e.done.stderr
    check_session(e)

    agent_tool = e.one("execute_tool Agent")
    (subagent,) = e.children(agent_tool)
    assert (subagent["name"], subagent["span_type"]) == ("invoke_agent general-purpose", "AGENT")
    below = sorted(s["name"] for s in e.children(subagent))
    assert below == ["chat claude-sonnet-4-5", "chat claude-sonnet-4-5", "execute_tool Bash"]
    (figures,) = e.end["subagents"]
    facts = subagent["attributes"]
    assert facts["agentic_session.cost_usd"] == pytest.approx(figures["cost_usd"], abs=1e-12)
    assert facts["agentic_session.llm_calls"] == figures["calls"] == 2
    for agent in e.named("invoke_agent"):  # totals only under the product's names
        assert not [k for k in agent["attributes"] if k.startswith("gen_ai.usage.")]
        assert "gen_ai.request.model" not in agent["attributes"]
    sub_cost = sum(s["cost"]["total_cost"] for s in e.children(subagent) if s["cost"])
    assert sub_cost == pytest.approx(figures["cost_usd"], abs=1e-12)
    assert e.view["searches"][TOOL_SEARCH] == [e.trace["trace_id"]]


def test_a_session_with_two_models(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    e = run_to_mlflow(runner, mlflow_server, experiment, HAIKU_SUBAGENT, session_id="mlflow-2m")
    _report("two models (Haiku subagent)", e)
    assert e.end["status"] == "success", e.done.stderr
    check_session(e)

    models = e.end["models"]
    assert len(models) == 2
    served = {c.model for c in e.done.server.message_calls}
    assert served == set(models)  # the CLI asked for a second model for the subagent
    by_model = e.view["span_cost_by_model"]
    for model, figures in models.items():  # per model, MLflow's view = Claude Code's figure
        assert figures["reported_cost_usd"] is not None
        assert by_model[model] == pytest.approx(figures["reported_cost_usd"], abs=1e-9)
    haiku = next(m for m in models if "haiku" in m)
    (subagent,) = e.children(e.one("execute_tool Agent"))
    assert {s["model"] for s in e.children(subagent) if s["model"]} == {haiku}


def test_a_session_with_one_hour_cache_writes(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    e = run_to_mlflow(
        runner, mlflow_server, experiment, [text("Cached.", ONE_HOUR)], session_id="mlflow-1h"
    )
    _report("1-hour cache writes", e)
    assert e.end["status"] == "success", e.done.stderr
    check_session(e)

    (call,) = e.done.server.message_calls
    assert call.usage["cache_creation"]["ephemeral_1h_input_tokens"] == 4000
    assert e.end["reported_cost_usd"] == pytest.approx(expected_cost(call.usage), abs=1e-12)
    # The runner's price wins over MLflow's own (which has no 1-hour rate).
    assert e.trace["cost"]["total_cost"] == pytest.approx(expected_cost(call.usage), abs=1e-12)
    assert abs(e.trace["cost"]["total_cost"] - ONE_HOUR_AT_MLFLOW_PRICE) > 5e-3
    assert e.view["searches"][TOOL_SEARCH] == []  # no tool in this session: not found


def test_a_failed_session_is_an_error_trace(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    script = [bash("echo one", Usage(400, 30, 0, 1000)), Failure(500, "scripted outage")]
    e = run_to_mlflow(runner, mlflow_server, experiment, script, session_id="mlflow-failed")
    _report("failed (API 500 after one call)", e)
    assert e.end["status"] != "success"
    check_session(e, status=e.end["status"])
    root = e.one("agentic-session")
    assert root["status"] == "SpanStatusCode.ERROR"
    assert root["attributes"]["error.type"]
