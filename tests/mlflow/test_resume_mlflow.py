"""A session and its resumed run in a real MLflow server: two traces in the same MLflow session,
the second tagged with the first's id, each costing only its own calls (MLflow's trace cost),
the two adding up to Claude Code's figure for the whole conversation."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runner.offline import Usage, bash, text
from tests.e2e.harness import Runner
from tests.mlflow.sessions import TENANCY, otlp_to_mlflow
from tests.mlflow_server import MlflowServer

pytestmark = [pytest.mark.xdist_group("mlflow"), pytest.mark.timeout(600)]
FIRST = [
    bash("echo one", Usage(1000, 100, 0, 4000), match="FIRST"),
    text("First done.", Usage(20, 30, 4000)),
]
SECOND = [
    bash("echo two", Usage(7, 40, 5000, 300), match="SECOND"),
    text("Second done.", Usage(5, 50, 5300)),
]


def _two_complete_traces(server: MlflowServer, experiment: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while True:
        traces = server.read_back(experiment)["traces"]
        chats = [len([s for s in t["spans"] if s["name"].startswith("chat ")]) for t in traces]
        complete = all(t["state"] != "IN_PROGRESS" for t in traces)
        if len(traces) == 2 and chats == [2, 2] and complete:
            return sorted(traces, key=lambda t: "resumed" in t["tags"])
        if time.monotonic() > deadline:
            raise AssertionError(f"MLflow has {len(traces)} traces, chats {chats}")
        time.sleep(1)


def test_a_resumed_session_is_two_linked_traces_in_one_mlflow_session_each_counted_once(
    runner: Runner, mlflow_server: MlflowServer, experiment: str
) -> None:
    env = {
        "SESSION_ID": "platform-42",
        **TENANCY,
        **otlp_to_mlflow(mlflow_server, experiment),
    }
    first = runner.run(FIRST, PROMPT="FIRST task.", **env)
    assert first.code == 0, first.stderr
    second = runner.run(SECOND, PROMPT="SECOND task.", IS_RESUME="true", **env)
    assert second.code == 0, second.stderr

    one, two = _two_complete_traces(mlflow_server, experiment)

    assert one["session"] == two["session"] == "platform-42"
    assert one["cost"]["total_cost"] == pytest.approx(first.end["total_cost_usd"], abs=1e-9)
    assert two["cost"]["total_cost"] == pytest.approx(second.end["total_cost_usd"], abs=1e-9)
    assert two["cost"]["total_cost"] == pytest.approx(0.005601, abs=1e-9)
    assert one["cost"]["total_cost"] + two["cost"]["total_cost"] == pytest.approx(
        second.end["reported_cumulative_cost_usd"], abs=1e-9
    )
    assert two["tags"]["resumed"] == "true"
    assert "tr-" + two["tags"]["resumed_from_trace_id"] == one["trace_id"]
    assert "resumed" not in one["tags"]
    (root,) = [s for s in two["spans"] if s["name"] == "agentic-session"]
    assert root["attributes"]["agentic_session.resumed"] is True
