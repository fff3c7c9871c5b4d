"""What Langfuse records, on both paths (OTLP straight to Langfuse, and TELEMETRY_MODE=
langfuse-sdk), for real sessions: the real SDK and CLI against the scripted Messages API server,
spans decoded from what reached a local Langfuse-like receiver, put through the Langfuse view
(tests/langfuse_view.py). Both paths must give the same view, and its totals must equal Claude
Code's figures."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runner.offline import Failure, Reply, Text, ToolUse, Usage, bash, text
from tests.e2e.harness import Finished, Runner, expected_cost
from tests.langfuse_view import Trace, langfuse_trace
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, langfuse_env

LANGFUSE_PATH = "/api/public/otel/v1/traces"
TOOLS = [
    bash("echo one", Usage(120, 30, 0, 900, cache_creation_1h_input_tokens=400), say="First."),
    bash("echo boom && exit 2", Usage(40, 12, 900)),
    text("Done.", Usage(55, 21, 940, 8)),
]
SUBAGENT = [
    Reply(
        content=(
            ToolUse(
                "Agent",
                {"description": "d", "prompt": "SUBTASK go", "subagent_type": "general-purpose"},
            ),
        ),
        usage=Usage(100, 20, 0, 50),
    ),
    bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
    text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
    text("Waiting.", Usage(300, 40, 70, 5), match="Async agent launched"),
    text("All done.", Usage(301, 41, 71, 6)),
]
INTERACTIVE = [
    text("First answer.", Usage(200, 20, 0, 1000), match="first"),
    bash("echo second", Usage(30, 10, 1000), match="second"),
    text("Second answer.", Usage(40, 12, 1030)),
]
PLANTED = "sk-ant-api03-" + "Q" * 40
LONG_OUTPUT = [
    Reply(
        content=(
            ToolUse(
                "Bash",
                {
                    "command": f"python3 -c \"print('key={PLANTED}'); print('x' * 20000)\"",
                    "description": "print a lot",
                },
            ),
        ),
        usage=Usage(100, 20, 0, 300),
    ),
    Reply(content=(Text(f"Printed. The key was {PLANTED}."),), usage=Usage(50, 15, 300)),
]
CAPTURE = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}


@dataclass
class Case:
    script: list[Any]
    env: dict[str, str]
    messages: tuple[str, ...] = ()


CASES = {
    "tools": Case(TOOLS, {}),
    "subagent": Case(SUBAGENT, {"ALLOWED_TOOLS": "Bash,Agent,Task"}),
    "api-error": Case([Failure(529)], {}),
    "interactive": Case(INTERACTIVE, {"INTERACTIVE": "true", "PROMPT": "first"}, ("second",)),
    "capture": Case(LONG_OUTPUT, CAPTURE),
}


def _run(runner: Runner, case: Case, mode: str) -> tuple[Finished, Trace]:
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        env: dict[str, Any] = {
            **langfuse_env(receiver.url),
            "USER_ID": "user-9",
            "NAMESPACE": "ns",
            "PROJECT_NAME": "proj",
            "LANGFUSE_TRACING_ENVIRONMENT": "staging",
            **case.env,
        }
        if mode != "otel":
            env["TELEMETRY_MODE"] = mode
        if case.messages:
            running = runner.start(case.script, stdin=True, **env)
            running.wait_for("result")
            for message in case.messages:
                running.send({"type": "user_message", "text": message})
            running.send({"type": "end_session"})
            done = running.finish()
        else:
            done = runner.run(case.script, **env)
    finally:
        receiver.stop()
    assert done.code in (0, 3), done.stderr
    assert {r.status for r in receiver.requests} == {200}, done.stderr
    return done, langfuse_trace(receiver.spans(LANGFUSE_PATH))


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple]:  # type: ignore[type-arg]
    return {}


def _trace(
    tmp_path_factory: pytest.TempPathFactory,
    cache: dict,
    name: str,
    mode: str,  # type: ignore[type-arg]
) -> tuple[Finished, Trace]:
    if (name, mode) not in cache:
        cache[(name, mode)] = _run(Runner(tmp_path_factory.mktemp(name)), CASES[name], mode)
    return cache[(name, mode)]  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["otel", "langfuse-sdk"])
@pytest.mark.parametrize("name", list(CASES))
def test_langfuse_totals_equal_claude_codes_figures(
    tmp_path_factory: pytest.TempPathFactory,
    traces: dict,
    name: str,
    mode: str,  # type: ignore[type-arg]
) -> None:
    done, trace = _trace(tmp_path_factory, traces, name, mode)
    end = done.end
    served = done.server.message_calls

    # The trace's total cost (summed over ALL observations) is the session's reported total.
    assert trace.total_cost == pytest.approx(end["total_cost_usd"], abs=1e-9)
    assert end["total_cost_usd"] == pytest.approx(
        sum(expected_cost(c.usage) for c in served), abs=1e-9
    )
    # Only generations carry cost: the root and the tools cost nothing.
    for o in trace.observations:
        if o.type != "generation":
            assert o.total_cost == 0 and not o.usage, (o.name, o.cost, o.usage)

    # One generation per LLM call, with the call's exact usage, cost and a completion start.
    generations = {g.name + str(g.usage): g for g in trace.of_type("generation")}
    assert len(trace.of_type("generation")) == len(done.server.served)
    for call in served:
        u = call.usage
        one_hour = u["cache_creation"]["ephemeral_1h_input_tokens"]
        want = {
            "input": u["input_tokens"],
            "output": u["output_tokens"],
            "cache_read_input_tokens": u["cache_read_input_tokens"],
            "cache_creation_input_tokens": u["cache_creation_input_tokens"] - one_hour,
        }
        if one_hour:
            want["cache_creation_1h_input_tokens"] = one_hour
        found = generations.get(f"chat {call.model}{ {k: float(v) for k, v in want.items()} }")
        assert found is not None, (want, list(generations))
        assert found.model == call.model
        assert found.total_cost == pytest.approx(expected_cost(u), abs=1e-12)
    main_generations = [
        g
        for g in trace.of_type("generation")
        if "invoke_agent general-purpose" not in trace.path(g)
    ]
    assert all(g.completion_start is not None for g in main_generations if g.level != "ERROR")

    # The root observation is the trace's input/output (real-time path): status and turns.
    root = trace.root
    assert root.name == "agentic-session" and root.type == "span"
    assert trace.output["status"] == end["status"] and trace.output["num_turns"] == end["num_turns"]
    assert trace.legacy_output == trace.output  # the legacy path reads the same summary
    if name == "capture":
        assert trace.input == "Do the scripted task."
    else:
        assert trace.input is None  # content capture is off by default

    # Session, user, trace name, tags, environment on every row (nothing propagates).
    for o in trace.observations:
        assert (o.session, o.user, o.trace_name) == ("e2e-session", "user-9", "agentic-session")
        assert o.tags == ("claude-code-runner", "namespace:ns", "project:proj")
        assert o.environment == "staging"


@pytest.mark.parametrize("name", list(CASES))
def test_both_paths_give_langfuse_the_same_view(
    tmp_path_factory: pytest.TempPathFactory,
    traces: dict,
    name: str,  # type: ignore[type-arg]
) -> None:
    _, otel = _trace(tmp_path_factory, traces, name, "otel")
    _, sdk = _trace(tmp_path_factory, traces, name, "langfuse-sdk")
    assert otel.comparable() == sdk.comparable()


def test_tool_levels_and_error_messages(
    tmp_path_factory: pytest.TempPathFactory,
    traces: dict,  # type: ignore[type-arg]
) -> None:
    _, trace = _trace(tmp_path_factory, traces, "tools", "otel")
    tools = sorted(trace.of_type("tool"), key=lambda o: o.start_ns)
    assert [t.level for t in tools] == ["DEFAULT", "ERROR"]
    assert tools[1].status_message and "exit" in tools[1].status_message.lower()


def test_api_error_is_an_error_generation_and_an_error_trace(
    tmp_path_factory: pytest.TempPathFactory,
    traces: dict,  # type: ignore[type-arg]
) -> None:
    done, trace = _trace(tmp_path_factory, traces, "api-error", "otel")
    assert done.code == 3
    (generation,) = trace.of_type("generation")
    assert generation.level == "ERROR" and generation.total_cost == 0
    assert trace.root.level == "ERROR" and trace.output["status"] == "model_error"


def test_capture_exports_every_span_and_no_credential(
    tmp_path_factory: pytest.TempPathFactory,
    traces: dict,  # type: ignore[type-arg]
) -> None:
    for mode in ("otel", "langfuse-sdk"):
        done, trace = _trace(tmp_path_factory, traces, "capture", mode)
        assert done.code == 0
        # session, query, two calls, one tool: nothing dropped by an over-long value
        assert sorted(o.type for o in trace.observations) == [
            "agent",
            "generation",
            "generation",
            "span",
            "tool",
        ]
        (tool,) = trace.of_type("tool")
        # Structured and valid: the long leaf is cut, the structure kept.
        assert isinstance(tool.output, dict) and "…[truncated" in tool.output["stdout"]
        assert "[REDACTED]" in tool.output["stdout"]
        second = max(trace.of_type("generation"), key=lambda o: o.start_ns)
        assert isinstance(second.input, list)  # valid JSON: truncated leaf by leaf
        dumped = json.dumps([o.__dict__ for o in trace.observations], default=str)
        assert PLANTED not in dumped and PLANTED not in done.stdout_raw + done.stderr
        assert "Traceback" not in done.stderr and " ERROR " not in done.stderr


def test_with_the_flag_off_langfuse_is_never_imported(tmp_path: Path) -> None:
    """A real session on the OTel path, Langfuse keys set, in a fresh interpreter."""
    code = f"""
import json, os, sys
from pathlib import Path
from runner.offline import OfflineMessagesServer, offline_environment, text, Usage
from tests.otlp_receiver import OTLPHttpReceiver
receiver = OTLPHttpReceiver()
root = Path({str(tmp_path)!r}); (root / "ws").mkdir()
with OfflineMessagesServer([text("hi", Usage(1, 1))]) as server:
    os.environ.update(offline_environment(server.url, root))
    os.environ.update(SESSION_ID="s", PROMPT="p", WORKSPACE_PATH=str(root / "ws"),
                      LANGFUSE_PUBLIC_KEY="pk-lf-1", LANGFUSE_SECRET_KEY="sk-lf-2",
                      LANGFUSE_BASE_URL=receiver.url)
    from runner.cli import execute
    exit_code = execute({{}})
print(json.dumps([exit_code, "langfuse" in sys.modules, len(receiver.spans({LANGFUSE_PATH!r}))]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    exit_code, imported, spans = json.loads(done.stdout.strip().splitlines()[-1])
    assert exit_code == 0, done.stderr
    assert imported is False
    assert spans == 3  # the OTel path did export: session, query, chat


def test_langfuse_sdk_path_exits_within_the_budget_when_the_host_hangs(runner: Runner) -> None:
    host = OTLPHttpReceiver(mode="hang")
    try:
        # LANGFUSE_TIMEOUT=30: an exit that waited for the SDK would take 30 s, not the budget's 2.
        done = runner.run(
            TOOLS,
            **langfuse_env(host.url),
            TELEMETRY_MODE="langfuse-sdk",
            LANGFUSE_TIMEOUT="30",
        )
    finally:
        host.stop()
    assert done.code == 0, done.stderr
    # Budget 2 s, with room for a loaded machine (benchmarks/RESULTS.md has the figures).
    assert done.exit_after_end_s is not None and done.exit_after_end_s <= 2 + 3
