"""The CLI's own telemetry joins the session's trace without counting anything twice
(RUNNER_CLI_TELEMETRY=true): the real runner process, the real SDK and CLI against the scripted
server, the CLI exporting to the runner's relay, the runner exporting to a Langfuse-like
receiver, put through the Langfuse view (tests/langfuse_view.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from runner.offline import Usage, bash, text
from tests.e2e.harness import Finished, Runner, expected_cost
from tests.langfuse_view import Trace, langfuse_trace
from tests.otlp_receiver import OTLPHttpReceiver, any_value, attributes
from tests.support.backends import BASIC, langfuse_env

pytestmark = pytest.mark.e2e
LANGFUSE_PATH = "/api/public/otel/v1/traces"
PROBE = "echo [$LANGFUSE_SECRET_KEY][$OTEL_EXPORTER_OTLP_HEADERS][$OTEL_EXPORTER_OTLP_ENDPOINT]"
TOOL = [
    bash(PROBE, Usage(120, 30, 0, 900), say="First."),
    bash("echo two", Usage(40, 12, 900)),
    text("Done.", Usage(55, 21, 940, 8)),
]


@dataclass
class Exported:
    done: Finished
    trace: Trace
    spans: list[Span]

    def attrs(self, name: str) -> list[dict[str, Any]]:
        """The attributes of every exported span with this name (or Langfuse row name)."""
        return [
            attributes(s)
            for s in self.spans
            if s.name == name or attributes(s).get("gen_ai.tool.name") == name
        ]

    def events(self, span_name: str, event_name: str) -> list[dict[str, Any]]:
        return [
            {a.key: any_value(a.value) for a in e.attributes}
            for s in self.spans
            if s.name == span_name
            for e in s.events
            if e.name == event_name
        ]


def _run(root: Path, script: list[Any], mode: str, cli: bool, **env: str) -> Exported:
    receiver = OTLPHttpReceiver(auth=BASIC)
    try:
        settings: dict[str, Any] = {
            **langfuse_env(receiver.url),
            "USER_ID": "user-9",
            "RUNNER_CLI_TELEMETRY": "true" if cli else "false",
            **env,
        }
        if mode != "otel":
            settings["TELEMETRY_MODE"] = mode
        root.mkdir(parents=True, exist_ok=True)
        done = Runner(root).run(script, **settings)
    finally:
        receiver.stop()
    assert done.code == 0, done.stderr
    spans = receiver.spans(LANGFUSE_PATH)
    return Exported(done, langfuse_trace(spans), spans)


def assert_counted_once(done: Finished, trace: Trace) -> None:
    """One generation per LLM call, one tool observation per tool call, the trace total equal
    to Claude Code's, every row in the session with its user: the CLI's spans add facts only."""
    served = done.server.message_calls
    assert len(trace.of_type("generation")) == len(served)
    tools = [e for e in done.events if e["type"] == "tool_use"]
    assert len(trace.of_type("tool")) == len(tools)
    end = done.end
    assert end["reported_cost_usd"] == pytest.approx(
        sum(expected_cost(c.usage) for c in served), abs=1e-12
    )
    assert trace.total_cost == pytest.approx(end["reported_cost_usd"], abs=1e-9)
    for o in trace.observations:
        assert (o.session, o.user, o.trace_name) == ("e2e-session", "user-9", "agentic-session")


@pytest.mark.parametrize(
    ("mode", "capture"), [("otel", False), ("langfuse-sdk", False), ("otel", True)]
)
def test_the_clis_spans_add_facts_and_never_a_count(
    tmp_path: Path, mode: str, capture: bool
) -> None:
    content = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": str(capture).lower()}
    off = _run(tmp_path / "off", TOOL, mode, cli=False, **content)
    on = _run(tmp_path / "on", TOOL, mode, cli=True, **content)
    off_trace, on_trace = off.trace, on.trace
    assert_counted_once(off.done, off_trace)
    assert_counted_once(on.done, on_trace)
    # Side by side: the same observations, costs and totals with and without it ...
    shape = [(o.type, o.name, o.total_cost) for o in off_trace.observations]
    assert sorted(shape) == sorted((o.type, o.name, o.total_cost) for o in on_trace.observations)
    assert on_trace.total_cost == pytest.approx(off_trace.total_cost, abs=1e-12)
    # ... and with it, the CLI's facts on the runner's own rows.
    chats = [a for s in on.spans if (a := attributes(s)).get("gen_ai.operation.name") == "chat"]
    assert chats and len(chats) == len(on.done.server.message_calls)
    assert all(a["agentic_session.call.source"] == "sdk" for a in chats)
    assert all(a["agentic_session.call.attempt"] == 1 for a in chats)
    assert all(isinstance(a["agentic_session.call.ttft_ms"], int) for a in chats)
    for tool in on.attrs("execute_tool Bash"):
        assert tool["agentic_session.tool.permission.decision"] == "accept"
        assert tool["agentic_session.tool.permission.source"] == "config"
        assert isinstance(tool["agentic_session.tool.execution_ms"], int)
    assert not [k for s in off.spans for k in attributes(s) if ".permission." in k]
    # The CLI holds no telemetry credential; its tools see no credential and no destination.
    probe = next(e for e in on.done.events if e["type"] == "tool_result")
    shown = probe["content"]
    assert "[][][]" in shown, shown
    assert "sk-lf" not in on.done.stdout_raw and "Basic " not in on.done.stdout_raw


def test_a_denied_tool_shows_the_permission_decision(tmp_path: Path) -> None:
    script = [bash("touch denied.txt", Usage(50, 10)), text("It was refused.", Usage(60, 12))]
    run = _run(tmp_path, script, "otel", cli=True, ALLOWED_TOOLS="Read")
    assert_counted_once(run.done, run.trace)
    (tool,) = run.attrs("execute_tool Bash")
    assert tool["agentic_session.tool.permission.decision"] == "reject"
    assert tool["agentic_session.tool.permission.source"] == "config"
    assert "agentic_session.tool.execution_ms" not in tool  # it never ran


def test_a_hook_the_cli_runs_is_an_event_on_its_query(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".claude"
    home.mkdir(parents=True)
    marker = tmp_path / "hook-ran.txt"
    settings = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": f"echo x >> {marker}"}],
                }
            ]
        }
    }
    (home / "settings.json").write_text(json.dumps(settings))
    run = _run(tmp_path, TOOL, "otel", cli=True)
    assert_counted_once(run.done, run.trace)
    assert marker.read_text().split() == ["x", "x"]
    hooks = run.events("invoke_agent claude-code", "agentic_session.hook")
    pre = [e for e in hooks if e["agentic_session.hook.event"] == "PreToolUse"]
    assert len(pre) == 2
    assert all(e["agentic_session.hook.count"] >= 2 for e in pre)  # its own and the runner's


COMPACT = [
    text("First answer.", Usage(1500, 40, 0, 2000), match="first"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    text("<summary>The user asked twice.</summary>", Usage(900, 200), match="CRITICAL"),
    bash("echo after", Usage(3000, 20), match="third"),
    text("Third answer.", Usage(3100, 25)),
]


def test_a_compactions_summary_call_is_its_own_priced_call(tmp_path: Path) -> None:
    receiver = OTLPHttpReceiver(auth=BASIC)
    runner = Runner(tmp_path)
    try:
        env: dict[str, Any] = {
            **langfuse_env(receiver.url),
            "USER_ID": "user-9",
            "RUNNER_CLI_TELEMETRY": "true",
            "INTERACTIVE": "true",
            "PROMPT": "first",
        }
        running = runner.start(COMPACT, stdin=True, **env)
        running.wait_for("result")
        for message, results in (("/compact", 2), ("third", 3)):
            running.send({"type": "user_message", "text": message})
            running.wait_until(
                lambda n=results: len([e for e in running.events if e["type"] == "result"]) >= n
            )
        running.send({"type": "end_session"})
        done = running.finish()
    finally:
        receiver.stop()
    assert done.code == 0, done.stderr
    spans = receiver.spans(LANGFUSE_PATH)
    assert_counted_once(done, langfuse_trace(spans))
    (summary,) = [
        a
        for s in spans
        if (a := attributes(s)).get("gen_ai.operation.name") == "chat"
        and a["agentic_session.call.origin"] != "stream"
    ]
    assert summary["agentic_session.call.origin"] == "cli"
    assert summary["agentic_session.call.source"] == "compact"
    assert summary["gen_ai.usage.output_tokens"] == 200
    assert summary["gen_ai.usage.cost"] == pytest.approx(expected_cost({
        "input_tokens": 900, "output_tokens": 200, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0, "cache_creation": {"ephemeral_1h_input_tokens": 0},
    }), abs=1e-12)  # fmt: skip
