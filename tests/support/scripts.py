"""Scripted model answers the tests share (runner.offline steps)."""

from __future__ import annotations

from runner.offline import Reply, ToolUse, Usage, bash, text

U1 = Usage(input_tokens=1200, output_tokens=85, cache_creation_input_tokens=3400)
U2 = Usage(input_tokens=180, output_tokens=42, cache_read_input_tokens=3400)
U3 = Usage(
    input_tokens=95, output_tokens=38, cache_read_input_tokens=3620, cache_creation_input_tokens=7
)
TWO_BASH = [bash("echo one", U1, say="Starting."), bash("echo two", U2), text("Done.", U3)]

SUBAGENT_SCRIPT = [
    Reply(
        content=(
            ToolUse(
                "Agent",
                {
                    "description": "sub task",
                    "prompt": "SUBTASK: run echo",
                    "subagent_type": "general-purpose",
                },
            ),
        ),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
    text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]

COLLECTOR_SCRIPT = [
    bash("echo one", Usage(120, 30, 0, 900), say="First."),
    bash("echo two", Usage(40, 12, 900)),
    text("Done.", Usage(55, 21, 940, 8)),
]
COLLECTOR_SPANS = 1 + 1 + 3 + 2  # session, query, calls, tools
EXPORT_SCRIPT = [bash("echo hi", Usage(100, 20, 0, 300)), text("Done.", Usage(50, 10, 300))]
