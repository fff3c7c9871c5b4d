"""The scripted Messages API server speaks the streaming format the CLI expects.

A broken fake would make the end-to-end tests pass for the wrong reason, so it is tested alone.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlparse

from runner.offline import Failure, OfflineMessagesServer, Reply, Text, ToolUse, Usage, text


def _post(server: OfflineMessagesServer, body: dict[str, Any]) -> tuple[int, bytes]:
    url = urlparse(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(
            "POST", "/v1/messages?beta=true", json.dumps(body), {"content-type": "application/json"}
        )
        resp = conn.getresponse()
        try:
            data = resp.read()
        except http.client.IncompleteRead as exc:
            data = exc.partial
        return resp.status, data
    finally:
        conn.close()


def _events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for chunk in raw.decode().split("\n\n"):
        if not chunk.strip():
            continue
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def _ask(text_: str) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "stream": True,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text_}]}],
    }


def test_a_reply_streams_start_blocks_delta_and_stop_with_usage() -> None:
    usage = Usage(
        input_tokens=11,
        output_tokens=22,
        cache_read_input_tokens=33,
        cache_creation_input_tokens=44,
    )
    reply = Reply(content=(Text("hi"), ToolUse("Bash", {"command": "ls"})), usage=usage)
    with OfflineMessagesServer([reply]) as server:
        status, raw = _post(server, _ask("go"))
    assert status == 200
    events = _events(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["usage"] == {
        "input_tokens": 11,
        "cache_creation_input_tokens": 44,
        "cache_read_input_tokens": 33,
        "output_tokens": 1,
        "cache_creation": {"ephemeral_5m_input_tokens": 44, "ephemeral_1h_input_tokens": 0},
    }
    tool = events[4][1]["content_block"]
    assert tool["type"] == "tool_use" and tool["name"] == "Bash"
    assert json.loads(events[5][1]["delta"]["partial_json"]) == {"command": "ls"}
    delta = events[7][1]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"] == {"output_tokens": 22}
    call = server.served[0]
    assert call.message_id == start["id"] and call.tool_use_ids == [tool["id"]]
    assert call.usage["output_tokens"] == 22


def test_failure_answers_in_the_api_error_format() -> None:
    with OfflineMessagesServer([Failure(529, "busy")]) as server:
        status, raw = _post(server, _ask("go"))
    assert status == 529
    assert json.loads(raw) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }


def test_steps_are_taken_by_match_then_in_order() -> None:
    with OfflineMessagesServer(
        [text("A", Usage(1, 1), match="alpha"), text("B", Usage(2, 2))]
    ) as server:
        _post(server, _ask("beta question"))
        _post(server, _ask("alpha question"))
        status, raw = _post(server, _ask("anything"))
    assert [c.step for c in server.served] == [1, 0, None]
    assert status == 500 and b"exhausted" in raw
    assert len(server.exhausted_calls) == 1


def test_a_cut_stream_stops_before_message_delta() -> None:
    reply = Reply(content=(Text("a"), Text("b")), usage=Usage(1, 1), cut_after_blocks=1)
    with OfflineMessagesServer([reply]) as server:
        _, raw = _post(server, _ask("go"))
    names = [name for name, _ in _events(raw)]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
    ]
    assert server.served[0].status == 0


def test_server_binds_loopback_only() -> None:
    with OfflineMessagesServer([]) as server:
        assert urlparse(server.url).hostname == "127.0.0.1"
