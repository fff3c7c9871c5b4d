"""What Langfuse records from OTLP spans: a test view of its OTel ingestion, modelling every rule
DESIGN.md lists (Langfuse server, OtelIngestionProcessor and the v4 event path, 2026-08):

Observation (one per span; rows keep only their own attributes, nothing propagates):
- type: `langfuse.observation.type` > `openinference.span.kind` > `gen_ai.operation.name`
  (chat → generation, invoke_agent → agent, execute_tool → tool) > any `gen_ai.tool.name` →
  tool > any model attribute → generation > span
- model: `langfuse.observation.model.name` > `gen_ai.response.model` > `gen_ai.request.model`;
  usage: `langfuse.observation.usage_details` (JSON object) wins outright, else every
  `gen_ai.usage.*` key, input = input_tokens − cache_read − cache_creation (NOT cache_write);
  cost: `langfuse.observation.cost_details` (a JSON object string, anything else → {}) >
  `gen_ai.usage.cost` → {total} > `llm.cost.total`; a provided cost replaces Langfuse's own
  price, else Langfuse prices the usage with its model table. Model, usage and cost are skipped
  on spans whose `gen_ai.operation.name` is invoke_agent or agent_step — on every other span
  (the root included) they are read.
- completion start: only `langfuse.observation.completion_start_time` (ISO 8601)
- input/output: `langfuse.observation.input/output` > `gen_ai.input.messages` (with
  `gen_ai.system_instructions` prepended) / `gen_ai.output.messages` > tool call arguments/result
- session: `langfuse.session.id` > `session.id` > `gen_ai.conversation.id`; user:
  `langfuse.user.id` > `user.id`; trace name `langfuse.trace.name`; tags `langfuse.trace.tags`;
  environment `langfuse.environment`
- metadata (tests/langfuse_metadata.py): `langfuse.observation.metadata.*` and
  `langfuse.trace.metadata.*` as top-level keys, every other attribute as a string under
  `attributes` — except on spans of a `langfuse-sdk*` scope, which keep none of them —,
  stored flattened with string values
- level: `langfuse.observation.level`, else ERROR when the status is ERROR; status message
  `langfuse.observation.status_message` > the span status message

Trace: on the real-time (v4) path its input/output and metadata are the root observation's, its
totals the sums over ALL observations. The legacy path reads `langfuse.trace.input/output` and
falls back to the root span's name for the trace name.

Scores (no score comes from OTel ingestion: `gen_ai.evaluation.result` events are not read; the
model is tests/support/langfuse_scores.py, re-exported here beside the ingestion rules, and
served over HTTP by tests/support/langfuse_server.py):
- POST /api/public/scores (one object, 200 {"id"}) and POST /api/public/ingestion
  (`score-create` events, 207 {"successes", "errors"} per event; the runner's route): `name`
  required; exactly one of traceId (+ optional observationId) / sessionId / datasetRunId;
  dataType NUMERIC (a number), CATEGORICAL (a string), BOOLEAN (the number 0 or 1 only; JSON
  true/false is a 400), TEXT (1-500 characters), CORRECTION (a string, no configId; stored
  under the name "output"); null for dataType/environment/source is a 400 (omit them);
  environment lowercased, anything outside [a-z0-9_-]{1,40} becomes "default"
- the worker: the data type inferred when absent (number → NUMERIC, else CATEGORICAL); the
  same id again updates the score (upsert); a score it cannot validate is dropped silently
- read back: GET /api/public/v3/scores?traceId=…&name=… (v1 ignores traceId); BOOLEAN values
  read back as true/false
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.langfuse_metadata import Scope, observation_metadata, stored
from tests.otlp_receiver import Received, any_value, attributes
from tests.support.langfuse_scores import (  # noqa: F401 - the scores contract, re-exported
    ScoresServer,
    normalize_environment,
    validate_post_scores_body,
)

OPERATION_TYPES = {
    "chat": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "embeddings": "embedding",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
}
OPENINFERENCE_TYPES = {
    "LLM": "generation",
    "TOOL": "tool",
    "AGENT": "agent",
    "CHAIN": "chain",
    "RETRIEVER": "retriever",
    "EMBEDDING": "embedding",
    "GUARDRAIL": "guardrail",
    "EVALUATOR": "evaluator",
}
AGENT_OPERATIONS = ("invoke_agent", "agent_step")
MODEL_KEYS = ("langfuse.observation.model.name", "gen_ai.response.model", "gen_ai.request.model")
LANGFUSE_PRICES = {
    # Langfuse's own model table (USD per token), used only when no cost is provided.
    "claude-sonnet-4-5": {
        "input": 3e-6,
        "output": 15e-6,
        "cache_read_input_tokens": 0.3e-6,
        "cache_creation_input_tokens": 3.75e-6,
    },
}


@dataclass(frozen=True)
class ScopedSpan:
    """A received span with the instrumentation scope and resource it arrived under."""

    span: Span
    scope: Scope


def scoped_spans(requests: Iterable[Received], path_suffix: str) -> list[ScopedSpan]:
    """Every span of the successful OTLP/HTTP requests to `path_suffix`, with its scope."""
    out: list[ScopedSpan] = []
    for request in requests:
        if not request.path.endswith(path_suffix) or request.status != 200:
            continue
        message = ExportTraceServiceRequest()
        message.ParseFromString(request.body)
        for resource_spans in message.resource_spans:
            resource = {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                scope = Scope(
                    name=scope_spans.scope.name,
                    version=scope_spans.scope.version,
                    attributes={kv.key: any_value(kv.value) for kv in scope_spans.scope.attributes},
                    resource=resource,
                )
                out.extend(ScopedSpan(span, scope) for span in scope_spans.spans)
    return out


@dataclass
class Observation:
    id: bytes
    parent_id: bytes | None
    name: str
    type: str
    start_ns: int
    model: str | None
    usage: dict[str, float]
    cost: dict[str, float]
    cost_provided: bool
    completion_start: datetime | None
    input: Any
    output: Any
    session: str | None
    user: str | None
    trace_name: str | None
    tags: tuple[str, ...]
    metadata: dict[str, Any]
    """The observation's and trace's metadata keys (`langfuse.{observation,trace}.metadata.*`)."""
    stored_metadata: dict[str, str]
    """All of the observation's metadata as Langfuse stores and filters it: dotted names,
    string values (`attributes.<key>` for every other attribute, unless a langfuse-sdk scope)."""
    environment: str
    level: str
    status_message: str | None
    legacy_trace_input: Any = None
    legacy_trace_output: Any = None

    @property
    def total_cost(self) -> float:
        if "total" in self.cost:
            return self.cost["total"]
        return sum(self.cost.values())

    @property
    def total_usage(self) -> float:
        if "total" in self.usage:
            return self.usage["total"]
        return sum(self.usage.values())


@dataclass
class Trace:
    observations: list[Observation]
    name: str | None
    session: str | None
    user: str | None
    tags: tuple[str, ...]
    input: Any
    output: Any
    total_cost: float
    usage: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    """The root observation's stored metadata (the trace's, on the real-time path)."""
    legacy_name: str | None = None
    legacy_input: Any = None
    legacy_output: Any = None

    def of_type(self, kind: str) -> list[Observation]:
        return [o for o in self.observations if o.type == kind]

    @property
    def root(self) -> Observation:
        ids = {o.id for o in self.observations}
        roots = [o for o in self.observations if o.parent_id not in ids]
        assert len(roots) == 1, [o.name for o in roots]
        return roots[0]

    def path(self, observation: Observation) -> tuple[str, ...]:
        by_id = {o.id: o for o in self.observations}
        names: list[str] = []
        parent = by_id.get(observation.parent_id or b"")
        while parent is not None:
            names.append(parent.name)
            parent = by_id.get(parent.parent_id or b"")
        return tuple(reversed(names))

    def comparable(self) -> list[dict[str, Any]]:
        """Every row, field for field, without what differs between two runs (ids, times)."""
        rows = []
        for o in self.observations:
            rows.append(
                {
                    "type": o.type,
                    "name": o.name,
                    "path": self.path(o),
                    "model": o.model,
                    "usage": o.usage,
                    "cost": {k: round(v, 12) for k, v in o.cost.items()},
                    "completion_start": o.completion_start is not None,
                    "session": o.session,
                    "user": o.user,
                    "trace_name": o.trace_name,
                    "tags": o.tags,
                    "metadata": o.metadata,
                    "environment": o.environment,
                    "input": o.input is not None,
                    "output": o.output is not None,
                    "level": o.level,
                }
            )
        return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def _json_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _parsed(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def observation_type(a: dict[str, Any]) -> str:
    if a.get("langfuse.observation.type"):
        return str(a["langfuse.observation.type"])
    if a.get("openinference.span.kind") in OPENINFERENCE_TYPES:
        return OPENINFERENCE_TYPES[a["openinference.span.kind"]]
    if a.get("gen_ai.operation.name") in OPERATION_TYPES:
        return OPERATION_TYPES[a["gen_ai.operation.name"]]
    if a.get("gen_ai.tool.name"):
        return "tool"
    if any(a.get(k) for k in MODEL_KEYS):
        return "generation"
    return "span"


def usage(a: dict[str, Any]) -> dict[str, float]:
    details = _json_object(a.get("langfuse.observation.usage_details"))
    if details:
        return {k: float(v) for k, v in details.items() if isinstance(v, int | float)}
    out: dict[str, float] = {}
    read = a.get("gen_ai.usage.cache_read.input_tokens", 0)
    creation = a.get("gen_ai.usage.cache_creation.input_tokens", 0)
    for key, value in a.items():
        if not key.startswith("gen_ai.usage.") or key == "gen_ai.usage.cost":
            continue
        if not isinstance(value, int | float):
            continue
        name = key.removeprefix("gen_ai.usage.")
        if name == "input_tokens":
            out["input"] = max(value - read - creation, 0)
        elif name == "output_tokens":
            out["output"] = value
        elif name == "cache_read.input_tokens":
            out["cache_read_input_tokens"] = value
        elif name == "cache_creation.input_tokens":
            out["cache_creation_input_tokens"] = value
        else:
            out[name] = value
    return out


def cost(a: dict[str, Any], model: str | None, used: dict[str, float]) -> tuple[dict, bool]:
    if "langfuse.observation.cost_details" in a:
        details = _json_object(a["langfuse.observation.cost_details"])
        return {k: float(v) for k, v in details.items() if isinstance(v, int | float)}, True
    if isinstance(a.get("gen_ai.usage.cost"), int | float):
        return {"total": float(a["gen_ai.usage.cost"])}, True
    if isinstance(a.get("llm.cost.total"), int | float):
        return {"total": float(a["llm.cost.total"])}, True
    prices = LANGFUSE_PRICES.get(model or "")
    if prices is None or not used:
        return {}, False
    return {k: v * prices.get(k, 0.0) for k, v in used.items() if k != "total"}, False


def observation(span: Span, scope: Scope | None = None) -> Observation:
    """The observation a span becomes; `scope`: its instrumentation scope and resource (a bare
    span counts as one of a foreign, non-Langfuse scope with an empty resource)."""
    a = attributes(span)
    full_metadata = observation_metadata(a, scope or Scope())
    kind = observation_type(a)
    agent = a.get("gen_ai.operation.name") in AGENT_OPERATIONS
    model = None if agent else next((a[k] for k in MODEL_KEYS if a.get(k)), None)
    used = {} if agent else usage(a)
    costs, provided = ({}, False) if agent else cost(a, model, used)
    start = a.get("langfuse.observation.completion_start_time")
    status_error = span.status.code == 2
    system = a.get("gen_ai.system_instructions")
    input_value = a.get("langfuse.observation.input")
    if input_value is None and a.get("gen_ai.input.messages") is not None:
        messages = _parsed(a["gen_ai.input.messages"])
        input_value = [_parsed(system), *messages] if system else messages
    if input_value is None:
        input_value = a.get("gen_ai.tool.call.arguments")
    output_value = a.get("langfuse.observation.output")
    if output_value is None:
        output_value = a.get("gen_ai.output.messages", a.get("gen_ai.tool.call.result"))
    return Observation(
        id=span.span_id,
        parent_id=span.parent_span_id or None,
        name=span.name,
        type=kind,
        start_ns=span.start_time_unix_nano,
        model=model,
        usage=used,
        cost=costs,
        cost_provided=provided,
        completion_start=datetime.fromisoformat(start) if isinstance(start, str) else None,
        input=_parsed(input_value),
        output=_parsed(output_value),
        session=a.get("langfuse.session.id")
        or a.get("session.id")
        or a.get("gen_ai.conversation.id"),
        user=a.get("langfuse.user.id") or a.get("user.id"),
        trace_name=a.get("langfuse.trace.name"),
        tags=tuple(a.get("langfuse.trace.tags") or ()),
        metadata={
            k: v
            for k, v in full_metadata.items()
            if k not in ("attributes", "resourceAttributes", "scope")
        },
        stored_metadata=stored(full_metadata),
        environment=a.get("langfuse.environment") or "default",
        level=a.get("langfuse.observation.level") or ("ERROR" if status_error else "DEFAULT"),
        status_message=a.get("langfuse.observation.status_message")
        or (span.status.message or None),
        legacy_trace_input=_parsed(a.get("langfuse.trace.input")),
        legacy_trace_output=_parsed(a.get("langfuse.trace.output")),
    )


def langfuse_trace(spans: Sequence[Span | ScopedSpan]) -> Trace:
    """The trace Langfuse builds from one trace's spans (assert they are one trace)."""
    scoped = [s if isinstance(s, ScopedSpan) else ScopedSpan(s, Scope()) for s in spans]
    assert len({s.span.trace_id for s in scoped}) == 1, "spans of more than one trace"
    observations = [observation(s.span, s.scope) for s in scoped]
    ids = {o.id for o in observations}
    roots = [o for o in observations if o.parent_id not in ids]
    root = min(roots, key=lambda o: o.start_ns)
    totals: dict[str, float] = {}
    for o in observations:
        for key, value in o.usage.items():
            totals[key] = totals.get(key, 0.0) + value
    return Trace(
        observations=observations,
        name=root.trace_name,
        session=root.session,
        user=root.user,
        tags=root.tags,
        input=root.input,
        output=root.output,
        total_cost=sum(o.total_cost for o in observations),
        usage=totals,
        metadata=root.stored_metadata,
        legacy_name=root.trace_name or root.name,
        legacy_input=root.legacy_trace_input,
        legacy_output=root.legacy_trace_output,
    )


def langfuse_sessions(spans: Sequence[Span | ScopedSpan]) -> dict[str | None, list[Trace]]:
    """Langfuse's sessions: each trace (its spans grouped by trace id) under its session id,
    in the order the traces started."""
    by_trace: dict[bytes, list[Span | ScopedSpan]] = {}
    for s in spans:
        span = s.span if isinstance(s, ScopedSpan) else s
        by_trace.setdefault(span.trace_id, []).append(s)
    traces = sorted(
        (langfuse_trace(group) for group in by_trace.values()), key=lambda t: t.root.start_ns
    )
    sessions: dict[str | None, list[Trace]] = {}
    for trace in traces:
        sessions.setdefault(trace.session, []).append(trace)
    return sessions
