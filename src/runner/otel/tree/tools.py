"""The tree builder's part for tool calls: a tool node per tool_use id, from its request (or its
PreToolUse hook) to its PostToolUse hook (or, without hooks, its result), with the call that
asked for it. An Agent tool also waits for the subagent it started, which nests under it: a
background subagent outlives its tool call's return."""

from __future__ import annotations

from collections import OrderedDict

from runner.events.types import (
    AGENT_TOOLS,
    CliToolReported,
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
)
from runner.otel.tree.lifecycle import Lifecycle
from runner.otel.tree.nodes import ChatNode, Node, ToolNode

REQUEST_WAIT_NS = 2_000_000_000
"""How long a tool that ran waits for its request (the message holding its tool_use), so its
span names and links the call that asked for it: hooks can run ahead of the messages the SDK
still buffers (measured in subagents, CLI 2.1.332)."""
RECENT_TOOLS = 256
"""Finished tool ids remembered, so a late hook or result never opens a phantom tool."""


class Tools:
    def __init__(self, life: Lifecycle, cli_wait_ns: int | None = None) -> None:
        self._life = life
        self._cli_wait_ns = cli_wait_ns
        """With the CLI's telemetry relayed: how long a tool that ran waits for its record."""
        self._open: dict[str, ToolNode] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._awaiting_chat: dict[str, list[ToolNode]] = {}
        """Tools named by a transcript's call whose node is not made yet, by message id."""

    def reset(self) -> None:
        self._open.clear()
        self._awaiting_chat.clear()

    def get(self, tool_use_id: str | None) -> ToolNode | None:
        return self._open.get(tool_use_id) if tool_use_id else None

    def requested(
        self, event: ToolRequested, owner: Node | None, requested_by: ChatNode | None
    ) -> None:
        tool = self._tool(event.tool_use_id, event.at_ns, owner)
        if tool is None:
            return
        tool.name = event.name
        tool.requested_by = event.message_id
        tool.requested_by_chat = requested_by
        if self._life.capture or event.name in AGENT_TOOLS:
            tool.arguments = event.arguments
        if tool.ran:  # it ran before its request was seen: it may end now
            tool.request_deadline_ns = None
            self._maybe_end(tool, event.at_ns)

    def requested_in_transcript(self, message_id: str, tool_use_ids: tuple[str, ...]) -> None:
        """A subagent's call, from its transcript, asked for these tools (a nested subagent's
        messages show nowhere else): they name it now, and link to it once its node exists."""
        for tool_use_id in tool_use_ids:
            tool = self._open.get(tool_use_id)
            if tool is not None and tool.requested_by is None:
                tool.requested_by = message_id
                self._awaiting_chat[message_id] = [
                    *self._awaiting_chat.get(message_id, []),
                    tool,
                ]

    def chat_recorded(self, chat: ChatNode, at_ns: int) -> None:
        """A call's node exists: the tools its transcript said it asked for link to it."""
        for tool in self._awaiting_chat.pop(chat.message_id or "", []):
            tool.requested_by_chat = chat
            tool.request_deadline_ns = None
            self._maybe_end(tool, at_ns)

    def started(self, event: ToolStarted, owner: Node | None) -> None:
        tool = self._tool(event.tool_use_id, event.at_ns, owner)
        if tool is None:
            return
        tool.name = event.name or tool.name
        if tool.arguments is None and (self._life.capture or tool.name in AGENT_TOOLS):
            tool.arguments = event.arguments
        if not tool.started:
            tool.start_ns = event.at_ns
            self._life.start(tool)

    def finished(self, event: ToolFinished, owner: Node | None) -> None:
        tool = self._tool(event.tool_use_id, event.at_ns, owner)
        if tool is None:
            return
        if event.name:
            tool.name = event.name
        if not tool.started and event.duration_ms is not None:
            tool.start_ns = event.at_ns - event.duration_ms * 1_000_000
        if event.error is not None:
            tool.error_type = "interrupted" if event.interrupted else "tool_error"
            tool.error_message = event.error[:500]
        if self._life.capture and tool.result is None:
            tool.result = event.response
        tool.result_chars = event.response_chars
        self._ran(tool, event.at_ns)

    def result(self, event: ToolResult) -> None:
        """The result on its way to the model: the end, for a tool without hooks."""
        tool = self._open.get(event.tool_use_id)
        if tool is None:
            return
        if self._life.capture:
            tool.result = event.content
        tool.result_chars = event.chars
        if event.is_error and tool.error_type is None:
            tool.error_type = "tool_error"
            tool.error_message = event.text[:500]
        if not tool.ran:
            self._ran(tool, event.at_ns)

    def release(self, tool_use_id: str | None, at_ns: int) -> None:
        """The subagent an Agent tool started has finished."""
        tool = self.get(tool_use_id)
        if tool is not None:
            tool.released = True
            if tool.ran:
                tool.end_ns = max(at_ns, tool.end_ns or at_ns)
            self._maybe_end(tool, at_ns)

    def cli_reported(self, event: CliToolReported) -> None:
        """The CLI's record of a tool call: its permission decision and execution."""
        tool = self._open.get(event.tool_use_id)
        if tool is not None:
            tool.cli = event
            self._maybe_end(tool, event.at_ns)

    def expire(self, at_ns: int) -> None:
        """Tools that waited long enough for the CLI's record, or for their request, end
        without it."""
        for tool in list(self._open.values()):
            if not tool.ran:
                continue
            late = False
            if tool.cli_deadline_ns is not None and tool.cli_deadline_ns <= at_ns:
                tool.cli_deadline_ns, late = None, True
            if tool.request_deadline_ns is not None and tool.request_deadline_ns <= at_ns:
                tool.request_deadline_ns, late = None, True
            if late:
                self._maybe_end(tool, at_ns)

    def flush(self, owner: Node, at_ns: int) -> None:
        """The tools of an owner that ends end first: no more waiting for the CLI, and one that
        started and never reported its end is incomplete."""
        for tool in list(self._open.values()):
            if tool.parent is not owner or not (tool.started or tool.ran):
                continue
            if not tool.ran:
                tool.error_type = tool.error_type or "incomplete"
                tool.ran, tool.end_ns = True, at_ns
            tool.cli_deadline_ns = tool.request_deadline_ns = None
            tool.released = True  # its owner ends: so does whatever it was waiting for
            self._end(tool, tool.end_ns or at_ns)

    def end_query(self, failure: str | None, at_ns: int, owner: Node | None = None) -> None:
        """End what is still open at the query's end (only `owner`'s tools, when given)."""
        for tool in list(self._open.values()):
            if owner is not None and tool.parent is not owner:
                continue
            if tool.started or tool.ran:
                if not tool.ran:
                    tool.error_type = tool.error_type or failure
                self._end(tool, tool.end_ns if tool.ran and tool.end_ns else at_ns)
        if owner is None:
            self.reset()

    def _tool(self, tool_use_id: str, at_ns: int, owner: Node | None) -> ToolNode | None:
        """The open tool with this id, opened if new; None if it already finished."""
        tool = self._open.get(tool_use_id)
        if tool is None:
            if tool_use_id in self._recent:
                return None
            tool = ToolNode(
                key=self._life.key("tool"), parent=owner, start_ns=at_ns, tool_use_id=tool_use_id
            )
            self._open[tool_use_id] = tool
        return tool

    def _ran(self, tool: ToolNode, at_ns: int) -> None:
        tool.ran = True
        tool.end_ns = at_ns
        if self._cli_wait_ns is not None and tool.cli is None:
            tool.cli_deadline_ns = at_ns + self._cli_wait_ns
        if tool.requested_by is None:
            tool.request_deadline_ns = at_ns + REQUEST_WAIT_NS
        self._life.start(tool)
        self._maybe_end(tool, at_ns)

    def _maybe_end(self, tool: ToolNode, at_ns: int) -> None:
        """A tool ends once it ran, its subagent (an Agent tool) has finished, its request has
        been seen, and the CLI's record of it has come (or the waits for them ran out)."""
        if not tool.ran or (tool.name in AGENT_TOOLS and not tool.released):
            return
        if tool.cli is None and tool.cli_deadline_ns is not None:
            return
        waiting_link = tool.requested_by is None or (
            tool.requested_by_chat is None and tool.requested_by in self._awaiting_chat
        )
        if waiting_link and tool.request_deadline_ns is not None:
            return
        self._end(tool, tool.end_ns or at_ns)

    def _end(self, tool: ToolNode, at_ns: int) -> None:
        tool.end_ns = at_ns
        self._life.finish(tool, at_ns)
        self._open.pop(tool.tool_use_id, None)
        self._recent[tool.tool_use_id] = None
        if len(self._recent) > RECENT_TOOLS:
            self._recent.popitem(last=False)
