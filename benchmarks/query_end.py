"""Issue 25's acceptance run: subagent sessions in a row, each timed from its last answer to
the `claude-runner` process's exit, with its trace checked for whole links.

Each session runs the real `claude-runner run` (real SDK and Claude Code CLI) against the
scripted Messages API server with seeded jitter, exporting to a Langfuse-like OTLP receiver on
127.0.0.1; the combinations cycle through foreground/background subagents, batch/interactive,
the OTel and langfuse-sdk paths, with and without RUNNER_CLI_TELEMETRY. For each it prints the
exit delay and whether every tool span inside a subagent names (`requested_by`) and links to
the chat span that asked for it.

    .venv/bin/python -m benchmarks.query_end [--sessions 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver, attributes

from runner.offline import Reply, ToolUse, Usage, bash, text
from runner.offline.script import Step
from runner.offline.server import Jitter

PUBLIC, SECRET = "pk-lf-bench-0001", "sk-lf-bench-secret-0001"
BASIC = "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()


def _script(background: bool) -> list[Step]:
    agent = ToolUse(
        "Agent",
        {"description": "sub", "prompt": "SUBTASK: run echo", "subagent_type": "general-purpose",
         "run_in_background": background},
    )  # fmt: skip
    steps: list[Step] = [
        Reply(content=(agent,), usage=Usage(100, 20, 0, 50)),
        bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
        text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    ]
    if background:
        steps.append(text("Waiting.", Usage(300, 40, 70, 5), match="Async agent launched"))
    steps.append(text("All done.", Usage(301, 41, 71, 6)))
    return steps


def _links_whole(spans: list[Any]) -> tuple[int, int]:
    """(subagent tools, of which linked to the chat span that asked for them)."""
    by_id = {s.span_id: s for s in spans}
    chats = {attributes(s).get("gen_ai.response.id"): s for s in spans if s.name.startswith("chat")}
    tools = linked = 0
    for span in spans:
        if not span.name.startswith("execute_tool ") or span.name == "execute_tool Agent":
            continue
        parent = by_id.get(span.parent_span_id)
        if (
            parent is None
            or not parent.name.startswith("invoke_agent ")
            or (parent.name == "invoke_agent claude-code")
        ):
            continue
        tools += 1
        asking = chats.get(attributes(span).get("agentic_session.tool.requested_by"))
        if asking is not None and [link.span_id for link in span.links] == [asking.span_id]:
            linked += 1
    return tools, linked


def run_one(index: int, seed: int, background: bool, interactive: bool, mode: str,
            cli: bool) -> dict[str, Any]:  # fmt: skip
    receiver = OTLPHttpReceiver(auth=BASIC)
    root = Path(tempfile.mkdtemp(prefix="query-end-"))
    try:
        env: dict[str, str | None] = {
            "OTEL_SDK_DISABLED": None,
            "RUNNER_EXIT_BUDGET": "5",
            "LANGFUSE_PUBLIC_KEY": PUBLIC,
            "LANGFUSE_SECRET_KEY": SECRET,
            "LANGFUSE_BASE_URL": receiver.url,
            "TELEMETRY_MODE": mode,
            "ALLOWED_TOOLS": "Bash,Agent,Task",
            "RUNNER_CLI_TELEMETRY": "true" if cli else None,
            "INTERACTIVE": "true" if interactive else None,
            "PROMPT": None if interactive else "Do the scripted task.",
        }
        runner = Runner(root)
        script = _script(background)
        running = runner.start(script, stdin=interactive, jitter=Jitter(seed * 1000 + index), **env)
        if interactive:
            running.send({"type": "user_message", "text": "Do the scripted task."})
            running.wait_for("result", timeout=120)
            running.send({"type": "end_session"})
        finished = running.finish(timeout=180)
        exited = time.time()
        last = max(c.ended for c in finished.server.served)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            spans = receiver.spans()
            if any(s.name == "agentic-session" for s in spans):
                break
            time.sleep(0.05)
        tools, linked = _links_whole(receiver.spans())
        return {
            "session": index + 1,
            "subagent": "background" if background else "foreground",
            "mode": "interactive" if interactive else "batch",
            "path": mode,
            "cli_telemetry": cli,
            "code": finished.code,
            "exit_after_last_answer_s": round(exited - last, 3),
            "subagent_tools": tools,
            "linked": linked,
            "seed": seed * 1000 + index,
        }
    finally:
        receiver.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    combos = itertools.cycle(
        itertools.product((False, True), (False, True), ("otel", "langfuse-sdk"), (False, True))
    )
    rows = []
    for index in range(args.sessions):
        background, interactive, mode, cli = next(combos)
        row = run_one(index, args.seed, background, interactive, mode, cli)
        rows.append(row)
        print(json.dumps(row), flush=True)
    delays = [r["exit_after_last_answer_s"] for r in rows]
    ok = all(
        r["code"] == 0
        and r["subagent_tools"] >= 1
        and r["linked"] == r["subagent_tools"]
        and r["exit_after_last_answer_s"] <= (3.0 if r["cli_telemetry"] else 2.0)
        for r in rows
    )
    print(
        json.dumps(
            {
                "sessions": len(rows),
                "median_s": statistics.median(delays),
                "max_s": max(delays),
                "all_within_bound_and_linked": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
