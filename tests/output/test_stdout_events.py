"""stdout events and stdin parsing."""

from __future__ import annotations

import asyncio
import io
import json
import os

import pytest

from runner.accounting.figures import Figures, LedgerFigures, SubagentFigures
from runner.accounting.usage import Usage
from runner.config import Tenancy
from runner.output.stdout_events import EventWriter
from runner.redaction import Redactor
from runner.session.stdin_input import END_SESSION, InputChannel, parse_input_line
from runner.session.types import QueryOutcome, SessionOutcome, SessionStart


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


def test_event_writer_writes_the_ledgers_figures_one_json_object_per_line() -> None:
    buf = io.StringIO()
    writer = EventWriter(buf, Redactor())
    writer.on_session_start(
        SessionStart(
            session_id="s",
            model="m",
            interactive=False,
            workspace="/w",
            tenancy=Tenancy("ns", "p", "u"),
            prompt="hi",
            at_ns=1_000_000_000,
        )
    )
    usage = Usage(
        input_tokens=1, output_tokens=2, cache_read_input_tokens=3, cache_creation_input_tokens=4
    )
    figures = LedgerFigures(
        total=Figures(calls=2, usage=usage, cost_usd=0.25),
        subagents=(
            SubagentFigures(
                thread="t1",
                parent=None,
                agent_type="Explore",
                figures=Figures(calls=1, cost_usd=0.1),
            ),
        ),
        reported_cost_usd=0.25,
    )
    outcome = QueryOutcome(
        index=1, at_ns=2_000_000_000, is_error=False, subtype="success", figures=figures
    )
    writer.on_query_end(outcome)
    writer.on_session_end(
        SessionOutcome(
            status="success", exit_code=0, at_ns=3_000_000_000, queries=(outcome,), figures=figures
        )
    )
    events = _lines(buf)
    assert [e["type"] for e in events] == ["session_start", "result", "session_end"]
    assert events[0]["namespace"] == "ns" and events[0]["ts"] == "1970-01-01T00:00:01.000+00:00"
    for event in events[1:]:
        assert event["total_cost_usd"] == 0.25 and event["reported_cost_usd"] == 0.25
        assert event["llm_calls"] == 2
        assert event["subagents"] == [
            {
                "type": "Explore",
                "tool_use_id": "t1",
                "calls": 1,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cost_usd": 0.1,
            }
        ]
        assert event["usage"] == {
            "input_tokens": 1,
            "output_tokens": 2,
            "cache_read_input_tokens": 3,
            "cache_creation_input_tokens": 4,
        }


def test_event_writer_redacts_error_text() -> None:
    buf = io.StringIO()
    writer = EventWriter(buf, Redactor(["supersecretvalue"]))
    writer.on_session_end(
        SessionOutcome(
            status="error",
            exit_code=1,
            at_ns=1,
            error_type="runner_error",
            error_message="x supersecretvalue",
        )
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


def test_one_event_is_one_line_for_every_line_reader() -> None:
    """U+0085, U+2028 and U+2029 end a line for str.splitlines and JavaScript: escaped."""
    buf = io.StringIO()
    EventWriter(buf, Redactor()).emit("assistant_text", 1, text="a\x85b\u2028c\u2029d")
    (line,) = buf.getvalue().splitlines()
    assert json.loads(line)["text"] == "a\x85b\u2028c\u2029d"
