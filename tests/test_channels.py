"""stdout events and stdin parsing."""

from __future__ import annotations

import asyncio
import io
import json
import os

import pytest

from runner.channels import END_SESSION, EventWriter, InputChannel, parse_input_line
from runner.config import Tenancy
from runner.redaction import Redactor
from runner.types import QueryOutcome, SessionOutcome, SessionStart, Usage


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('{"type":"user_message","text":"hi"}', "user_message"),
        ('{"type":"end_session"}', "end_session"),
        ("   ", "skip"),
        ("nope", None),
        ("[1,2]", None),
        ('{"type":"user_message","text":""}', None),
        ('{"type":"user_message"}', None),
        ('{"type":"shout","text":"x"}', None),
    ],
)
def test_parse_input_line(line: str, kind: str | None) -> None:
    got, detail = parse_input_line(line)
    assert got == kind
    if kind is None:
        assert detail and "\n" not in detail


def _lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_event_writer_emits_one_json_object_per_line_with_per_query_cost() -> None:
    buf = io.StringIO()
    writer = EventWriter(buf, Redactor())
    writer.on_session_start(
        SessionStart("s", "m", False, "/w", Tenancy("ns", "p", "u"), "hi", at_ns=1_000_000_000)
    )
    outcome = QueryOutcome(1, 2_000_000_000, False, "success", 2, 10, Usage(1, 2, 3, 4), 0.25, 1.5)
    writer.on_query_end(outcome)
    writer.on_session_end(SessionOutcome("success", 0, 3_000_000_000, queries=(outcome,)))
    events = _lines(buf)
    assert [e["type"] for e in events] == ["session_start", "result", "session_end"]
    assert events[0]["namespace"] == "ns" and events[0]["ts"] == "1970-01-01T00:00:01.000+00:00"
    assert events[1]["total_cost_usd"] == 0.25
    assert events[2]["total_cost_usd"] == 0.25
    assert events[2]["usage"] == {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_read_input_tokens": 3,
        "cache_creation_input_tokens": 4,
    }


def test_event_writer_redacts_error_text() -> None:
    buf = io.StringIO()
    writer = EventWriter(buf, Redactor(["supersecretvalue"]))
    writer.on_session_end(
        SessionOutcome("error", 1, 1, error_type="runner_error", error_message="x supersecretvalue")
    )
    assert "supersecretvalue" not in buf.getvalue()


async def test_input_channel_skips_malformed_lines_and_ends_at_eof() -> None:
    errors: list[tuple[int, str]] = []
    stream = io.StringIO('garbage\n{"type":"user_message","text":"one"}\n\n{"type":"x"}\n')
    channel = InputChannel(stream, on_error=lambda n, m: errors.append((n, m)))
    channel.start()
    assert await channel.next_message(5) == "one"
    assert await channel.next_message(5) is END_SESSION
    await asyncio.sleep(0)
    assert [n for n, _ in errors] == [1, 4]


async def test_input_channel_times_out_when_idle() -> None:
    r, w = os.pipe()  # an open pipe with no writer activity: reads block, no EOF
    try:
        channel = InputChannel(os.fdopen(r, "r"))
        channel.start()
        with pytest.raises(TimeoutError):
            await channel.next_message(0.2)
    finally:
        os.close(w)
