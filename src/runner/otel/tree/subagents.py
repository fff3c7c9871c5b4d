"""The tree builder's part for subagents: an agent node per subagent thread, under the Agent tool
call that started it (the event adapter resolved which one), ended when the ledger says its
figures are final (`SubagentFinished` with its figures), at the query's end at the latest."""

from __future__ import annotations

from runner.accounting.figures import LedgerFigures
from runner.events.types import SubagentFinished, SubagentStarted, Thread
from runner.otel.tree.lifecycle import Lifecycle
from runner.otel.tree.nodes import AgentNode, Node, QueryNode, ToolNode


class Subagents:
    def __init__(self, life: Lifecycle) -> None:
        self._life = life
        self._agents: dict[str, AgentNode] = {}
        """The query's subagents, by thread (the Agent tool call's id)."""
        self._ended: set[str] = set()
        """Threads the ledger ended before any node of theirs was seen: what comes later on
        them belongs to the query, as the ledger counts it."""

    def reset(self) -> None:
        self._agents.clear()
        self._ended.clear()

    def ended(self, thread: Thread) -> bool:
        """The ledger ended this thread before any node of it was seen."""
        return thread is not None and thread in self._ended

    def open_agents(self) -> list[AgentNode]:
        return [a for a in self._agents.values() if not a.finished]

    def get(self, thread: Thread) -> AgentNode | None:
        return self._agents.get(thread) if thread else None

    def owner(self, thread: Thread, query: QueryNode, tool: ToolNode | None) -> Node:
        """Where a thread's calls and tools belong: the query, or its subagent (opened when its
        first sign arrives before its SubagentStart hook)."""
        if thread is None or thread in self._ended:
            return query
        return self._agent(thread, query, tool, at_ns=None)

    def started(
        self, event: SubagentStarted, query: QueryNode, tool: ToolNode | None
    ) -> AgentNode | None:
        if event.thread is None or event.thread in self._ended:
            return None
        agent = self._agent(event.thread, query, tool, at_ns=event.at_ns)
        agent.agent_id = event.agent_id
        agent.agent_type = event.agent_type or agent.agent_type
        return agent

    def finished(self, event: SubagentFinished) -> None:
        agent = self._agents.get(event.thread or "")
        if agent is None and event.thread is not None and event.figures is not None:
            self._ended.add(event.thread)
        if agent is None or event.figures is None:
            return
        agent.figures = event.figures.figures
        self._life.finish(agent, event.at_ns)

    def end_query(self, figures: LedgerFigures | None, failure: str | None, at_ns: int) -> None:
        """Subagents still open (no SubagentStop): the query's figures for them, and its end."""
        final = {s.thread: s.figures for s in figures.subagents} if figures else {}
        for thread, agent in self._agents.items():
            if agent.finished:
                continue
            agent.figures = final.get(thread, agent.figures)
            agent.error_type = agent.error_type or failure
            self._life.finish(agent, at_ns)
        self.reset()

    def _agent(
        self, thread: str, query: QueryNode, tool: ToolNode | None, at_ns: int | None
    ) -> AgentNode:
        agent = self._agents.get(thread)
        if agent is None:
            arguments = tool.arguments if tool is not None else None
            start = at_ns if at_ns is not None else (tool.start_ns if tool else query.start_ns)
            agent = AgentNode(
                key=self._life.key("agent"),
                parent=tool or query,
                start_ns=start,
                thread=thread,
                agent_type=_argument(arguments, "subagent_type") or "subagent",
                prompt=_argument(arguments, "prompt") if self._life.capture else None,
            )
            self._agents[thread] = agent
            self._life.start(agent)
        return agent


def _argument(arguments: object, name: str) -> str | None:
    if isinstance(arguments, dict) and isinstance(arguments.get(name), str):
        return str(arguments[name])
    return None
