"""The session as a tree of nodes, built from the driver's stream; renderers turn it into spans.

    SessionNode ─ QueryNode ─┬─ ChatNode                one per LLM call (grouped by message id)
                             ├─ ToolNode                one per tool call (hooks keyed by id)
                             │   └─ AgentNode           a subagent started by that tool call
                             │       ├─ ChatNode ...
                             │       └─ ToolNode ...
                             └─ ...

Session, query, agent and tool nodes are handed to the renderer when they start (`start`) and
when they are complete (`finish`); a chat node only when complete, at the end of its query,
after its usage is final (subagent calls are read from their transcript) and its cost has been
reconciled with the cost Claude Code reported. Every node handed to `start` reaches `finish`
exactly once, whatever the stream looked like.
"""

from __future__ import annotations

import itertools
from typing import Any

from runner.otel.extractors import max_usage, merge_usage, subagent_type, text_of
from runner.otel.nodes import (
    AgentNode,
    ChatNode,
    Node,
    QueryNode,
    Renderer,
    SessionNode,
    ToolNode,
)
from runner.otel.pricing import reconcile
from runner.otel.transcripts import read_calls
from runner.types import HookEvent, QueryOutcome, QueryStart, SessionOutcome, SessionStart, Usage

AGENT_TOOLS = ("Agent", "Task")


class SessionModel:
    """A SessionObserver that builds the node tree and drives a Renderer.

    `capture_content` keeps prompts, completions, tool arguments and results on the nodes;
    off, none of it is held."""

    def __init__(self, renderer: Renderer, *, capture_content: bool = False) -> None:
        self.renderer = renderer
        self.capture = capture_content
        self.session: SessionNode | None = None
        self.query: QueryNode | None = None
        self._ids = itertools.count(1)
        self._reset_query_state()

    def _reset_query_state(self) -> None:
        self._chats: dict[str, ChatNode] = {}
        """The query's LLM calls by message id (or a placeholder key), in arrival order."""
        self._streaming: dict[str | None, ChatNode] = {}
        self._tools: dict[str, ToolNode] = {}
        self._agents: list[AgentNode] = []
        self._agent_by_tool: dict[str, AgentNode] = {}
        self._agent_by_id: dict[str, AgentNode] = {}
        self._tool_of_agent: dict[str, str] = {}
        self._mark: dict[str | None, int] = {}
        self._pending_input: dict[str | None, list[dict[str, Any]]] = {}

    # --- helpers -------------------------------------------------------------------------

    def _key(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def _start(self, node: Node) -> None:
        self.renderer.start(node)

    def _finish(self, node: Node, end_ns: int) -> None:
        if node.finished:
            return
        node.finished = True
        if node.end_ns is None:
            node.end_ns = end_ns
        node.end_ns = max(node.end_ns, node.start_ns)
        self.renderer.finish(node)

    def _owner(self, thread: str | None, at_ns: int) -> Node | None:
        """The node LLM calls and tools of a thread belong to: the query, or a subagent."""
        if thread is None:
            return self.query
        return self._agent_for_tool(thread, at_ns)

    def _agent_for_tool(
        self, tool_use_id: str, at_ns: int, agent_id: str | None = None
    ) -> AgentNode:
        agent = self._agent_by_tool.get(tool_use_id)
        if agent is None and agent_id is not None:
            agent = self._agent_by_id.get(agent_id)
        if agent is None:
            tool = self._tools.get(tool_use_id)
            agent = AgentNode(
                key=self._key("agent"),
                parent=tool or self.query,
                start_ns=at_ns,
                tool_use_id=tool_use_id,
                agent_type=subagent_type(tool.arguments) if tool else "subagent",
            )
            self._agents.append(agent)
            self._start(agent)
        agent.tool_use_id = agent.tool_use_id or tool_use_id
        self._agent_by_tool[tool_use_id] = agent
        if agent_id is not None:
            agent.agent_id = agent_id
            self._agent_by_id[agent_id] = agent
        return agent

    def _tool(self, tool_use_id: str, at_ns: int, thread: str | None = None) -> ToolNode:
        tool = self._tools.get(tool_use_id)
        if tool is None:
            tool = ToolNode(
                key=self._key("tool"),
                parent=self._owner(thread, at_ns),
                start_ns=at_ns,
                tool_use_id=tool_use_id,
            )
            self._tools[tool_use_id] = tool
        return tool

    def _begin_tool(self, tool: ToolNode, at_ns: int) -> None:
        if not tool.started:
            tool.started = True
            tool.start_ns = at_ns
            self._start(tool)

    # --- SessionObserver -----------------------------------------------------------------

    def on_session_start(self, event: SessionStart) -> None:
        self.session = SessionNode(
            key=self._key("session"),
            parent=None,
            start_ns=event.at_ns,
            session_id=event.session_id,
            model=event.model,
            interactive=event.interactive,
            workspace=event.workspace,
            tenancy=event.tenancy,
            prompt=event.prompt if self.capture else None,
        )
        self._start(self.session)

    def on_query_start(self, event: QueryStart) -> None:
        if self.query is not None:  # the driver always ends a query; tolerate one that did not
            self._end_query(None, event.at_ns)
        self.query = QueryNode(
            key=self._key("query"),
            parent=self.session,
            start_ns=event.at_ns,
            index=event.index,
            prompt=event.prompt if self.capture else "",
        )
        self._mark[None] = event.at_ns
        if self.capture:
            self._pending_input[None] = [{"type": "text", "content": event.prompt}]
        self._start(self.query)

    def on_message(self, message: object, at_ns: int) -> None:
        from claude_agent_sdk import (
            AssistantMessage,
            ResultMessage,
            StreamEvent,
            SystemMessage,
            UserMessage,
        )

        if self.query is None:
            return
        if isinstance(message, StreamEvent):
            self._stream_event(message.event, message.parent_tool_use_id, at_ns)
        elif isinstance(message, AssistantMessage):
            self._assistant(message, at_ns)
        elif isinstance(message, UserMessage):
            self._user(message, at_ns)
        elif isinstance(message, SystemMessage):
            self._system(message.subtype, message.data, at_ns)
        elif isinstance(message, ResultMessage) and self.session is not None:
            self.session.sdk_session_id = message.session_id or self.session.sdk_session_id

    def _system(self, subtype: str, data: dict[str, Any], at_ns: int) -> None:
        if subtype == "init" and self.session is not None:
            self.session.sdk_session_id = data.get("session_id") or self.session.sdk_session_id
        elif subtype == "status" and data.get("status") == "requesting":
            self._mark[None] = at_ns
        elif subtype == "task_started":
            task_id, tool_use_id = data.get("task_id"), data.get("tool_use_id")
            if isinstance(task_id, str) and isinstance(tool_use_id, str):
                self._tool_of_agent[task_id] = tool_use_id
                if task_id in self._agent_by_id:
                    self._agent_by_tool[tool_use_id] = self._agent_by_id[task_id]

    def _stream_event(self, event: dict[str, Any], thread: str | None, at_ns: int) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            started = self._chat(message.get("id"), thread, at_ns)
            started.first_chunk_ns = at_ns
            started.response_model = message.get("model") or started.response_model
            started.usage = Usage.from_dict(message.get("usage"))
            self._streaming[thread] = started
        elif kind == "message_delta":
            streaming = self._streaming.get(thread)
            if streaming is not None:
                delta = event.get("delta") or {}
                streaming.stop_reason = delta.get("stop_reason") or streaming.stop_reason
                streaming.usage = merge_usage(streaming.usage, event.get("usage"))
        elif kind == "message_stop":
            stopped = self._streaming.pop(thread, None)
            if stopped is not None:
                stopped.end_ns = at_ns
                self._mark[thread] = at_ns

    def _chat(self, message_id: str | None, thread: str | None, at_ns: int) -> ChatNode:
        """The call with this message id; a call without one (an API error) is always new."""
        key = message_id or self._key("call")
        chat = self._chats.get(key)
        if chat is None:
            session = self.session
            chat = ChatNode(
                key=self._key("chat"),
                parent=self._owner(thread, at_ns),
                start_ns=min(self._mark.get(thread, at_ns), at_ns),
                message_id=message_id,
                request_model=session.model if session and thread is None else None,
                input_parts=self._pending_input.pop(thread, []),
            )
            self._chats[key] = chat
        return chat

    def _assistant(self, message: Any, at_ns: int) -> None:
        from claude_agent_sdk.types import TextBlock, ThinkingBlock, ToolUseBlock

        thread = message.parent_tool_use_id
        if message.error:
            chat = self._chat(None, thread, at_ns)
            chat.end_ns = at_ns
            chat.error_type = str(message.error)
            chat.error_message = text_of(message.content)[:500] or str(message.error)
            self._mark[thread] = at_ns
            return
        chat = self._chat(message.message_id, thread, at_ns)
        chat.response_model = chat.response_model or message.model
        chat.request_model = chat.request_model or message.model
        if thread is not None or chat.first_chunk_ns is None:
            # No stream events for this call (a subagent): the message is all we see.
            chat.usage = max_usage(chat.usage, Usage.from_dict(message.usage))
            chat.end_ns = at_ns
            chat.stop_reason = message.stop_reason or chat.stop_reason
            self._mark[thread] = at_ns
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                tool = self._tool(block.id, at_ns, thread)
                tool.name = block.name
                tool.arguments = block.input if self.capture or block.name in AGENT_TOOLS else None
                if self.capture:
                    chat.output_parts.append(
                        {
                            "type": "tool_call",
                            "id": block.id,
                            "name": block.name,
                            "arguments": block.input,
                        }
                    )
            elif self.capture and isinstance(block, TextBlock):
                chat.output_parts.append({"type": "text", "content": block.text})
            elif self.capture and isinstance(block, ThinkingBlock):
                chat.output_parts.append({"type": "reasoning", "content": block.thinking})

    def _user(self, message: Any, at_ns: int) -> None:
        from claude_agent_sdk import ToolResultBlock

        if not isinstance(message.content, list):
            return
        thread = message.parent_tool_use_id
        for block in message.content:
            if not isinstance(block, ToolResultBlock):
                continue
            tool = self._tool(block.tool_use_id, at_ns, thread)
            if self.capture:
                tool.result = block.content
                self._pending_input.setdefault(thread, []).append(
                    {
                        "type": "tool_call_response",
                        "id": block.tool_use_id,
                        "response": block.content,
                    }
                )
            if block.is_error and tool.error_type is None:
                tool.error_type = "tool_error"
                tool.error_message = text_of(block.content)[:500]
            if not tool.finished and tool.end_ns is None:
                # No PostToolUse hook (e.g. a denied tool): the result is the end.
                self._begin_tool(tool, tool.start_ns)
                self._finish(tool, at_ns)
        self._mark[thread] = at_ns

    def on_hook(self, event: HookEvent) -> None:
        if self.query is None:
            return
        data, at = event.data, event.at_ns
        agent_id = data.get("agent_id") if isinstance(data.get("agent_id"), str) else None
        tool_use_id = data.get("tool_use_id")
        if event.name == "PreToolUse" and isinstance(tool_use_id, str):
            tool = self._tools.get(tool_use_id)
            if tool is None:
                owner = self._agent_by_id.get(agent_id) if agent_id else None
                tool = self._tool(tool_use_id, at)
                tool.parent = owner or tool.parent
            tool.name = str(data.get("tool_name") or tool.name)
            if tool.arguments is None and (self.capture or tool.name in AGENT_TOOLS):
                tool.arguments = data.get("tool_input")
            self._begin_tool(tool, at)
        elif event.name in ("PostToolUse", "PostToolUseFailure") and isinstance(tool_use_id, str):
            tool = self._tool(tool_use_id, at)
            self._begin_tool(tool, at - int(data.get("duration_ms") or 0) * 1_000_000)
            if event.name == "PostToolUseFailure":
                tool.error_type = "interrupted" if data.get("is_interrupt") else "tool_error"
                tool.error_message = str(data.get("error") or "tool failed")[:500]
            if self.capture and tool.result is None:
                tool.result = data.get("tool_response")
            self._finish(tool, at)
        elif event.name == "SubagentStart" and agent_id is not None:
            tool_use_id = self._tool_of_agent.get(agent_id) or self._unclaimed_agent_tool()
            if tool_use_id is None:
                return
            agent = self._agent_for_tool(tool_use_id, at, agent_id)
            agent.agent_type = str(data.get("agent_type") or agent.agent_type)
        elif event.name == "SubagentStop" and agent_id is not None:
            stopped = self._agent_by_id.get(agent_id)
            if stopped is not None:
                stopped.end_ns = at
                path = data.get("agent_transcript_path")
                stopped.transcript_path = path if isinstance(path, str) else None

    def _unclaimed_agent_tool(self) -> str | None:
        for tool_use_id, tool in reversed(self._tools.items()):
            if tool.name in AGENT_TOOLS and tool_use_id not in self._agent_by_tool:
                return tool_use_id
        return None

    def on_query_end(self, event: QueryOutcome) -> None:
        self._end_query(event, event.at_ns)

    def on_session_end(self, event: SessionOutcome) -> None:
        try:
            if self.query is not None:
                self._end_query(None, event.at_ns, event)
        finally:  # the session node ends whatever happened above
            if self.session is not None:
                self.session.outcome = event
                self.session.error_type = event.error_type
                self.session.error_message = event.error_message
                self._finish(self.session, event.at_ns)

    # --- the end of a query: final usage, reconciled cost, everything ended ----------------

    def _end_query(
        self, outcome: QueryOutcome | None, at_ns: int, session: SessionOutcome | None = None
    ) -> None:
        query = self.query
        if query is None:
            return
        self.query = None
        failure = outcome.error_type if outcome and outcome.is_error else None
        if outcome is None:
            failure = (session.error_type if session else None) or "incomplete"
        for agent in self._agents:
            self._apply_transcript(agent, at_ns)
        chats = list(self._chats.values())
        costs = reconcile(
            [(c.response_model or c.request_model, c.usage) for c in chats],
            outcome.cost_usd if outcome else None,
        )
        for chat, cost in zip(chats, costs, strict=True):
            chat.cost_usd, chat.cost_source = cost.cost_usd, cost.source
            if chat.end_ns is None and failure:  # the call never completed
                chat.error_type = chat.error_type or failure
            self._finish(chat, at_ns)
        for tool in self._tools.values():
            if tool.started and not tool.finished:
                tool.error_type = tool.error_type or failure
                self._finish(tool, at_ns)
        for agent in self._agents:
            if agent.end_ns is None and failure:
                agent.error_type = failure
            self._finish(agent, at_ns)
        query.outcome = outcome
        for chat in chats:
            query.usage = query.usage + chat.usage
        query.cost_usd = (
            outcome.cost_usd
            if outcome and outcome.cost_usd is not None
            else sum(c.cost_usd for c in chats)
        )
        if failure:
            query.error_type = failure
            query.error_message = (outcome.error_message if outcome else None) or (
                session.error_message if session else None
            )
        self._finish(query, at_ns)
        self._reset_query_state()

    def _apply_transcript(self, agent: AgentNode, at_ns: int) -> None:
        if not agent.transcript_path:
            return
        for message_id, call in read_calls(agent.transcript_path).items():
            chat = self._chats.get(message_id)
            if chat is None:  # a call the stream never showed
                chat = ChatNode(
                    key=self._key("chat"),
                    parent=agent,
                    start_ns=call.requested_ns or agent.start_ns,
                    end_ns=call.answered_ns or at_ns,
                    message_id=message_id,
                )
                self._chats[message_id] = chat
            chat.usage = call.usage
            chat.response_model = call.model or chat.response_model
            chat.request_model = chat.request_model or call.model
            if call.requested_ns is not None and call.requested_ns <= (chat.end_ns or at_ns):
                chat.start_ns = call.requested_ns  # the transcript knows when the request left
