"""The relay's benchmark runs (one quick pass of the per-span scenario; no timing asserted:
figures come from repeated runs, recorded in benchmarks/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_per_span_scenario_produces_its_table_from_the_real_captures() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cli_relay.py"), "span", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "## cli relay: cost per CLI span" in done.stdout
    assert "| decode only (protobuf → CliSpan) |" in done.stdout
    assert "11 requests, 65 spans" in done.stdout  # every captured span was replayed
