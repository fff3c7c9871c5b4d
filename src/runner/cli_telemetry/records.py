"""What the Claude Code CLI's telemetry holds, as typed records: OTLP request bodies → `CliSpan`
and `CliLogEvent`, and the number of metric data points (the relay drops those, see relay.py).

Ids are ints, as the OpenTelemetry SDK holds them (`PresetIds` hands out the same form), so the
CLI's `parent_span_id` compares directly with the session span's id. Attribute values keep their
OTLP types (the CLI sends counts as ints, e.g. `input_tokens`, `duration_ms`); arrays become
tuples, so a record is immutable all the way down.

Measured shapes (CLI 2.1.332; docs/cli-telemetry.md): the CLI sends protobuf (never gzip) with
one resource and one scope per request; this module also reads gzip and OTLP/JSON, which the
OTLP exporters of other versions may send.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

AttributeValue: TypeAlias = (
    str | bool | int | float | bytes | tuple[Any, ...] | Mapping[str, Any] | None
)
Attributes: TypeAlias = Mapping[str, AttributeValue]
SpanStatus: TypeAlias = Literal["unset", "ok", "error"]
_STATUS: dict[int, SpanStatus] = {0: "unset", 1: "ok", 2: "error"}
_EMPTY: Attributes = MappingProxyType({})


@dataclass(frozen=True, kw_only=True, slots=True)
class CliSpanEvent:
    name: str
    time_ns: int
    attributes: Attributes = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, kw_only=True, slots=True)
class CliSpan:
    """One span the CLI ended (it exports ended spans only)."""

    name: str
    """e.g. `claude_code.interaction`, `claude_code.llm_request`, `claude_code.tool`."""
    trace_id: int
    span_id: int
    parent_span_id: int | None
    """None for a root span; the session span's id for `claude_code.interaction` when the CLI
    was given the session's TRACEPARENT."""
    start_ns: int
    end_ns: int
    status: SpanStatus = "unset"
    status_message: str = ""
    attributes: Attributes = field(default_factory=lambda: _EMPTY)
    events: tuple[CliSpanEvent, ...] = ()
    scope: str = ""
    resource: Attributes = field(default_factory=lambda: _EMPTY, repr=False)
    """Shared by every record of one request (service.name, service.version = CLI version)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CliLogEvent:
    """One log event (`claude_code.api_request`, `claude_code.tool_decision`, ...).

    `trace_id`/`span_id` are the span that was active when the CLI emitted it (mostly the
    interaction; `tool_decision` under `tool.blocked_on_user`); 0 when none was."""

    name: str
    time_ns: int
    trace_id: int
    span_id: int
    attributes: Attributes = field(default_factory=lambda: _EMPTY)
    severity: str = ""
    scope: str = ""
    resource: Attributes = field(default_factory=lambda: _EMPTY, repr=False)


CliRecord: TypeAlias = CliSpan | CliLogEvent


class BadPayload(ValueError):
    """A request body that is not an OTLP message of the expected kind."""


def body_bytes(raw: bytes, content_encoding: str) -> bytes:
    """The request body without its transfer encoding (gzip, deflate, or none)."""
    encoding = content_encoding.strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (OSError, zlib.error, EOFError) as exc:
        raise BadPayload(f"{encoding} body does not decompress: {exc}") from exc
    if encoding not in ("", "identity"):
        raise BadPayload(f"unsupported Content-Encoding {encoding!r}")
    return raw


def decode_spans(body: bytes, *, json_body: bool = False) -> list[CliSpan]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    message = _parse(ExportTraceServiceRequest(), body, json_body)
    out: list[CliSpan] = []
    for resource_spans in message.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                out.append(
                    CliSpan(
                        name=span.name,
                        trace_id=int.from_bytes(span.trace_id, "big"),
                        span_id=int.from_bytes(span.span_id, "big"),
                        parent_span_id=int.from_bytes(span.parent_span_id, "big") or None,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status=_STATUS.get(span.status.code, "unset"),
                        status_message=span.status.message,
                        attributes=_attributes(span.attributes),
                        events=tuple(
                            CliSpanEvent(
                                name=e.name,
                                time_ns=e.time_unix_nano,
                                attributes=_attributes(e.attributes),
                            )
                            for e in span.events
                        ),
                        scope=scope,
                        resource=resource,
                    )
                )
    return out


def decode_logs(body: bytes, *, json_body: bool = False) -> list[CliLogEvent]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    message = _parse(ExportLogsServiceRequest(), body, json_body)
    out: list[CliLogEvent] = []
    for resource_logs in message.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope.name
            for record in scope_logs.log_records:
                body_value = _value(record.body)
                name = body_value if isinstance(body_value, str) else ""
                out.append(
                    CliLogEvent(
                        name=record.event_name or name,
                        time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                        trace_id=int.from_bytes(record.trace_id, "big"),
                        span_id=int.from_bytes(record.span_id, "big"),
                        attributes=_attributes(record.attributes),
                        severity=record.severity_text,
                        scope=scope,
                        resource=resource,
                    )
                )
    return out


def count_metric_points(body: bytes, *, json_body: bool = False) -> int:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    message = _parse(ExportMetricsServiceRequest(), body, json_body)
    points = 0
    for resource_metrics in message.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    points += len(getattr(metric, kind).data_points)
    return points


def _parse(message: Any, body: bytes, json_body: bool) -> Any:
    from google.protobuf.json_format import ParseDict, ParseError  # type: ignore[import-untyped]
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    try:
        if json_body:
            ParseDict(_hex_ids_to_base64(json.loads(body)), message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    except (DecodeError, ValueError, TypeError, ParseError) as exc:
        raise BadPayload(f"not an OTLP {type(message).__name__}: {exc}") from exc
    return message


_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        return {
            key: (
                base64.b64encode(bytes.fromhex(value)).decode()
                if key in _ID_KEYS and isinstance(value, str)
                else _hex_ids_to_base64(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def _attributes(pairs: Any) -> Attributes:
    if not pairs:
        return _EMPTY
    return MappingProxyType({kv.key: _value(kv.value) for kv in pairs})


def _value(value: Any) -> AttributeValue:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return MappingProxyType({kv.key: _value(kv.value) for kv in value.kvlist_value.values})
    result: AttributeValue = getattr(value, kind)
    return result
