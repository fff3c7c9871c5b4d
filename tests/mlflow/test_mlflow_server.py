"""A real MLflow 3.17.2 tracking server, fed hand-made OTLP traces over HTTP/protobuf (the OTel
SDK's own exporter, header x-mlflow-experiment-id) and read back with MLflow's own client.

These tests check the fixture (a broken fake would let other tests pass for the wrong reason)
and pin MLflow's ingestion rules the runner's attributes rely on (docs/mlflow.md):
the stored span type comes only from a plain `mlflow.spanType`; a provided `mlflow.llm.cost`
replaces MLflow's own price; a span with tokens and a model but no provided cost is priced by
MLflow itself, whatever its kind; the trace's cost is taken from the highest spans that have
one while the per-model cost view sums every span; name and tags come from the root's
`mlflow.traceTag.*`; a trace without its root is IN_PROGRESS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Status, StatusCode, set_span_in_context
from opentelemetry.util.types import AttributeValue

from tests.mlflow_server import MlflowServer, trace_id_of

pytestmark = [pytest.mark.xdist_group("mlflow"), pytest.mark.timeout(600)]

SONNET, SONNET_DATED = "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"
HAIKU_DATED = "claude-haiku-4-5-20251001"
# Per-call prices (USD) at Anthropic's list prices; the second call's 1,000 cache-write tokens
# are 1-hour writes ($6/M), which MLflow's own table prices at the 5-minute rate ($3.75/M).
CALL_1 = {"input": 100, "cache_read": 2000, "cache_write": 500, "output": 50, "cost": 0.003525}
CALL_2 = {"input": 20, "cache_read": 2500, "cache_write": 1000, "output": 80, "cost": 0.00801}
CALL_SUB = {"input": 300, "cache_read": 0, "cache_write": 0, "output": 40, "cost": 0.0005}
CALL_2_AT_MLFLOW_PRICE = 0.00576  # 20·3 + 2500·0.3 + 1000·3.75 + 80·15, per million
SESSION_ATTRS: dict[str, AttributeValue] = {"session.id": "review-42", "user.id": "alice"}


def _usage(call: Mapping[str, float]) -> dict[str, AttributeValue]:
    cache = int(call["cache_read"] + call["cache_write"])
    return {
        "gen_ai.usage.input_tokens": int(call["input"]) + cache,  # inclusive of cache
        "gen_ai.usage.output_tokens": int(call["output"]),
        "gen_ai.usage.cache_read.input_tokens": int(call["cache_read"]),
        "gen_ai.usage.cache_write.input_tokens": int(call["cache_write"]),
    }


def _total(*calls: Mapping[str, float]) -> dict[str, float]:
    return {k: sum(c[k] for c in calls) for k in ("input", "cache_read", "cache_write", "output")}


class Trace:
    """Spans made with the OTel SDK, kept in memory until exported on purpose."""

    def __init__(self) -> None:
        self.memory = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.tracer = provider.get_tracer("tests.mlflow")
        self.root: Span | None = None

    @contextmanager
    def span(
        self, name: str, attributes: dict[str, AttributeValue], parent: Span | None = None
    ) -> Iterator[Span]:
        context = set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span(name, context=context, attributes=attributes)
        self.root = self.root or span
        try:
            yield span
        finally:
            span.end()

    @property
    def trace_id(self) -> str:
        assert self.root is not None
        return trace_id_of(self.root.get_span_context().trace_id)

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.memory.get_finished_spans()


def _chat(
    trace: Trace, parent: Span, model: str, call: Mapping[str, float], provided_cost: bool
) -> None:
    attributes: dict[str, AttributeValue] = {
        **SESSION_ATTRS,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": model.rsplit("-", 1)[0],
        "gen_ai.response.model": model,
        **_usage(call),
        "gen_ai.usage.cost": call["cost"],  # what Langfuse reads; MLflow does not
        "mlflow.spanType": "CHAT_MODEL",
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text"}]}]),
    }
    if provided_cost:
        output_cost = call["output"] * (15e-6 if "sonnet" in model else 5e-6)
        attributes["mlflow.llm.cost"] = json.dumps(
            {
                "input_cost": call["cost"] - output_cost,
                "output_cost": output_cost,
                "total_cost": call["cost"],
            }
        )
    with trace.span(f"chat {model}", attributes, parent):
        pass


def _session(*, query_model: bool, provided_cost: bool, tool_fails: bool = False) -> Trace:
    """agentic-session → invoke_agent (totals) → chat, execute_tool Bash, execute_tool Agent →
    invoke_agent Explore → chat, then a second chat: the runner's tree in miniature."""
    trace = Trace()
    root_attrs: dict[str, AttributeValue] = {
        **SESSION_ATTRS,
        "mlflow.spanType": "AGENT",
        "mlflow.traceTag.mlflow.traceName": "agentic-session",
        "mlflow.traceTag.namespace": "team-a",
        "langfuse.observation.input": "Summarise README.md",
    }
    with trace.span("agentic-session", root_attrs) as root:
        query_attrs: dict[str, AttributeValue] = {
            **SESSION_ATTRS,
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "claude-code",
            "mlflow.spanType": "AGENT",
            **_usage(_total(CALL_1, CALL_2, CALL_SUB)),
        }
        if query_model:
            query_attrs["gen_ai.request.model"] = SONNET
        with trace.span("invoke_agent claude-code", query_attrs, root) as query:
            _chat(trace, query, SONNET_DATED, CALL_1, provided_cost)
            tool_attrs: dict[str, AttributeValue] = {
                **SESSION_ATTRS,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "Bash",
                "mlflow.spanType": "TOOL",
                "gen_ai.tool.call.arguments": json.dumps({"command": "ls"}),
            }
            with trace.span("execute_tool Bash", tool_attrs, query) as tool:
                if tool_fails:
                    tool.set_status(Status(StatusCode.ERROR, "exit status 1"))
            agent_tool = {**tool_attrs, "gen_ai.tool.name": "Agent"}
            with trace.span("execute_tool Agent", agent_tool, query) as tool:
                sub_attrs: dict[str, AttributeValue] = {
                    **SESSION_ATTRS,
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "Explore",
                    "mlflow.spanType": "AGENT",
                    **_usage(CALL_SUB),
                }
                with trace.span("invoke_agent Explore", sub_attrs, tool) as sub:
                    _chat(trace, sub, HAIKU_DATED, CALL_SUB, provided_cost)
            _chat(trace, query, SONNET_DATED, CALL_2, provided_cost)
        root.set_attribute("langfuse.observation.output", json.dumps({"status": "success"}))
        if tool_fails:
            root.set_status(Status(StatusCode.ERROR, "a tool failed"))
    return trace


def _only(view: dict[str, Any]) -> dict[str, Any]:
    traces: list[dict[str, Any]] = view["traces"]
    assert len(traces) == 1
    return traces[0]


def _spans_by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in trace["spans"]}


def test_provided_costs_make_trace_cost_and_every_cost_view_equal_the_sum_of_calls(
    mlflow_server: MlflowServer, experiment: str
) -> None:
    trace = _session(query_model=False, provided_cost=True, tool_fails=True)
    mlflow_server.export(experiment, trace.spans())
    view = mlflow_server.read_back(
        experiment, filters=["span.type = 'TOOL'", "trace.name = 'agentic-session'"]
    )
    got = _only(view)
    expected = CALL_1["cost"] + CALL_2["cost"] + CALL_SUB["cost"]

    assert got["trace_id"] == trace.trace_id
    assert got["cost"]["total_cost"] == pytest.approx(expected, abs=1e-12)
    assert view["span_cost_total"] == pytest.approx(expected, abs=1e-12)
    assert view["span_cost_by_model"] == pytest.approx(
        {SONNET_DATED: CALL_1["cost"] + CALL_2["cost"], HAIKU_DATED: CALL_SUB["cost"]}
    )
    total = _total(CALL_1, CALL_2, CALL_SUB)
    cache = int(total["cache_read"] + total["cache_write"])
    assert got["token_usage"] == {
        "input_tokens": int(total["input"]) + cache,
        "output_tokens": int(total["output"]),
        "total_tokens": int(total["input"] + total["output"]) + cache,
        "cache_read_input_tokens": int(total["cache_read"]),
        "cache_creation_input_tokens": int(total["cache_write"]),
    }

    spans = _spans_by_name(got)
    assert {name: s["span_type"] for name, s in spans.items()} == {
        "agentic-session": "AGENT",
        "invoke_agent claude-code": "AGENT",
        "chat claude-sonnet-4-5-20250929": "CHAT_MODEL",
        "execute_tool Bash": "TOOL",
        "execute_tool Agent": "TOOL",
        "invoke_agent Explore": "AGENT",
        "chat claude-haiku-4-5-20251001": "CHAT_MODEL",
    }
    assert spans["invoke_agent claude-code"]["cost"] is None  # tokens, no model: not priced
    assert spans["invoke_agent Explore"]["cost"] is None
    assert spans["execute_tool Bash"]["status"] == "SpanStatusCode.ERROR"
    assert spans["execute_tool Bash"]["inputs"] == {"command": "ls"}
    assert view["searches"] == {
        "span.type = 'TOOL'": [trace.trace_id],
        "trace.name = 'agentic-session'": [trace.trace_id],
    }

    assert got["name"] == "agentic-session"
    assert got["tags"]["namespace"] == "team-a"
    assert got["session"] == "review-42"
    assert got["user"] == "alice"
    assert got["state"] == "ERROR"
    assert got["request_preview"] == '"Summarise README.md"'  # a plain string, JSON-quoted
    assert json.loads(got["response_preview"]) == {"status": "success"}


def test_mlflow_prices_an_agent_span_with_tokens_and_a_model_and_the_views_disagree(
    mlflow_server: MlflowServer, experiment: str
) -> None:
    """The runner's shape before issue 21 (totals and a model on invoke_agent, cost only in
    gen_ai.usage.cost): MLflow prices the query span itself, takes the trace's cost from it
    (the highest priced span), and its per-model view adds the chats on top."""
    trace = _session(query_model=True, provided_cost=False)
    mlflow_server.export(experiment, trace.spans())
    view = mlflow_server.read_back(experiment)
    got = _only(view)
    spans = _spans_by_name(got)

    query_cost = spans["invoke_agent claude-code"]["cost"]["total_cost"]
    assert got["cost"]["total_cost"] == pytest.approx(query_cost)
    chats = {
        s["token_usage"]["input_tokens"]: s["cost"]["total_cost"]
        for s in got["spans"]
        if s["span_type"] == "CHAT_MODEL"
    }
    assert chats == pytest.approx(
        {2600: CALL_1["cost"], 3520: CALL_2_AT_MLFLOW_PRICE, 300: CALL_SUB["cost"]}
    )  # MLflow's own prices: the 1-hour writes of the second call at the 5-minute rate
    assert view["span_cost_total"] == pytest.approx(query_cost + sum(chats.values()))
    runner_total = CALL_1["cost"] + CALL_2["cost"] + CALL_SUB["cost"]
    assert abs(got["cost"]["total_cost"] - runner_total) > 1e-4


def test_the_stored_span_type_is_only_a_plain_mlflow_span_type(
    mlflow_server: MlflowServer, experiment: str
) -> None:
    """gen_ai.operation.name gives the type MLflow's client shows, but search filters on the
    stored column, which only `mlflow.spanType` sets, and only as a plain string."""
    traces = {}
    for label, value in (("plain", "TOOL"), ("json", json.dumps("TOOL")), ("none", None)):
        trace = Trace()
        attributes: dict[str, AttributeValue] = {"gen_ai.operation.name": "execute_tool"}
        if value is not None:
            attributes["mlflow.spanType"] = value
        with trace.span(f"execute_tool {label}", attributes):
            pass
        mlflow_server.export(experiment, trace.spans())
        traces[label] = trace.trace_id
    view = mlflow_server.read_back(experiment, filters=["span.type = 'TOOL'"])

    assert view["searches"]["span.type = 'TOOL'"] == [traces["plain"]]
    shown = {t["trace_id"]: t["spans"][0]["span_type"] for t in view["traces"]}
    assert shown == {trace_id: "TOOL" for trace_id in traces.values()}


def test_a_trace_without_its_root_is_in_progress_until_the_root_arrives(
    mlflow_server: MlflowServer, experiment: str
) -> None:
    trace = _session(query_model=False, provided_cost=True)
    children = [s for s in trace.spans() if s.parent is not None]
    root = [s for s in trace.spans() if s.parent is None]
    mlflow_server.export(experiment, children)
    before = _only(mlflow_server.read_back(experiment))
    mlflow_server.export(experiment, root)
    after = _only(mlflow_server.read_back(experiment))

    assert (before["state"], before["name"], before["request_preview"]) == (
        "IN_PROGRESS",
        None,
        None,
    )
    expected = CALL_1["cost"] + CALL_2["cost"] + CALL_SUB["cost"]
    assert before["cost"]["total_cost"] == pytest.approx(expected)  # children's costs count
    assert (after["state"], after["name"]) == ("OK", "agentic-session")
    assert after["cost"]["total_cost"] == pytest.approx(expected)
