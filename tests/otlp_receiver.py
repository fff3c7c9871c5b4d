"""Local OTLP receivers for tests: HTTP (protobuf, gzip, Basic auth, fault modes) and gRPC.

They play a collector or Langfuse's OTel endpoint on 127.0.0.1: requests are decoded from
protobuf and kept, so tests assert on what really crossed the socket.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw_size: int
    body: bytes
    status: int
    at: float = field(default_factory=time.time)
    """When the request was answered (epoch seconds): export latency is measured against it."""


def attributes(span: Span) -> dict[str, Any]:
    """A decoded span's attributes as Python values."""
    out: dict[str, Any] = {}
    for kv in span.attributes:
        out[kv.key] = any_value(kv.value)
    return out


def any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


@dataclass
class OTLPHttpReceiver:
    """mode: `ok`, an HTTP status code (401, 429, 503, ...), `hang` (never answers) or
    `slow:<seconds>` (answers 200 after that long; the request is kept once answered).
    `auth`: the exact Authorization header required (else 401). `required_headers`: headers
    that must be present with these values (else 400, as MLflow answers a missing experiment
    header). `not_found`: path suffixes answered 404 (MLflow: `/v1/metrics`)."""

    mode: str | int = "ok"
    auth: str | None = None
    required_headers: dict[str, str] = field(default_factory=dict)
    not_found: tuple[str, ...] = ()
    delay_s: float = 0.0
    """Every request waits this long before it is answered (a slow backend); settable live."""
    keep_bodies: bool = True
    """False: keep each request's size and headers only (benchmarks that send millions of spans)."""
    port: int = 0
    """0: any free port; else that port (to come back up where a sender expects it)."""
    requests: list[Received] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:
                """Langfuse's /api/public/projects, for `doctor`'s key check."""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._status(headers)
                receiver.requests.append(Received(self.path, headers, 0, b"", status))
                if status == -1:
                    receiver._stop.wait(60)
                    return
                found = self.path.startswith("/api/public/projects")
                body = json.dumps(
                    {"data": [{"id": "p-1", "name": "test-project"}]} if status == 200 else {}
                ).encode()
                self.send_response(status if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = raw
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(raw)
                elif encoding == "deflate":
                    body = zlib.decompress(raw)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._status(headers)
                if status != -1 and self.path.endswith(receiver.not_found):
                    status = 404
                kept = body if receiver.keep_bodies else b""
                receiver.requests.append(Received(self.path, headers, len(raw), kept, status))
                if status == -1:  # hang: hold the connection until the test ends
                    receiver._stop.wait(60)
                    return
                answer = (
                    ExportTraceServiceResponse().SerializeToString()
                    if "traces" in self.path
                    else ExportMetricsServiceResponse().SerializeToString()
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                if status in (429, 503):
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(answer)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def _status(self, headers: dict[str, str]) -> int:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.mode == "hang":
            return -1
        slow = isinstance(self.mode, str) and self.mode.startswith("slow:")
        if slow:
            time.sleep(float(str(self.mode).split(":", 1)[1]))
        if self.auth is not None and headers.get("authorization") != self.auth:
            return 401
        if any(headers.get(k.lower()) != v for k, v in self.required_headers.items()):
            return 400
        return 200 if self.mode == "ok" or slow else int(self.mode)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def spans(self, path_suffix: str = "/v1/traces") -> list[Span]:
        out: list[Span] = []
        for request in self.requests:
            if request.path.endswith(path_suffix) and request.status == 200:
                message = ExportTraceServiceRequest()
                message.ParseFromString(request.body)
                for resource_spans in message.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        out.extend(scope_spans.spans)
        return out

    def resources(self) -> list[dict[str, Any]]:
        out = []
        for request in self.requests:
            if request.path.endswith("/v1/traces") and request.status == 200:
                message = ExportTraceServiceRequest()
                message.ParseFromString(request.body)
                for resource_spans in message.resource_spans:
                    out.append(
                        {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes}
                    )
        return out

    def metric_names(self) -> set[str]:
        names: set[str] = set()
        for request in self.requests:
            if request.path.endswith("/v1/metrics") and request.status == 200:
                message = ExportMetricsServiceRequest()
                message.ParseFromString(request.body)
                for rm in message.resource_metrics:
                    for sm in rm.scope_metrics:
                        names.update(m.name for m in sm.metrics)
        return names


class OTLPGrpcReceiver:
    """An OTLP/gRPC trace and metrics receiver on 127.0.0.1."""

    def __init__(self) -> None:
        import grpc
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

        self.spans: list[Span] = []
        self.metadata: list[dict[str, str]] = []
        receiver = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
                receiver.metadata.append(dict(context.invocation_metadata()))
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(scope_spans.spans)
                return ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
                return ExportMetricsServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.stop(0)
