"""The credential check's verdicts, against a local server answering each case."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runner.session.preflight import check_model_access


@pytest.fixture
def endpoint() -> Iterator[dict[str, object]]:
    """A server answering /v1/models with `state["status"]` (or sleeping `state["sleep"]`)."""
    state: dict[str, object] = {"status": 200, "sleep": 0.0, "headers": {}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            state["headers"] = dict(self.headers)
            time.sleep(float(state["sleep"]))  # type: ignore[arg-type]
            status = int(state["status"])  # type: ignore[call-overload]
            body = json.dumps({"type": "error", "error": {"type": "x_error", "message": "m"}})
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout case)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def _env(state: dict[str, object], **extra: str) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "sk-ant-test-0000",
        "ANTHROPIC_BASE_URL": str(state["url"]),
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "ok"), (401, "refused"), (403, "refused"), (404, "inconclusive"), (503, "inconclusive")],
)
def test_verdict_by_status(endpoint: dict[str, object], status: int, verdict: str) -> None:
    endpoint["status"] = status
    result = check_model_access(_env(endpoint))
    assert result.verdict == verdict and result.fatal is (verdict == "refused")
    headers = {k.lower(): v for k, v in endpoint["headers"].items()}  # type: ignore[attr-defined]
    assert headers["x-api-key"] == "sk-ant-test-0000"
    assert headers["anthropic-version"] == "2023-06-01"
    if verdict == "refused":
        assert "ANTHROPIC_API_KEY was refused by ANTHROPIC_BASE_URL=" in result.message
        assert "sk-ant-test-0000" not in result.message


def test_a_bearer_token_is_sent_as_authorization(endpoint: dict[str, object]) -> None:
    env = {"ANTHROPIC_AUTH_TOKEN": "tok-123456", "ANTHROPIC_BASE_URL": str(endpoint["url"])}
    endpoint["status"] = 401
    result = check_model_access(env)
    assert result.verdict == "refused" and result.message.startswith("ANTHROPIC_AUTH_TOKEN")
    headers = {k.lower(): v for k, v in endpoint["headers"].items()}  # type: ignore[attr-defined]
    assert headers["authorization"] == "Bearer tok-123456"


def test_a_slow_endpoint_is_inconclusive_within_the_timeout(endpoint: dict[str, object]) -> None:
    endpoint["sleep"] = 30.0
    started = time.monotonic()
    result = check_model_access(_env(endpoint), timeout_s=0.3)
    assert result.verdict == "inconclusive" and time.monotonic() - started < 10  # not 30 s


def test_refused_connection_is_unreachable_and_vertex_is_skipped() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = check_model_access({"ANTHROPIC_API_KEY": "k" * 8, "ANTHROPIC_BASE_URL": url})
    assert result.verdict == "unreachable" and f"ANTHROPIC_BASE_URL={url}" in result.message
    vertex = {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p"}
    assert check_model_access(vertex).verdict == "skipped"
