"""How long the CLI's exit waits when its OTLP endpoint answers late or never (one run each).

    .venv/bin/python scripts/measure_cli_exit_with_stuck_relay.py

Prints, per receiver mode, the session's wall time and the time from the last model answer to
the session's end (the CLI's exit flush). Results: docs/cli-telemetry.md ("A stuck endpoint").
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.otlp_receiver import OTLPHttpReceiver

from runner.config import RunnerConfig
from runner.launcher import run_session
from runner.offline import OfflineMessagesServer, offline_environment
from runner.offline.script import Usage, bash, text
from runner.otel.export.cli_environment import relay_environment
from runner.output.stdout_events import EventWriter


def run(mode: str, extra: dict[str, str]) -> None:
    receiver = OTLPHttpReceiver(mode=mode)
    script = [bash("echo hi", Usage(100, 10)), text("Done.", Usage(100, 10))]
    server = OfflineMessagesServer(script).start()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "w").mkdir()
            os.environ.update(offline_environment(server.url, root))
            trace_id, span_id = random.getrandbits(128) | 1, random.getrandbits(64) | 1
            env = {
                **relay_environment(receiver.url),
                **extra,
                "TRACEPARENT": f"00-{trace_id:032x}-{span_id:016x}-01",
            }
            config = RunnerConfig(
                session_id="stuck",
                prompt="x",
                timeout_s=120,
                workspace=root / "w",
                allowed_tools=("Bash",),
                cli_env=env,
            )
            started = time.perf_counter()
            outcome = run_session(config, EventWriter(io.StringIO()), [])
            wall = time.perf_counter() - started
            tail = time.time() - max(c.ended for c in server.message_calls)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        receiver.stop()
    print(
        f"{mode} {extra}: ok={outcome.ok} wall {wall:.2f} s, last answer → end {tail:.2f} s, "
        f"requests {len(receiver.requests)}",
        flush=True,
    )


if __name__ == "__main__":
    for mode, extra in [
        ("ok", {}),
        ("ok", {}),
        ("hang", {}),
        ("hang", {"OTEL_EXPORTER_OTLP_TIMEOUT": "1000"}),
        ("slow:3", {}),
    ]:
        run(mode, extra)
