"""Subagents in the tree: matching a subagent to the Agent tool call that started it (task ids,
hooks, or the newest unclaimed Agent call), nesting its calls and tools under it, and ending it
once the calls its transcript reports are in (SubagentCall events, from the event adapter)."""

from __future__ import annotations

from runner.events import (
    SubagentCall,
    SubagentFinished,
    SubagentStarted,
    TaskStarted,
    Thread,
)
from runner.otel.node_life import NodeLife
from runner.otel.tree import AgentNode, ChatNode, Node, ToolNode


class SubagentTracking(NodeLife):
    def _reset_subagents(self) -> None:
        self._agents_by_tool: dict[str, AgentNode] = {}
        self._agents_by_id: dict[str, AgentNode] = {}
        self._task_tool: dict[str, str] = {}
        self._unclaimed: dict[str, ToolNode] = {}
        """Agent tool calls no subagent has been matched to yet."""
        self._tools: dict[str, ToolNode] = {}

    def _agents(self) -> list[AgentNode]:
        return list({id(a): a for a in self._agents_by_tool.values()}.values())

    def _owner(self, thread: Thread, at_ns: int) -> Node | None:
        """Where a thread's calls and tools belong: the query, or a subagent."""
        if thread is None:
            return self.query
        return self._agent_for_tool(thread, at_ns)

    def _agent_for_tool(
        self, tool_use_id: str, at_ns: int, agent_id: str | None = None
    ) -> AgentNode:
        agent = self._agents_by_tool.get(tool_use_id)
        if agent is None and agent_id is not None:
            agent = self._agents_by_id.get(agent_id)
        if agent is None:
            tool = self._unclaimed.get(tool_use_id) or self._tools.get(tool_use_id)
            arguments = tool.arguments if tool is not None else None
            agent = AgentNode(
                key=self._key("agent"),
                parent=tool or self.query,
                start_ns=at_ns,
                tool_use_id=tool_use_id,
                agent_type=_subagent_type(arguments),
            )
            self._start(agent)
        self._unclaimed.pop(tool_use_id, None)
        agent.tool_use_id = agent.tool_use_id or tool_use_id
        self._agents_by_tool[tool_use_id] = agent
        if agent_id is not None:
            agent.agent_id = agent_id
            self._agents_by_id[agent_id] = agent
        return agent

    def _task_started(self, event: TaskStarted) -> None:
        if event.tool_use_id is None:
            return
        self._task_tool[event.task_id] = event.tool_use_id
        agent = self._agents_by_id.get(event.task_id)
        if agent is not None:
            self._agents_by_tool[event.tool_use_id] = agent

    def _subagent_started(self, event: SubagentStarted) -> None:
        tool_use_id = self._task_tool.get(event.agent_id) or next(reversed(self._unclaimed), None)
        if tool_use_id is None:
            return
        agent = self._agent_for_tool(tool_use_id, event.at_ns, event.agent_id)
        agent.agent_type = event.agent_type or agent.agent_type

    def _subagent_finished(self, event: SubagentFinished) -> None:
        agent = self._agents_by_id.get(event.agent_id)
        if agent is None:
            return
        agent.end_ns = event.at_ns
        agent.stopped = True
        if not agent.pending:  # its calls (SubagentCall, just before) are all in
            self._finish(agent, event.at_ns)

    def _subagent_call(self, event: SubagentCall) -> None:
        """A subagent's call with its final usage (from its transcript): render it now."""
        agent = self._agents_by_id.get(event.agent_id)
        if agent is None or event.message_id in agent.settled:
            return
        chat = agent.pending.pop(event.message_id, None)
        if chat is None:  # a call the stream never showed
            chat = ChatNode(
                key=self._key("chat"),
                parent=agent,
                start_ns=event.requested_ns or agent.start_ns,
                end_ns=event.answered_ns or event.at_ns,
                message_id=event.message_id,
            )
        chat.usage = event.usage
        chat.response_model = event.model or chat.response_model
        chat.request_model = chat.request_model or event.model
        if event.requested_ns is not None and event.requested_ns <= (chat.end_ns or event.at_ns):
            chat.start_ns = event.requested_ns  # the transcript knows when the request left
        agent.settled.add(event.message_id)
        self._complete_call(chat, chat.end_ns or event.at_ns)
        if agent.stopped and not agent.pending:
            self._finish(agent, agent.end_ns or event.at_ns)

    def _settle_subagents(self, at_ns: int) -> None:
        """At the query's end: calls the transcripts never gave keep their snapshot usage."""
        for agent in self._agents():
            for chat in list(agent.pending.values()):
                self._complete_call(chat, chat.end_ns or at_ns)
            agent.pending.clear()


def _subagent_type(arguments: object) -> str:
    if isinstance(arguments, dict) and isinstance(arguments.get("subagent_type"), str):
        return str(arguments["subagent_type"])
    return "subagent"
