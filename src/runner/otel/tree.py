"""The session's tree: plain nodes the tree builder fills in and renderers read.

    SessionNode ─ QueryNode ─┬─ ChatNode                one per LLM call
                             ├─ ToolNode                one per tool call
                             │   └─ AgentNode           a subagent started by that tool call
                             │       ├─ ChatNode ...
                             │       └─ ToolNode ...
                             └─ ...

A node is handed to the renderer with `start` when its work starts and with `finish` when its
work ends (a chat node: both at once, when its call is complete and priced). Renderers keep what
they need on `handle` (e.g. the span), so no renderer holds a map of every node it has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from runner.config import Tenancy
from runner.events import RunnerEvent
from runner.pricing import CallCost
from runner.types import QueryOutcome, SessionOutcome, Usage

CostSource = Literal["price", "reported_share", "unpriced"]


@dataclass(eq=False, slots=True)
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


@dataclass(eq=False, slots=True)
class Totals:
    """What a query, subagent or session spent: its LLM calls, subagents' included."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    cache_savings_usd: float = 0.0

    def add(self, usage: Usage, cost: CallCost | None) -> None:
        self.calls += 1
        self.usage = self.usage + usage
        if cost is not None:
            self.cost_usd += cost.total
            self.cache_savings_usd += cost.cache_savings


@dataclass(eq=False, slots=True)
class SessionNode(Node):
    session_id: str = ""
    model: str = ""
    interactive: bool = False
    workspace: str = ""
    tenancy: Tenancy = field(default_factory=Tenancy)
    prompt: str | None = None
    sdk_session_id: str | None = None
    outcome: SessionOutcome | None = None
    totals: Totals = field(default_factory=Totals)
    compactions: int = 0


@dataclass(eq=False, slots=True)
class QueryNode(Node):
    index: int = 0
    prompt: str | None = None
    outcome: QueryOutcome | None = None
    totals: Totals = field(default_factory=Totals)
    cost_difference_usd: float | None = None
    """Reported (Claude Code) minus priced (the sum of this query's calls), when they differ."""


@dataclass(eq=False, slots=True)
class AgentNode(Node):
    agent_id: str | None = None
    agent_type: str = "subagent"
    tool_use_id: str | None = None
    stopped: bool = False
    pending: dict[str, ChatNode] = field(default_factory=dict)
    """Calls seen in the stream whose final usage the transcript has not given yet."""
    settled: set[str] = field(default_factory=set)
    """Message ids already completed (a transcript is read more than once)."""
    totals: Totals = field(default_factory=Totals)


@dataclass(eq=False, slots=True)
class ChatNode(Node):
    message_id: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    first_chunk_ns: int | None = None
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    cost: CallCost | None = None
    cost_source: CostSource = "unpriced"
    input_parts: list[dict[str, Any]] = field(default_factory=list)
    output_parts: list[dict[str, Any]] = field(default_factory=list)
    context_window: int | None = None
    observed: bool = True
    """False for calls the stream never showed (e.g. a compaction's summary), whose usage is
    Claude Code's per-model totals less every call seen."""
    consumed_tool_results: list[tuple[str, int]] = field(default_factory=list)
    """(tool_use_id, result size in characters) of the tool results in this call's input."""

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    @property
    def cost_usd(self) -> float:
        return self.cost.total if self.cost is not None else 0.0


@dataclass(eq=False, slots=True)
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


@dataclass(eq=False, slots=True)
class CompactionNode(Node):
    """Claude Code compacting the context: why, and the context size before and after."""

    trigger: str = "unknown"
    pre_tokens: int | None = None
    post_tokens: int | None = None


class Renderer(Protocol):
    """Turns nodes into telemetry. Contract: `finish` is called exactly once for every node
    given to `start`, and may come without a `start` (the node is then rendered whole);
    `close` ends whatever is still open (the last call of a session) and never raises."""

    def start(self, node: Node) -> None: ...

    def finish(self, node: Node) -> None: ...

    def close(self, at_ns: int) -> None: ...

    def event(self, node: Node, event: RunnerEvent) -> None:
        """A point in time on an open node's timeline (e.g. an API retry)."""
