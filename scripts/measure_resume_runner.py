"""The runner on a resumed session, measured: each run's trace total (the Langfuse view of its
exported spans), its stdout totals, and Claude Code's figures (this run's and cumulative).

    .venv/bin/python scripts/measure_resume_runner.py        # ~40 s on 2 cores

Real `claude-runner` processes, the real SDK and CLI, against the scripted Messages API server
(runner.offline), spans to a local Langfuse-like receiver (tests/otlp_receiver.py), put through
tests/langfuse_view.py. Prints one Markdown table per scenario (docs/resume.md quotes them).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import Finished, Runner
from tests.langfuse_view import langfuse_sessions
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, LANGFUSE_PATH, langfuse_env

from runner.offline import Usage, bash, text

FIRST = [
    bash("echo one", Usage(1000, 100, 0, 4000), match="FIRST"),
    text("First done.", Usage(20, 30, 4000)),
]
SECOND = [
    bash("echo two", Usage(7, 40, 5000, 300), match="SECOND"),
    text("Second done.", Usage(5, 50, 5300)),
]
THIRD = [text("Third done.", Usage(3, 60, 500), match="THIRD")]


def _interactive(runner: Runner, script: list[Any], prompts: list[str], **env: Any) -> Finished:
    running = runner.start(script, stdin=True, INTERACTIVE="true", PROMPT=prompts[0], **env)

    def results() -> int:
        return len([e for e in running.events if e["type"] == "result"])

    for n, prompt in enumerate(prompts[1:], start=1):
        running.wait_until(lambda n=n: results() >= n)
        running.send({"type": "user_message", "text": prompt})
    running.wait_until(lambda: results() >= len(prompts))
    running.send({"type": "end_session"})
    return running.finish()


def scenario(name: str, interactive: bool, cli_telemetry: bool) -> None:
    receiver = OTLPHttpReceiver(auth=BASIC)
    runs: list[Finished] = []
    try:
        with tempfile.TemporaryDirectory(prefix="resume-runner-") as tmp:
            runner = Runner(Path(tmp))
            env: dict[str, Any] = {
                "SESSION_ID": "platform-42",
                **langfuse_env(receiver.url),
                "RUNNER_EXIT_BUDGET": "5",
                "RUNNER_CLI_TELEMETRY": str(cli_telemetry).lower(),
            }
            if interactive:
                runs.append(_interactive(runner, FIRST + SECOND, ["FIRST q", "SECOND q"], **env))
                runs.append(_interactive(runner, THIRD, ["THIRD q"], IS_RESUME="true", **env))
            else:
                runs.append(runner.run(FIRST, PROMPT="FIRST task", **env))
                runs.append(runner.run(SECOND, PROMPT="SECOND task", IS_RESUME="true", **env))
                runs.append(runner.run(THIRD, PROMPT="THIRD task", IS_RESUME="true", **env))
    finally:
        receiver.stop()
    traces = langfuse_sessions(receiver.spans(LANGFUSE_PATH))["platform-42"]
    print(
        f"\n{name} (RUNNER_CLI_TELEMETRY={str(cli_telemetry).lower()}); exit codes",
        [r.code for r in runs],
    )
    print(
        "| run | trace total (Langfuse view) | stdout total_cost_usd | Claude Code's figure for "
        "the run | Claude Code's cumulative figure | calls |"
    )
    print("|---|---|---|---|---|---|")
    for n, (run, trace) in enumerate(zip(runs, traces, strict=True)):
        end = run.end
        label = "first" if n == 0 else f"resumed #{n}"
        print(
            f"| {label} | {trace.total_cost:.6f} | {end['total_cost_usd']:.6f} | "
            f"{end['reported_cost_usd']:.6f} | {end['reported_cumulative_cost_usd']:.6f} | "
            f"{len(trace.of_type('generation'))} |"
        )
    total = sum(t.total_cost for t in traces)
    print(
        f"Σ traces {total:.6f}; Claude Code's cumulative at the end "
        f"{runs[-1].end['reported_cumulative_cost_usd']:.6f}"
    )


if __name__ == "__main__":
    scenario("batch chain", interactive=False, cli_telemetry=False)
    scenario("batch chain", interactive=False, cli_telemetry=True)
    scenario("interactive", interactive=True, cli_telemetry=False)
    scenario("interactive", interactive=True, cli_telemetry=True)
