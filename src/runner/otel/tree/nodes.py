"""The session's tree: plain nodes the tree builder fills in and renderers read.

    SessionNode ─ QueryNode ─┬─ ChatNode                one per LLM call (the ledger's)
                             ├─ ToolNode                one per tool call
                             │   └─ AgentNode           a subagent started by that tool call
                             │       ├─ ChatNode ...
                             │       └─ ToolNode ...
                             ├─ CompactionNode          Claude Code compacting the context
                             └─ ...

A node is handed to the renderer with `start` when its work starts and with `finish` when its
work has ended and its figures are final; nothing is started under a finished node. Figures
(usage, cost, totals) are never computed here: a chat node holds its `runner.ledger.ledger` record,
and
query, subagent and session nodes the ledger's figures. Renderers keep what they need on
`handle` (e.g. the span), so no renderer holds a map of every node it has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from runner.accounting.figures import Figures, LedgerCall, LedgerFigures
from runner.accounting.usage import Usage
from runner.config import Tenancy
from runner.events.types import ApiRetry, CliCallReported, CliHookRan, CliToolReported, Compacted
from runner.session.types import QueryOutcome, ResumeInfo, SessionOutcome


@dataclass(eq=False, slots=True, kw_only=True)
class Node:
    key: str
    parent: Node | None
    start_ns: int
    end_ns: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    started: bool = False
    finished: bool = False
    handle: Any = None
    """The renderer's own state for this node (its span)."""


@dataclass(eq=False, slots=True, kw_only=True)
class SessionNode(Node):
    session_id: str = ""
    model: str = ""
    interactive: bool = False
    workspace: str = ""
    tenancy: Tenancy = field(default_factory=Tenancy)
    prompt: str | None = None
    sdk_session_id: str | None = None
    outcome: SessionOutcome | None = None
    compactions: int = 0
    resume: ResumeInfo | None = None
    """Set when this run continues an earlier run's conversation."""

    @property
    def figures(self) -> LedgerFigures | None:
        return self.outcome.figures if self.outcome is not None else None


@dataclass(eq=False, slots=True, kw_only=True)
class QueryNode(Node):
    index: int = 0
    prompt: str | None = None
    outcome: QueryOutcome | None = None
    answer: str | None = None
    """The main agent's final answer (content capture only)."""

    @property
    def figures(self) -> LedgerFigures | None:
        return self.outcome.figures if self.outcome is not None else None


@dataclass(eq=False, slots=True, kw_only=True)
class AgentNode(Node):
    thread: str | None = None
    """The Agent tool call it runs for."""
    agent_id: str | None = None
    agent_type: str = "subagent"
    prompt: str | None = None
    """The prompt it was given (content capture only)."""
    answer: str | None = None
    """Its final answer: its last call's text (content capture only)."""
    figures: Figures | None = None
    """The ledger's figures for its calls (its own subagents' included), set when it ends."""


@dataclass(eq=False, slots=True, kw_only=True)
class ChatNode(Node):
    message_id: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    first_chunk_ns: int | None = None
    input_parts: list[dict[str, Any]] = field(default_factory=list)
    output_parts: list[dict[str, Any]] = field(default_factory=list)
    consumed_tool_results: list[tuple[str, int]] = field(default_factory=list)
    """(tool_use_id, result size in characters) of the tool results in this call's input."""
    call: LedgerCall | None = None
    """The ledger's record of this call (set when its figures are final)."""
    compaction: CompactionNode | None = None
    """For a call Claude Code did not stream (a compaction's summary): the query's last
    compaction (a span link; the call itself ends under the query, after it)."""
    cli: CliCallReported | None = None
    """The CLI's own record of this call (RUNNER_CLI_TELEMETRY): attempt, time to first
    token, speed, its source."""
    cli_deadline_ns: int | None = None
    """While it waits for that record: until when (then it ends without)."""

    @property
    def model(self) -> str | None:
        recorded = self.call.model if self.call is not None else None
        return recorded or self.response_model or self.request_model

    @property
    def usage(self) -> Usage:
        return self.call.usage if self.call is not None else Usage()


@dataclass(eq=False, slots=True, kw_only=True)
class ToolNode(Node):
    tool_use_id: str = ""
    name: str = "unknown"
    arguments: object = None
    result: object = None
    requested_by: str | None = None
    """The response id of the LLM call that asked for this tool."""
    requested_by_chat: ChatNode | None = None
    """That call's node (for a span link), while the tool is open."""
    result_chars: int | None = None
    ran: bool = False
    """Its work is done (an Agent tool also waits for its subagent before it ends)."""
    released: bool = False
    """An Agent tool: its subagent has finished."""
    cli: CliToolReported | None = None
    """The CLI's own record of this tool call: its permission decision and execution."""
    cli_deadline_ns: int | None = None
    request_deadline_ns: int | None = None
    """A tool that ran before its request was seen waits for it (bounded) until then."""


@dataclass(eq=False, slots=True, kw_only=True)
class CompactionNode(Node):
    """Claude Code compacting the context: why, and the context size before and after."""

    trigger: str = "unknown"
    pre_tokens: int | None = None
    post_tokens: int | None = None


SpanEvent = ApiRetry | Compacted | CliHookRan
"""Runner events that become points on a span's timeline."""


class Renderer(Protocol):
    """Turns nodes into telemetry. Contract: `finish` is called exactly once for every node
    given to `start`, and may come without a `start` (the node is then rendered whole);
    `close` ends whatever is still open (the last call of a session) and never raises."""

    def start(self, node: Node) -> None: ...

    def finish(self, node: Node) -> None: ...

    def close(self, at_ns: int) -> None: ...

    def event(self, node: Node, event: SpanEvent) -> None:
        """A point in time on an open node's timeline (e.g. an API retry)."""
