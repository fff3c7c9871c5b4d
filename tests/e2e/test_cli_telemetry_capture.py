"""The real CLI's own telemetry through the relay: the record types, attributes, ids and parent
links measured in docs/cli-telemetry.md (CLI 2.1.332). A CLI update that changes them fails here.

Each test runs the runner's session driver (real SDK, bundled CLI) against the scripted server,
with the CLI's environment from `relay_environment` and a preset TRACEPARENT, as the runner will.
"""

from __future__ import annotations

import io
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.cli_telemetry import CliRecord, CliSpan, CliTelemetryRelay, RelayCounts
from runner.config import RunnerConfig
from runner.launcher import run_session
from runner.offline import OfflineMessagesServer, offline_environment
from runner.offline.script import Reply, Step, ToolUse, Usage, bash, text
from runner.otel.export.cli_environment import relay_environment
from runner.output.stdout_events import EventWriter
from runner.session.types import SessionOutcome
from tests.cli_telemetry.helpers import Collected
from tests.otlp_receiver import OTLPHttpReceiver

pytestmark = pytest.mark.e2e


@dataclass
class Relayed:
    outcome: SessionOutcome
    server: OfflineMessagesServer
    collected: Collected
    counts: RelayCounts
    trace_id: int
    session_span_id: int
    stdout: str
    seconds: float

    def named(self, name: str) -> list[CliSpan]:
        return [s for s in self.collected.spans if s.name == name]

    def one(self, name: str) -> CliSpan:
        (span,) = self.named(name)
        return span

    def children(self, span: CliSpan) -> list[CliSpan]:
        return [s for s in self.collected.spans if s.parent_span_id == span.span_id]


def run_relayed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    script: list[Step],
    *,
    allowed_tools: tuple[str, ...] = ("Bash",),
    close_relay_first: bool = False,
    close_relay_on_first_span: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Relayed:
    collected = Collected()
    closing: list[threading.Timer] = []

    def sink(record: CliRecord) -> None:
        collected.add(record)
        if close_relay_on_first_span and isinstance(record, CliSpan) and not closing:
            closing.append(threading.Timer(0.2, relay.close))  # not on the relay's own thread
            closing[0].start()

    relay = CliTelemetryRelay(sink).start()
    server = OfflineMessagesServer(script).start()
    try:
        workspace = tmp_path / "workspace"
        workspace.mkdir(exist_ok=True)
        for name, value in {
            **offline_environment(server.url, tmp_path),
            **(extra_env or {}),
        }.items():
            monkeypatch.setenv(name, value)
        trace_id, span_id = random.getrandbits(128) | 1, random.getrandbits(64) | 1
        cli_env = {
            **relay_environment(relay.endpoint),
            "TRACEPARENT": f"00-{trace_id:032x}-{span_id:016x}-01",
        }
        if close_relay_first:
            relay.close()
        config = RunnerConfig(
            session_id="relayed-session",
            prompt="Do the scripted task.",
            timeout_s=90,
            workspace=workspace,
            allowed_tools=allowed_tools,
            permission_mode="default",
            cli_env=cli_env,
        )
        out = io.StringIO()
        started = time.monotonic()
        outcome = run_session(config, EventWriter(out), [])
        seconds = time.monotonic() - started
        counts = relay.stop(5)
    finally:
        relay.close()
        server.stop()
    return Relayed(outcome, server, collected, counts, trace_id, span_id, out.getvalue(), seconds)


def _ints(span: CliSpan, *names: str) -> tuple[object, ...]:
    return tuple(span.attributes[n] for n in names)


def test_one_allowed_tool_gives_the_measured_tree_under_the_session_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = OTLPHttpReceiver()
    secret_env = {
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic c2VjcmV0",
        "LANGFUSE_SECRET_KEY": "sk-lf-not-for-the-cli",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": decoy.url + "/v1/traces",
        "OTEL_EXPORTER_OTLP_ENDPOINT": decoy.url,
    }
    probe = "echo headers=[$OTEL_EXPORTER_OTLP_HEADERS] key=[$LANGFUSE_SECRET_KEY] done"
    script = [
        bash(probe, Usage(1200, 85, 0, 3400), say="Running it."),
        text("Done.", Usage(95, 38, 3620, 0)),
    ]
    try:
        r = run_relayed(tmp_path, monkeypatch, script, extra_env=secret_env)
    finally:
        decoy.stop()
    assert r.outcome.ok, r.outcome.error_message
    # No credential reached the CLI (its tools print them empty), and nothing went to the
    # destination the runner's own environment names: the relay got everything.
    assert "headers=[] key=[] done" in r.stdout
    assert decoy.requests == []
    assert Counter(s.name for s in r.collected.spans) == {
        "claude_code.interaction": 1,
        "claude_code.llm_request": 2,
        "claude_code.tool": 1,
        "claude_code.tool.blocked_on_user": 1,
        "claude_code.tool.execution": 1,
    }
    assert {s.trace_id for s in r.collected.spans} == {r.trace_id}
    interaction = r.one("claude_code.interaction")
    assert interaction.parent_span_id == r.session_span_id
    assert interaction.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert interaction.attributes["interaction.sequence"] == 1
    calls = sorted(r.named("claude_code.llm_request"), key=lambda s: s.start_ns)
    tool = r.one("claude_code.tool")
    assert {s.parent_span_id for s in [*calls, tool]} == {interaction.span_id}
    # Each llm_request carries the call's raw usage (ints) and stop reason: no message id or
    # request id, so usage and order are what match it to the runner's call.
    served = r.server.message_calls
    for span, call in zip(calls, served, strict=True):
        a = span.attributes
        assert _ints(span, "input_tokens", "output_tokens", "cache_read_tokens") == (
            call.usage["input_tokens"],
            call.usage["output_tokens"],
            call.usage["cache_read_input_tokens"],
        )
        assert a["cache_creation_tokens"] == call.usage["cache_creation_input_tokens"]
        assert a["stop_reason"] == call.stop_reason
        assert a["gen_ai.usage.input_tokens"] == (
            call.usage["input_tokens"]
            + call.usage["cache_read_input_tokens"]
            + call.usage["cache_creation_input_tokens"]
        )
        assert a["query_source_safe"] == "sdk" and a["llm_request.context"] == "interaction"
        assert a["gen_ai.operation.name"] == "chat" and a["attempt"] == 1
        assert a["success"] is True and isinstance(a["ttft_ms"], int)
        assert not {"response_id", "request_id", "message_id", "gen_ai.response.id"} & set(a)
        # Same clock: the span encloses the HTTP exchange the scripted server saw (5 ms slack).
        assert (
            span.start_ns / 1e9 - 0.005 <= call.started <= call.ended <= span.end_ns / 1e9 + 0.005
        )
    (tool_use_id,) = served[0].tool_use_ids
    assert tool.attributes["tool_use_id"] == tool.attributes["gen_ai.tool.call.id"] == tool_use_id
    assert tool.attributes["gen_ai.tool.name"] == "Bash"
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    blocked = r.one("claude_code.tool.blocked_on_user")
    execution = r.one("claude_code.tool.execution")
    assert blocked.parent_span_id == execution.parent_span_id == tool.span_id
    assert (blocked.attributes["decision"], blocked.attributes["source"]) == ("accept", "config")
    assert execution.attributes["success"] is True
    assert execution.attributes["tool_use_id"] == tool_use_id
    # The CLI's own session id (a UUID, not SESSION_ID) and a hashed user id, on every span.
    cli_session = interaction.attributes["session.id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", str(cli_session))
    assert re.fullmatch(r"[0-9a-f]{64}", str(interaction.attributes["user.id"]))
    assert all(s.attributes["session.id"] == cli_session for s in r.collected.spans)
    assert interaction.resource["service.name"] == "claude-code"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(interaction.resource["service.version"]))
    # Log events: the CLI's api_request per call, the decision with the tool_use_id; no metric
    # (the CLI's metrics exporter is off); nothing late, dropped or refused.
    logs = Counter(e.name for e in r.collected.logs)
    assert logs["claude_code.api_request"] == 2 and logs["claude_code.user_prompt"] == 1
    (decision,) = [e for e in r.collected.logs if e.name == "claude_code.tool_decision"]
    assert decision.attributes["tool_use_id"] == tool_use_id
    assert decision.span_id == blocked.span_id and decision.trace_id == r.trace_id
    assert all(e.attributes.get("prompt") in (None, "<REDACTED>") for e in r.collected.logs)
    assert r.counts.metric_points == 0
    assert (r.counts.late_spans, r.counts.dropped_requests, r.counts.rejected_requests) == (0, 0, 0)
    assert r.counts.spans == 6


def test_a_denied_tool_has_no_execution_and_a_rejection_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool outside ALLOWED_TOOLS, permission mode `default`: the CLI refuses a command that
    changes files without asking anyone (read-only ones like `echo` it allows on its own)."""
    script = [bash("touch denied.txt", Usage(100, 10)), text("It was denied.", Usage(100, 10))]
    r = run_relayed(tmp_path, monkeypatch, script, allowed_tools=("Read",))
    assert r.outcome.ok, r.outcome.error_message
    tool = r.one("claude_code.tool")
    assert tool.attributes["bash_command_class"] == "fs_mutation"
    (blocked,) = r.children(tool)
    assert blocked.name == "claude_code.tool.blocked_on_user"
    assert (blocked.attributes["decision"], blocked.attributes["source"]) == ("reject", "config")
    assert tool.status == "unset"  # the refusal is not an error status
    assert r.named("claude_code.tool.execution") == []


def test_a_subagent_calls_and_tools_nest_under_its_tool_execution_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = ToolUse(
        "Agent",
        {
            "description": "sub task",
            "prompt": "SUBTASK: run echo",
            "subagent_type": "general-purpose",
        },
    )
    script: list[Step] = [
        Reply(content=(agent,), usage=Usage(100, 20, 0, 50)),
        bash("echo sub-out", Usage(30, 11, 5, 0), match="SUBTASK"),
        text("sub done", Usage(40, 12, 6, 0), match="sub-out"),
        text("Waiting for the agent.", Usage(300, 40, 70, 5), match="Async agent launched"),
        text("All done.", Usage(301, 41, 71, 6)),
    ]
    r = run_relayed(tmp_path, monkeypatch, script, allowed_tools=("Bash", "Agent", "Task"))
    assert r.outcome.ok, r.outcome.error_message
    (agent_tool,) = [s for s in r.named("claude_code.tool") if s.attributes["tool_name"] == "Agent"]
    (execution,) = [s for s in r.children(agent_tool) if s.name == "claude_code.tool.execution"]
    inside = r.children(execution)
    assert Counter(s.name for s in inside) == {"claude_code.llm_request": 2, "claude_code.tool": 1}
    agent_ids = {s.attributes["agent_id"] for s in inside}
    assert len(agent_ids) == 1
    for call in (s for s in inside if s.name == "claude_code.llm_request"):
        assert call.attributes["query_source_safe"] == "agent.builtin.general-purpose"
        assert call.attributes["llm_request.context"] == "tool"
    # The background agent's completion starts a second interaction, also under the session.
    interactions = r.named("claude_code.interaction")
    assert sorted(s.attributes["interaction.sequence"] for s in interactions) == [1, 2]
    assert {s.parent_span_id for s in interactions} == {r.session_span_id}
    assert len(r.named("claude_code.llm_request")) == len(r.server.message_calls) == 5


def test_a_relay_that_is_gone_neither_fails_nor_delays_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = [bash("echo hi", Usage(100, 10)), text("Done.", Usage(100, 10))]
    r = run_relayed(tmp_path, monkeypatch, script, close_relay_first=True)
    assert r.outcome.ok, r.outcome.error_message
    assert r.collected.records == []
    assert r.seconds < 30  # a few seconds on a busy machine; a hang would be minutes


def test_a_relay_killed_mid_session_leaves_the_session_and_the_cli_unharmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first call's span reaches the relay within the export interval (1 s) while a tool
    runs; then the relay goes away: the CLI's later exports are refused, the session completes.
    (Measured: the CLI's exit then waits ~5.5 s, its exporter retrying; hence the runner keeps
    the relay's listener open until the CLI has exited: `stop` does, only `close` does not.)"""
    script = [bash("sleep 4", Usage(100, 10)), text("Done.", Usage(100, 10))]
    r = run_relayed(tmp_path, monkeypatch, script, close_relay_on_first_span=True)
    assert r.outcome.ok, r.outcome.error_message
    names = {s.name for s in r.collected.spans}
    assert "claude_code.llm_request" in names  # live: exported during the tool
    assert "claude_code.interaction" not in names  # ended after the relay was gone
    assert r.seconds < 60, r.seconds
