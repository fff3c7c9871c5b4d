"""A local Langfuse for end-to-end tests: its OTel traces route (spans kept, decoded), the scores
contract of tests/support/langfuse_scores.py behind its real routes, and the project lookup.

    POST /api/public/otel/v1/traces     OTLP/HTTP protobuf (gzip ok): spans kept
    POST /api/public/ingestion          score-create events → ScoresServer.post_ingestion (207)
    POST /api/public/scores             one score → ScoresServer.post (200 {"id"})
    GET  /api/public/projects           {"data": [{"id": PROJECT_ID, ...}]}
    GET  /api/public/v3/scores?...      ScoresServer.get_v3

The worker runs at once after each accepted request (`process()`), so a test reads back what a
real deployment shows after its queue. `mode="hang"` holds every request unanswered (a backend
that is down but accepts connections).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.langfuse_scores import ScoresServer

PUBLIC_KEY = "pk-lf-test"
SECRET_KEY = "sk-lf-test-secret"
PROJECT_ID = "proj-e2e"
BASIC = "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()


@dataclass
class LangfuseServer:
    mode: str = "ok"
    scores: ScoresServer = field(default_factory=ScoresServer)
    spans: list[Span] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, status) of every request."""
    bodies: list[Any] = field(default_factory=list)
    """Every JSON body posted to the scores routes."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.scores.keys[(PUBLIC_KEY, SECRET_KEY)] = PROJECT_ID
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                url = urlparse(self.path)
                if server.mode == "hang":
                    server._stop.wait(60)
                    return
                if url.path == "/api/public/projects":
                    ok = headers.get("authorization") == BASIC
                    status = 200 if ok else 401
                    body = {"data": [{"id": PROJECT_ID, "name": "e2e"}]} if ok else {}
                elif url.path == "/api/public/v3/scores":
                    with server._lock:
                        answer = server.scores.get_v3(headers, dict(parse_qsl(url.query)))
                    status, body = answer.status, answer.body
                else:
                    status, body = 404, {"message": "not found"}
                server.requests.append(("GET", url.path, status))
                self._answer(status, json.dumps(body).encode())

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    raw = gzip.decompress(raw)
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = urlparse(self.path).path
                if server.mode == "hang":
                    server.requests.append(("POST", path, -1))
                    server._stop.wait(60)
                    return
                if path == "/api/public/otel/v1/traces":
                    status = 200 if headers.get("authorization") == BASIC else 401
                    if status == 200:
                        request = ExportTraceServiceRequest.FromString(raw)
                        with server._lock:
                            for resource in request.resource_spans:
                                for scope in resource.scope_spans:
                                    server.spans.extend(scope.spans)
                    server.requests.append(("POST", path, status))
                    body = ExportTraceServiceResponse().SerializeToString()
                    self._answer(status, body, "application/x-protobuf")
                    return
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
                with server._lock:
                    server.bodies.append(payload)
                    if path == "/api/public/ingestion":
                        answer = server.scores.post_ingestion(headers, payload)
                    elif path == "/api/public/scores":
                        answer = server.scores.post(headers, payload)
                    else:
                        answer = None
                    server.scores.process()
                status = 404 if answer is None else answer.status
                server.requests.append(("POST", path, status))
                body = {"message": "not found"} if answer is None else answer.body
                self._answer(status, json.dumps(body).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The runner's variables for this Langfuse (direct export)."""
        return {
            "LANGFUSE_PUBLIC_KEY": PUBLIC_KEY,
            "LANGFUSE_SECRET_KEY": SECRET_KEY,
            "LANGFUSE_BASE_URL": self.url,
        }

    def read_scores(self, trace_id: str, **query: str) -> list[dict[str, Any]]:
        """GET /api/public/v3/scores?traceId=…, as a platform backend reads them back."""
        from urllib.request import Request, urlopen

        params = "&".join(f"{k}={v}" for k, v in {"traceId": trace_id, **query}.items())
        request = Request(f"{self.url}/api/public/v3/scores?{params}&limit=100")
        request.add_header("Authorization", BASIC)
        with urlopen(request, timeout=10) as response:
            return list(json.loads(response.read())["data"])

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
