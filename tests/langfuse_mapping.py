"""What Langfuse records from an OTLP span: a test-side mirror of its OTel ingestion mapping
(langfuse/langfuse, packages/shared/src/server/otel/OtelIngestionProcessor.ts and
ObservationTypeMapper), reduced to the fields this product relies on.

- type: `langfuse.observation.type`, else `gen_ai.operation.name` (chat → generation,
  invoke_agent → agent, execute_tool → tool), else a model attribute → generation, else span
- model: `langfuse.observation.model.name` > `gen_ai.response.model` > `gen_ai.request.model`
- usage: `langfuse.observation.usage_details` (JSON), else each `gen_ai.usage.*` key without its
  prefix (`input_tokens` → `input`, `output_tokens` → `output`); GenAI input includes the cache
  tokens, which Langfuse subtracts (DESIGN.md, measured)
- cost: `langfuse.observation.cost_details` (JSON), else `{"total": gen_ai.usage.cost}`
- session: `langfuse.session.id` > `session.id` > `gen_ai.conversation.id`;
  user: `langfuse.user.id` > `user.id`; trace name: `langfuse.trace.name`
- level: `langfuse.observation.level`, else ERROR when the status is ERROR
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.otlp_receiver import attributes

OPERATION_TYPES = {"chat": "generation", "invoke_agent": "agent", "execute_tool": "tool"}


def observation_type(a: dict[str, Any]) -> str:
    if a.get("langfuse.observation.type"):
        return str(a["langfuse.observation.type"])
    op = a.get("gen_ai.operation.name")
    if op in OPERATION_TYPES:
        return OPERATION_TYPES[op]
    if a.get("gen_ai.request.model") or a.get("gen_ai.response.model"):
        return "generation"
    return "span"


def usage(a: dict[str, Any]) -> dict[str, int] | None:
    """Normalised to Anthropic's keys: input WITHOUT cache tokens, output, cache read/write."""
    if a.get("langfuse.observation.usage_details"):
        raw = json.loads(a["langfuse.observation.usage_details"])
        return {
            "input": raw.get("input", 0),
            "output": raw.get("output", 0),
            "cache_read": raw.get("cache_read_input_tokens", 0),
            "cache_creation": raw.get("cache_creation_input_tokens", 0),
        }
    if "gen_ai.usage.input_tokens" not in a:
        return None
    read = a.get("gen_ai.usage.cache_read.input_tokens", 0)
    creation = a.get("gen_ai.usage.cache_creation.input_tokens", 0)
    return {
        "input": max(a["gen_ai.usage.input_tokens"] - read - creation, 0),
        "output": a.get("gen_ai.usage.output_tokens", 0),
        "cache_read": read,
        "cache_creation": creation,
    }


def cost(a: dict[str, Any]) -> float | None:
    if a.get("langfuse.observation.cost_details"):
        return float(json.loads(a["langfuse.observation.cost_details"])["total"])
    value = a.get("gen_ai.usage.cost")
    return float(value) if value else None


def record(span: Span, by_id: dict[bytes, Span]) -> dict[str, Any]:
    a = attributes(span)
    kind = observation_type(a)
    path = []
    parent = by_id.get(span.parent_span_id)
    while parent is not None:
        path.append(parent.name)
        parent = by_id.get(parent.parent_span_id)
    level = a.get("langfuse.observation.level") or ("ERROR" if span.status.code == 2 else "DEFAULT")
    out: dict[str, Any] = {
        "type": kind,
        "name": span.name,
        "parents": tuple(reversed(path)),
        "session": a.get("langfuse.session.id") or a.get("session.id"),
        "user": a.get("langfuse.user.id") or a.get("user.id"),
        "trace_name": a.get("langfuse.trace.name"),
        "level": level,
    }
    if kind == "generation":
        out["model"] = (
            a.get("langfuse.observation.model.name")
            or a.get("gen_ai.response.model")
            or a.get("gen_ai.request.model")
        )
        out["usage"] = usage(a)
        c = cost(a)
        out["cost"] = None if c is None else round(c, 12)
    return out


def langfuse_view(spans: list[Span]) -> list[dict[str, Any]]:
    """Every span as Langfuse would record it, in a stable order."""
    by_id = {s.span_id: s for s in spans}
    records = [record(s, by_id) for s in spans]
    return sorted(records, key=lambda r: json.dumps(r, sort_keys=True, default=str))
