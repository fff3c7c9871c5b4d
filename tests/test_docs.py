"""The docs are checked against the code: every variable the runner reads and every stdout event
type it writes is documented in README."""

from __future__ import annotations

import re
from pathlib import Path

from runner import environment_variables as ev
from runner.otel.export.environment_variables import TELEMETRY_VARIABLES

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_every_runner_variable_is_in_the_readme() -> None:
    own = [v for v in TELEMETRY_VARIABLES if not v.startswith("OTEL_") or "GENAI" in v]
    missing = [name for name in (*ev.CONTRACT, *own) if f"`{name}`" not in README]
    assert not missing, f"not documented in README: {missing}"


def test_every_stdout_event_type_is_in_the_readme() -> None:
    sources = [
        ROOT / "src" / "runner" / name for name in ("output/stdout_events.py", "launcher.py")
    ]
    emitted = set()
    for source in sources:
        text = source.read_text()
        emitted |= set(re.findall(r'emit\(\s*"([a-z_]+)"', text))
    assert {"session_start", "result", "session_end", "tool_use"} <= emitted
    missing = [kind for kind in sorted(emitted) if f"| `{kind}` |" not in README]
    assert not missing, f"stdout events not documented in README: {missing}"


def test_readme_first_screen_gives_the_two_fresh_machine_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "scripts/demo" in first_screen and "scripts/test" in first_screen
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci
