"""Real sessions exported to a real MLflow server, read back with MLflow's own client.

`run_to_mlflow` runs the real `claude-runner` process (its own HOME, the real SDK and Claude
Code CLI against the scripted Messages API server) with the standard OTLP variables pointed at
MLflow's `/v1/traces` (HTTP/protobuf, the experiment in `x-mlflow-experiment-id`), then polls
MLflow until the trace is complete: MLflow stores spans per request and a trace without its
root is IN_PROGRESS, so the read-back waits, with a deadline, for the root's state and every
chat span. `check_session` holds the checks every session shares: span types, per-call tokens
and prices, the trace's cost and tokens against Claude Code's figures (stdout `session_end`),
name, tags, session, user and state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from runner.offline.script import Step
from tests.e2e.harness import Finished, Runner
from tests.mlflow_server import EXPERIMENT_HEADER, MlflowServer

TENANCY = {"NAMESPACE": "team-a", "PROJECT_NAME": "proj-x", "USER_ID": "user-7"}
TYPE_SEARCHES = tuple(f"span.type = '{t}'" for t in ("AGENT", "CHAT_MODEL", "TOOL"))
NAME_SEARCH = "trace.name = 'agentic-session'"
TAG_SEARCHES = ("tag.namespace = 'team-a'", "tag.project = 'proj-x'", "tag.user = 'user-7'")
NO_MATCH = "tag.namespace = 'team-b'"  # a filter that finds nothing: the searches filter
SPAN_TYPES = {"agentic-session": "AGENT", "invoke_agent": "AGENT", "chat": "CHAT_MODEL"}
SPAN_TYPES["execute_tool"] = "TOOL"


@dataclass
class Exported:
    """A finished session and MLflow's view of its trace."""

    done: Finished
    view: dict[str, Any]
    session_id: str
    waited_s: float

    @property
    def end(self) -> dict[str, Any]:
        return self.done.end

    @property
    def trace(self) -> dict[str, Any]:
        (trace,) = self.view["traces"]
        return dict(trace)

    @property
    def spans(self) -> list[dict[str, Any]]:
        return list(self.trace["spans"])

    def named(self, prefix: str) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["name"].startswith(prefix)]

    def one(self, name: str) -> dict[str, Any]:
        found = [s for s in self.spans if s["name"] == name]
        assert len(found) == 1, (name, [s["name"] for s in self.spans])
        return found[0]

    def children(self, span: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["parent_id"] == span["span_id"]]


def otlp_to_mlflow(server: MlflowServer, experiment: str) -> dict[str, str | None]:
    """The standard OTel variables that send a session's traces to MLflow, nothing else."""
    return {
        "OTEL_SDK_DISABLED": None,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{server.url}/v1/traces",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"{EXPERIMENT_HEADER}={experiment}",
        "OTEL_METRICS_EXPORTER": "none",
        # A warm server stores a session in well under a second; the budget only bounds a
        # pathologically slow one (the session has ended by then either way).
        "RUNNER_EXIT_BUDGET": "30",
    }


def read_complete(
    server: MlflowServer,
    experiment: str,
    chat_spans: int,
    filters: Sequence[str] = (),
    timeout_s: float = 120,
) -> tuple[dict[str, Any], float]:
    """MLflow's view once the experiment's one trace has its root and `chat_spans` chats,
    with the searches `check_session` asserts on and `filters`."""
    filters = (*TYPE_SEARCHES, NAME_SEARCH, *TAG_SEARCHES, NO_MATCH, *filters)
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        view = server.read_back(experiment, filters=filters)
        traces = view["traces"]
        if len(traces) == 1 and traces[0]["state"] != "IN_PROGRESS":
            chats = [s for s in traces[0]["spans"] if s["name"].startswith("chat ")]
            if len(chats) == chat_spans:
                return view, time.monotonic() - started
        if time.monotonic() > deadline:
            states = [(t["state"], len(t["spans"])) for t in traces]
            raise AssertionError(f"MLflow has no complete trace after {timeout_s}s: {states}")
        time.sleep(1)


def run_to_mlflow(
    runner: Runner,
    server: MlflowServer,
    experiment: str,
    script: list[Step],
    *,
    session_id: str,
    filters: Sequence[str] = (),
    **env: str | None,
) -> Exported:
    done = runner.run(
        script,
        SESSION_ID=session_id,
        ALLOWED_TOOLS="Bash,Agent,Task",
        **TENANCY,
        **otlp_to_mlflow(server, experiment),
        **env,
    )
    assert done.code == done.end["exit_code"], done.stderr
    assert not done.server.exhausted_calls, done.stderr
    view, waited = read_complete(server, experiment, done.end["llm_calls"], filters)
    return Exported(done=done, view=view, session_id=session_id, waited_s=waited)


def span_type_of(name: str) -> str:
    return SPAN_TYPES[name.split(" ", 1)[0]]


def inclusive_tokens(usage: dict[str, Any]) -> dict[str, int]:
    """MLflow's token usage of a call from the API's raw usage (input includes cache)."""
    cache = usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
    return {
        "input_tokens": usage["input_tokens"] + cache,
        "output_tokens": usage["output_tokens"],
        "total_tokens": usage["input_tokens"] + cache + usage["output_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
    }


def check_session(e: Exported, *, status: str = "success") -> None:
    """What every session's trace must be in MLflow (see the module docstring)."""
    end, trace = e.end, e.trace
    total = end["total_cost_usd"]

    # One span per node, each with its stored (searchable) type; nothing else carries a cost.
    assert {s["name"]: span_type_of(s["name"]) for s in e.spans} == {
        s["name"]: s["span_type"] for s in e.spans
    }
    for text in TYPE_SEARCHES[:2]:  # every session has agents and chats; tools vary
        assert e.view["searches"][text] == [trace["trace_id"]], text
    for text in (NAME_SEARCH, *TAG_SEARCHES):
        assert e.view["searches"][text] == [trace["trace_id"]], text
    assert e.view["searches"][NO_MATCH] == []
    for span in e.spans:
        if not span["name"].startswith("chat "):
            assert span["cost"] is None and span["token_usage"] is None, span["name"]

    # Each call: one chat span, its tokens and the runner's exact price as MLflow stores them.
    served = {c.message_id: c for c in e.done.server.message_calls}
    answered = [s for s in e.named("chat ") if "gen_ai.response.id" in s["attributes"]]
    chats = {s["attributes"]["gen_ai.response.id"]: s for s in answered}
    for span in e.named("chat "):  # a call the API refused: an error, at no cost
        if span not in answered:
            assert span["status"] == "SpanStatusCode.ERROR", span
            assert not (span["cost"] or {}).get("total_cost"), span
    assert chats.keys() == served.keys()
    for message_id, span in chats.items():
        call = served[message_id]
        assert span["model"] == call.model
        assert span["token_usage"] == inclusive_tokens(call.usage), span["name"]
        price = span["attributes"]["gen_ai.usage.cost"]
        assert span["cost"]["total_cost"] == pytest.approx(price, abs=1e-12)
        output = span["cost"]["output_cost"]
        assert span["cost"]["input_cost"] + output == pytest.approx(price, abs=1e-12)

    # The trace: Claude Code's total, by MLflow's trace cost and by its per-span cost views.
    assert end["llm_calls"] == len(e.named("chat "))
    assert trace["cost"]["total_cost"] == pytest.approx(total, abs=1e-9)
    assert e.view["span_cost_total"] == pytest.approx(total, abs=1e-9)
    if end["reported_cost_usd"] is not None:
        assert total == pytest.approx(end["reported_cost_usd"], abs=1e-9)
    by_model = {m: f["cost_usd"] for m, f in end["models"].items()}
    assert e.view["span_cost_by_model"] == pytest.approx(by_model, abs=1e-9)
    for figures in end["models"].values():
        if figures["reported_cost_usd"] is not None:
            assert figures["cost_usd"] == pytest.approx(figures["reported_cost_usd"], abs=1e-9)
    u = end["usage"]
    cache = u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
    assert trace["token_usage"] == {
        "input_tokens": u["input_tokens"] + cache,
        "output_tokens": u["output_tokens"],
        "total_tokens": u["input_tokens"] + cache + u["output_tokens"],
        "cache_read_input_tokens": u["cache_read_input_tokens"],
        "cache_creation_input_tokens": u["cache_creation_input_tokens"],
    }

    # The runner's own facts on the root (the ledger's figures), readable in MLflow.
    root = e.one("agentic-session")
    assert root["parent_id"] is None
    facts = root["attributes"]
    assert facts["agentic_session.cost_usd"] == pytest.approx(total, abs=1e-12)
    assert facts["agentic_session.llm_calls"] == end["llm_calls"]
    assert facts["agentic_session.status"] == status

    # Name, tags, session, user, state.
    assert trace["name"] == "agentic-session"
    tags = trace["tags"]
    assert {k: tags.get(k) for k in ("namespace", "project", "user", "status", "interactive")} == {
        "namespace": "team-a",
        "project": "proj-x",
        "user": "user-7",
        "status": status,
        "interactive": "false",
    }
    assert tags["model"]
    assert trace["session"] == e.session_id
    assert trace["user"] == "user-7"
    assert trace["state"] == ("OK" if status == "success" else "ERROR")


def row(label: str, e: Exported) -> dict[str, Any]:
    """One line of the report table: MLflow's read-back beside Claude Code's figures."""
    trace = e.trace
    return {
        "session": label,
        "claude_code_reported_usd": e.end["reported_cost_usd"],
        "ledger_total_usd": e.end["total_cost_usd"],
        "mlflow_trace_cost_usd": trace["cost"]["total_cost"],
        "mlflow_span_cost_sum_usd": e.view["span_cost_total"],
        "mlflow_by_model": e.view["span_cost_by_model"],
        "claude_code_by_model": {m: f["reported_cost_usd"] for m, f in e.end["models"].items()},
        "llm_calls": e.end["llm_calls"],
        "mlflow_chat_spans": len(e.named("chat ")),
        "mlflow_input_tokens": trace["token_usage"]["input_tokens"],
        "state": trace["state"],
        "searches": {k: len(v) for k, v in e.view["searches"].items()},
        "waited_s": round(e.waited_s, 1),
        "session_s": round(e.done.elapsed_s, 1),
    }
