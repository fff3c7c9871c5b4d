"""The nodes of a session's tree, and the Renderer seam that turns them into telemetry.

Plain data: the model (runner.otel.model) fills them in; renderers (runner.otel.mapper for OTel
spans, runner.otel.langfuse_fallback for the Langfuse SDK) only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from runner.config import Tenancy
from runner.otel import semconv as sc
from runner.types import QueryOutcome, SessionOutcome, Usage


@dataclass(eq=False)
class Node:
    key: str
    parent: Node | None
    start_ns: int
    end_ns: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    finished: bool = False


@dataclass(eq=False)
class SessionNode(Node):
    session_id: str = ""
    model: str = ""
    interactive: bool = False
    workspace: str = ""
    tenancy: Tenancy = field(default_factory=Tenancy)
    prompt: str | None = None
    sdk_session_id: str | None = None
    outcome: SessionOutcome | None = None

    @property
    def tags(self) -> list[str]:
        """Langfuse trace tags: the product, then tenancy."""
        tags = [sc.TRACE_TAG]
        if self.tenancy.namespace:
            tags.append(f"namespace:{self.tenancy.namespace}")
        if self.tenancy.project:
            tags.append(f"project:{self.tenancy.project}")
        return tags

    @property
    def metadata(self) -> dict[str, str]:
        """Trace metadata (empty values left out)."""
        values = {
            "namespace": self.tenancy.namespace or "",
            "project": self.tenancy.project or "",
            "model": self.model,
            "interactive": str(self.interactive).lower(),
        }
        return {k: v for k, v in values.items() if v}


@dataclass(eq=False)
class QueryNode(Node):
    index: int = 0
    prompt: str = ""
    outcome: QueryOutcome | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0


@dataclass(eq=False)
class AgentNode(Node):
    agent_id: str | None = None
    agent_type: str = "subagent"
    tool_use_id: str | None = None
    transcript_path: str | None = None


@dataclass(eq=False)
class ChatNode(Node):
    message_id: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    first_chunk_ns: int | None = None
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    cost_usd: float = 0.0
    cost_source: str = "price_table"
    input_parts: list[dict[str, Any]] = field(default_factory=list)
    output_parts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class ToolNode(Node):
    tool_use_id: str = ""
    name: str = "unknown"
    arguments: object = None
    result: object = None
    started: bool = False


class Renderer(Protocol):
    def start(self, node: Node) -> None: ...

    def finish(self, node: Node) -> None: ...
