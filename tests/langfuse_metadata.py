"""What Langfuse keeps as an observation's metadata (its OTel ingestion, real-time v4 path), for
the test view (tests/langfuse_view.py). Read from the server's source, langfuse/langfuse at
6275144 (2026-08-22): `OtelIngestionProcessor.ts` (`processToEvents`, `extractMetadata`,
`extractPrefixedMetadataAttributes`, `parseMetadataAttribute`, `extractInputAndOutput`,
`convertValueToPlainJavascript`) and `otel/utils.ts::flattenJsonToPathArrays`
(docs/langfuse.md).

The metadata object of one observation is

    {"attributes": {key: value as a string} (NOT for spans of a `langfuse-sdk*` scope),
     "resourceAttributes": {...}, "scope": {"name", "version", "attributes"},
     **observation metadata, **trace metadata}          (later keys win, even over "scope")

- observation metadata: the JSON object in `langfuse.observation.metadata` (else
  `langfuse.metadata`; a non-object or invalid JSON is dropped), then every attribute
  `langfuse.observation.metadata.<key>`, `langfuse.metadata.<key>` or
  `ai.telemetry.metadata.<key>` as `<key>` — the rest of the name kept as one key, dots and
  all, the value as sent (a string is NOT parsed as JSON). Trace metadata the same with
  `langfuse.trace.metadata`. On the real-time path both land on the observation itself.
- "attributes": every span attribute except input/output keys and the metadata keys above,
  non-strings as JSON text (`0.5` → "0.5", `true` → "true", arrays → `["a","b"]`).
- Stored (the events table's metadata_names/metadata_values, what filters and the API read):
  the object flattened to dotted paths (nested objects only; arrays stay JSON), every leaf a
  string: strings as they are, anything else as JavaScript's JSON.stringify writes it.
  The trace's metadata is its root observation's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SDK_SCOPE_PREFIX = "langfuse-sdk"
OBSERVATION_METADATA = "langfuse.observation.metadata"
TRACE_METADATA = "langfuse.trace.metadata"
COMPAT_PREFIXES = ("langfuse.metadata", "ai.telemetry.metadata")
EXCLUDED_KEYS = frozenset(
    f"ai.telemetry.metadata.{k}" for k in ("userId", "sessionId", "tags", "langfusePrompt")
)
DROPPED_PREFIXES = (
    "gen_ai.prompt",
    "gen_ai.completion",
    "llm.input_messages",
    "llm.output_messages",
    TRACE_METADATA,
    OBSERVATION_METADATA,
    "ai.telemetry.metadata",
)
# extractInputAndOutput's potentialInputOutputKeys: removed from "attributes" whatever their use.
INPUT_OUTPUT_KEYS = frozenset(
    {
        "langfuse.trace.input",
        "langfuse.trace.output",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "ai.prompt.messages",
        "ai.prompt",
        "ai.toolCall.args",
        "ai.response.text",
        "ai.result.text",
        "ai.toolCall.result",
        "ai.response.object",
        "ai.result.object",
        "ai.response.toolCalls",
        "ai.result.toolCalls",
        "gcp.vertex.agent.llm_request",
        "gcp.vertex.agent.llm_response",
        "gcp.vertex.agent.tool_call_args",
        "gcp.vertex.agent.tool_response",
        "prompt",
        "all_messages_events",
        "events",
        "lk.input_text",
        "lk.user_transcript",
        "lk.chat_ctx",
        "lk.user_input",
        "lk.function_tool.output",
        "lk.response.text",
        "mlflow.spanInputs",
        "mlflow.spanOutputs",
        "traceloop.entity.input",
        "traceloop.entity.output",
        "input.value",
        "output.value",
        "final_result",
        "pydantic_ai.all_messages",
        "gen_ai.system_instructions",
        "input",
        "output",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "genkit:input",
        "genkit:output",
        "flue.turn.input",
        "flue.turn.output",
        "flue.tool.arguments",
        "flue.tool.result",
        "flue.task.prompt",
        "flue.task.result",
        "flue.operation.result",
        "flue.workflow.payload",
        "flue.workflow.result",
    }
)


@dataclass(frozen=True)
class Scope:
    """The instrumentation scope and resource a span arrived with."""

    name: str = ""
    version: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def is_langfuse_sdk(self) -> bool:
        return self.name.startswith(SDK_SCOPE_PREFIX)


def js_number(value: float) -> str:
    """JavaScript's Number.prototype.toString (what JSON.stringify writes for a number)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    shortest = Decimal(repr(abs(float(value)))).normalize()
    _, digit_tuple, exponent = shortest.as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k  # the decimal point's position, ECMA-262 Number::toString
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def js_stringify(value: Any) -> str:
    """JSON.stringify of a plain value (compact, numbers as JavaScript writes them)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{js_stringify(v)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    return json.dumps(str(value))


def _parsed_object(raw: Any) -> dict[str, Any]:
    """parseMetadataAttribute: a JSON object string or an object; anything else is dropped."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def user_metadata(attributes: dict[str, Any], prefix: str) -> dict[str, Any]:
    """extractMetadata for one domain (`OBSERVATION_METADATA` or `TRACE_METADATA`)."""
    primary = attributes.get(prefix)
    out = dict(_parsed_object(primary or attributes.get("langfuse.metadata")))
    for key, value in attributes.items():
        if key in EXCLUDED_KEYS:
            continue
        for p in (prefix, *COMPAT_PREFIXES):
            if key.startswith(p + ".") and len(key) > len(p) + 1:
                out[key[len(p) + 1 :]] = value
    return out


def attributes_in_metadata(attributes: dict[str, Any]) -> dict[str, str]:
    """extractInputAndOutput's filteredAttributes: what "attributes" holds."""
    return {
        key: value if isinstance(value, str) else js_stringify(value)
        for key, value in attributes.items()
        if key not in INPUT_OUTPUT_KEYS and not key.startswith(DROPPED_PREFIXES)
    }


def observation_metadata(attributes: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The metadata object of the observation a span becomes (real-time path)."""
    base: dict[str, Any] = {}
    if not scope.is_langfuse_sdk:
        base["attributes"] = attributes_in_metadata(attributes)
    base["resourceAttributes"] = dict(scope.resource)
    base["scope"] = {"name": scope.name, "version": scope.version, "attributes": scope.attributes}
    return {
        **base,
        **user_metadata(attributes, OBSERVATION_METADATA),
        **user_metadata(attributes, TRACE_METADATA),
    }


def stored(metadata: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """flattenJsonToPathArrays: dotted paths through nested objects, every leaf a string."""
    out: dict[str, str] = {}
    for key, value in metadata.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(stored(value, path))
        elif value is None:
            out[path] = ""
        else:
            out[path] = value if isinstance(value, str) else js_stringify(value)
    return out
