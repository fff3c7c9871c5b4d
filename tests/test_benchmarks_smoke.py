"""The benchmark harness runs end to end (one quick run per scenario). No timing is asserted:
figures come from benchmarks/RESULTS.md, recorded with repeated runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.timeout(600)
def test_every_scenario_produces_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "all", "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for heading in ("## overhead", "## mapper", "## exit", "## startup", "## export", "## fleet"):
        assert heading in out
    assert "plain SDK loop + openinference" in out
    assert "| refusing |" in out and "| hanging |" in out
    assert "bytes per span on the wire, protobuf + gzip" in out
    assert "spans per collector CPU-second" in out and "| 2 | 44 / 44 |" in out
