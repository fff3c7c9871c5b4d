"""`claude-runner view`: a recorded session renders deterministically from its event log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runner.output.view import load, render

DATA = Path(__file__).parents[1] / "data"


def test_a_recorded_session_renders_the_same_every_time() -> None:
    events = load((DATA / "session.jsonl").read_text().splitlines())
    expected = (DATA / "session.view.txt").read_text()
    assert render(events) == expected
    assert render(events) == render(list(events))
    assert "✗ error" in expected and "$0.021756" in expected


def test_a_recorded_session_shows_why_it_cost_what_it_cost() -> None:
    """A real session (a subagent, a /compact, a tool) recorded from stdout: cache hit ratio,
    compactions, the subagent's subtotal, and the per-model breakdown, in a golden file."""
    events = load((DATA / "attribution.jsonl").read_text().splitlines())
    expected = (DATA / "attribution.view.txt").read_text()
    assert render(events) == expected
    end = events[-1]
    (query_1,) = [e for e in events if e["type"] == "result" and e["query"] == 1]
    (subagent,) = query_1["subagents"]
    assert f"subagent general-purpose  {subagent['calls']} calls" in expected
    assert f"${subagent['cost_usd']:.6f}" in expected
    assert "compaction (manual)" in expected and "1 compactions" in expected
    model = end["models"]["claude-sonnet-4-5"]
    assert f"${model['cost_usd']:.6f}" in expected
    assert (
        model["cost_usd"] == end["total_cost_usd"]
        or abs(model["cost_usd"] - end["total_cost_usd"]) < 1e-9
    )


def test_the_cli_prints_the_same_view() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runner", "view", str(DATA / "session.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == (DATA / "session.view.txt").read_text()


def test_log_noise_is_skipped_and_subagent_tools_nest_under_their_tool() -> None:
    def ev(kind: str, ts: str, **fields: object) -> str:
        return json.dumps(
            {"type": kind, "ts": f"2026-01-01T00:00:{ts}+00:00", "session_id": "s", **fields}
        )

    lines = [
        "2026-01-01 INFO some log line",
        ev("session_start", "00.000"),
        ev("user_message", "00.100", query=1, text="go"),
        ev("tool_use", "00.200", query=1, id="a1", name="Agent"),
        ev("tool_use", "00.300", query=1, id="b1", name="Read", parent_tool_use_id="a1"),
        ev("tool_result", "00.500", query=1, tool_use_id="b1", is_error=False),
        ev("tool_result", "01.200", query=1, tool_use_id="a1", is_error=False),
        "{not json",
        ev(
            "result",
            "01.300",
            query=1,
            num_turns=2,
            is_error=False,
            total_cost_usd=0.5,
            usage={"input_tokens": 10, "output_tokens": 5},
        ),
        ev(
            "session_end",
            "01.400",
            status="success",
            total_cost_usd=0.5,
            usage={"input_tokens": 10, "output_tokens": 5},
        ),
    ]
    text = render(load(lines))
    assert text.splitlines() == [
        "agentic-session s  1.40s  10→5 tok  $0.500000  ✓",
        "└── query 1  1.20s  2 turns  10→5 tok  $0.500000",
        "    └── tool Agent  1.00s",
        "        └── tool Read  0.20s",
    ]


def test_a_file_without_events_is_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("just logs\n")
    done = subprocess.run(
        [sys.executable, "-m", "runner", "view", str(empty)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "no session events" in done.stderr
