"""Runner events → the session tree, each node handed to the renderer as its work ends.

Live: a main-thread LLM call is finished (priced, rendered, forgotten) at its `message_stop`; a
tool when its PostToolUse hook (or, without hooks, its result) arrives; a subagent's calls when
it stops (its transcript then has their final usage); queries and the session when they end.
What the builder holds is O(open nodes): open calls per thread, open tools, the subagents of
the running query, and per-thread marks.

Claude Code's reported cost is the check, not a reason to wait: at a query's end the sum of its
calls' exact prices is compared with the reported figure; a difference is recorded on the
query span and warned once. Calls of a model without a price are the exception: they are held
to the query's end and share what the reported figure leaves.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from runner import pricing
from runner.events import (
    ApiRetry,
    AssistantText,
    CallFailed,
    CallFinished,
    CallStarted,
    Compacted,
    CompactionStarted,
    QueryResult,
    RequestSent,
    RunnerEvent,
    SessionInitialized,
    SubagentCall,
    SubagentFinished,
    SubagentStarted,
    TaskStarted,
    Thread,
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
    text_of,
)
from runner.otel.attributes import AGENT_TOOLS
from runner.otel.compactions import Compactions
from runner.otel.query_costs import QueryCosts
from runner.otel.subagents import SubagentTracking
from runner.otel.tree import (
    AgentNode,
    ChatNode,
    CompactionNode,
    Node,
    QueryNode,
    Renderer,
    SessionNode,
    ToolNode,
)
from runner.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart, Usage

log = logging.getLogger("runner.otel")
RECENT_TOOLS = 256
"""Finished tool ids remembered, so a late hook or result never opens a phantom tool."""


class TreeBuilder(SubagentTracking, Compactions, QueryCosts):
    """A SessionObserver that builds the tree from runner events and drives a Renderer.

    `capture_content` keeps prompts, completions, tool arguments and results on the nodes;
    off, none of it is held. `price` prices one call (None: no price)."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        capture_content: bool = False,
        price: Callable[[str | None, Usage], pricing.CallCost | None] = pricing.price,
    ) -> None:
        super().__init__(renderer, capture_content=capture_content, price=price)
        self._warned_cost = False
        self._reported_before: dict[str, Usage] = {}
        """Claude Code's cumulative per-model usage at the previous query's end."""
        self._reset_query_state()

    def _reset_query_state(self) -> None:
        self._reset_subagents()
        self._calls: dict[Thread, ChatNode] = {}
        """The call being streamed on each thread (main: until message_stop)."""
        self._by_message = {}
        self._held = []
        self._recent_tools: OrderedDict[str, None] = OrderedDict()
        self._mark: dict[Thread, int] = {}
        self._pending_input: dict[Thread, list[dict[str, Any]]] = {}
        self._pending_results: dict[Thread, list[tuple[str, int]]] = {}
        self._compaction: CompactionNode | None = None
        self._last_compaction: CompactionNode | None = None

    # --- helpers ----------------------------------------------------------------------------

    def _tool(self, tool_use_id: str, at_ns: int, owner: Node | None) -> ToolNode | None:
        """The open tool with this id, opened if new; None if it already finished."""
        tool = self._tools.get(tool_use_id)
        if tool is None:
            if tool_use_id in self._recent_tools:
                return None
            tool = ToolNode(
                key=self._key("tool"), parent=owner, start_ns=at_ns, tool_use_id=tool_use_id
            )
            self._tools[tool_use_id] = tool
        return tool

    def _end_tool(self, tool: ToolNode, at_ns: int) -> None:
        self._start(tool)
        self._finish(tool, at_ns)
        self._tools.pop(tool.tool_use_id, None)
        self._recent_tools[tool.tool_use_id] = None
        if len(self._recent_tools) > RECENT_TOOLS:
            self._recent_tools.popitem(last=False)

    # --- SessionObserver --------------------------------------------------------------------

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
            prompt=event.prompt if self.capture else None,
        )
        self._mark[None] = event.at_ns
        if self.capture:
            self._pending_input[None] = [{"type": "text", "content": event.prompt}]
        self._start(self.query)

    def on_event(self, event: RunnerEvent) -> None:
        if self.query is None:
            if isinstance(event, SessionInitialized) and self.session is not None:
                self.session.sdk_session_id = event.sdk_session_id
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def on_query_end(self, event: QueryOutcome) -> None:
        self._end_query(event, event.at_ns)

    def on_session_end(self, event: SessionOutcome) -> None:
        try:
            if self.query is not None:
                self._end_query(None, event.at_ns, event)
        finally:  # the session node ends whatever happened above
            session = self.session
            if session is not None:
                session.outcome = event
                session.error_type = event.error_type
                session.error_message = event.error_message
                try:
                    self._finish(session, event.at_ns)
                finally:
                    self.renderer.close(event.at_ns)

    # --- events -----------------------------------------------------------------------------

    def _initialized(self, event: SessionInitialized) -> None:
        if self.session is not None:
            self.session.sdk_session_id = event.sdk_session_id

    def _request_sent(self, event: RequestSent) -> None:
        self._mark[None] = event.at_ns

    def _call_started(self, event: CallStarted) -> None:
        thread, at = event.thread, event.at_ns
        previous = self._calls.pop(thread, None)
        if previous is not None:  # its stream never ended
            previous.error_type = previous.error_type or "incomplete"
            self._complete_call(previous, at)
        session = self.session
        chat = ChatNode(
            key=self._key("chat"),
            parent=self._owner(thread, at),
            start_ns=min(self._mark.get(thread, at), at),
            message_id=event.message_id,
            request_model=session.model if session and thread is None else None,
            response_model=event.model,
            first_chunk_ns=at if event.streamed else None,
            usage=event.usage,
            input_parts=self._pending_input.pop(thread, []),
            consumed_tool_results=self._pending_results.pop(thread, []),
        )
        if chat.request_model is None:
            chat.request_model = event.model
        self._calls[thread] = chat
        self._by_message[event.message_id] = chat
        if event.streamed:
            # Open now (its times are known): the tools it asks for can link to it. A
            # subagent's call is rendered whole later, with the transcript's times.
            self._start(chat)

    def _call_finished(self, event: CallFinished) -> None:
        thread, at = event.thread, event.at_ns
        chat = self._calls.pop(thread, None)
        if chat is None or chat.message_id != event.message_id:
            return
        chat.usage = event.usage
        chat.stop_reason = event.stop_reason or chat.stop_reason
        chat.end_ns = at
        self._mark[thread] = at
        agent = chat.parent
        if isinstance(agent, AgentNode) and chat.message_id:
            # Snapshot usage only: final figures come from the transcript (SubagentCall).
            if chat.message_id not in agent.settled:
                agent.pending[chat.message_id] = chat
            return
        self._complete_call(chat, at)

    def _call_failed(self, event: CallFailed) -> None:
        thread, at = event.thread, event.at_ns
        chat = ChatNode(
            key=self._key("chat"),
            parent=self._owner(thread, at),
            start_ns=min(self._mark.get(thread, at), at),
            end_ns=at,
            request_model=self.session.model if self.session else None,
            error_type=event.error,
            error_message=event.message,
            input_parts=self._pending_input.pop(thread, []),
        )
        self._mark[thread] = at
        self._complete_call(chat, at)

    def _assistant_text(self, event: AssistantText) -> None:
        chat = self._by_message.get(event.message_id)
        if self.capture and chat is not None:
            chat.output_parts.append({"type": event.kind, "content": event.text})

    def _tool_requested(self, event: ToolRequested) -> None:
        tool = self._tool(event.tool_use_id, event.at_ns, self._owner(event.thread, event.at_ns))
        if tool is None:
            return
        tool.name = event.name
        tool.requested_by = event.message_id
        tool.requested_by_chat = self._by_message.get(event.message_id)
        if self.capture or event.name in AGENT_TOOLS:
            tool.arguments = event.arguments
        if event.name in AGENT_TOOLS and event.tool_use_id not in self._agents_by_tool:
            self._unclaimed[event.tool_use_id] = tool
        chat = self._by_message.get(event.message_id)
        if self.capture and chat is not None:
            chat.output_parts.append(
                {
                    "type": "tool_call",
                    "id": event.tool_use_id,
                    "name": event.name,
                    "arguments": event.arguments,
                }
            )

    def _tool_started(self, event: ToolStarted) -> None:
        owner = self._agents_by_id.get(event.agent_id) if event.agent_id else None
        tool = self._tool(event.tool_use_id, event.at_ns, owner or self.query)
        if tool is None:
            return
        tool.name = event.name or tool.name
        if tool.arguments is None and (self.capture or tool.name in AGENT_TOOLS):
            tool.arguments = event.arguments
        if tool.name in AGENT_TOOLS and event.tool_use_id not in self._agents_by_tool:
            self._unclaimed[event.tool_use_id] = tool
        if not tool.started:
            tool.start_ns = event.at_ns
            self._start(tool)

    def _tool_finished(self, event: ToolFinished) -> None:
        owner = self._agents_by_id.get(event.agent_id) if event.agent_id else None
        tool = self._tool(event.tool_use_id, event.at_ns, owner or self.query)
        if tool is None:
            return
        if event.name:
            tool.name = event.name
        if not tool.started and event.duration_ms is not None:
            tool.start_ns = event.at_ns - event.duration_ms * 1_000_000
        if event.error is not None:
            tool.error_type = "interrupted" if event.interrupted else "tool_error"
            tool.error_message = event.error[:500]
        if self.capture and tool.result is None:
            tool.result = event.response
        tool.result_chars = event.response_chars
        self._end_tool(tool, event.at_ns)

    def _tool_result(self, event: ToolResult) -> None:
        thread, at = event.thread, event.at_ns
        if self.capture:
            self._pending_input.setdefault(thread, []).append(
                {"type": "tool_call_response", "id": event.tool_use_id, "response": event.content}
            )
        self._pending_results.setdefault(thread, []).append(
            (event.tool_use_id, event.content_chars)
        )
        self._mark[thread] = at
        tool = self._tools.get(event.tool_use_id)
        if tool is None:
            return
        if self.capture:
            tool.result = event.content
        tool.result_chars = event.content_chars
        if event.is_error and tool.error_type is None:
            tool.error_type = "tool_error"
            tool.error_message = text_of(event.content)[:500]
        # No PostToolUse hook (e.g. a denied tool): the result is the end.
        self._end_tool(tool, at)

    def _api_retry(self, event: ApiRetry) -> None:
        if self.query is not None:
            self.renderer.event(self.query, event)

    # --- the end of a query -----------------------------------------------------------------

    def _end_query(
        self, outcome: QueryOutcome | None, at_ns: int, session: SessionOutcome | None = None
    ) -> None:
        query = self.query
        if query is None:
            return
        failure = outcome.error_type if outcome and outcome.is_error else None
        if outcome is None:
            failure = (session.error_type if session else None) or "incomplete"
        try:
            self._settle_subagents(at_ns)
            if self._compaction is not None:  # started, never reported done
                self._compaction.error_type = failure or "incomplete"
                self._finish(self._compaction, at_ns)
                self._compaction = None
            for chat in list(self._calls.values()):  # a stream cut before message_stop
                chat.error_type = chat.error_type or failure or "incomplete"
                chat.end_ns = chat.end_ns or at_ns
                self._complete_call(chat, at_ns)
            self._add_unseen_calls(outcome, at_ns)
            self._share_reported(outcome)
            for tool in list(self._tools.values()):
                if tool.started:
                    tool.error_type = tool.error_type or failure
                    self._end_tool(tool, at_ns)
            for agent in self._agents():
                if not agent.finished:
                    if not agent.stopped and failure:
                        agent.error_type = failure
                    self._finish(agent, at_ns)
            self._check_cost(query, outcome)
        finally:
            query.outcome = outcome
            if failure:
                query.error_type = failure
                query.error_message = (outcome.error_message if outcome else None) or (
                    session.error_message if session else None
                )
            self.query = None
            self._finish(query, at_ns)
            self._reset_query_state()


_HANDLERS: dict[type, Callable[[TreeBuilder, Any], None]] = {
    SessionInitialized: TreeBuilder._initialized,
    RequestSent: TreeBuilder._request_sent,
    CallStarted: TreeBuilder._call_started,
    CallFinished: TreeBuilder._call_finished,
    CallFailed: TreeBuilder._call_failed,
    AssistantText: TreeBuilder._assistant_text,
    ToolRequested: TreeBuilder._tool_requested,
    ToolStarted: TreeBuilder._tool_started,
    ToolFinished: TreeBuilder._tool_finished,
    ToolResult: TreeBuilder._tool_result,
    TaskStarted: TreeBuilder._task_started,
    SubagentStarted: TreeBuilder._subagent_started,
    ApiRetry: TreeBuilder._api_retry,
    SubagentCall: TreeBuilder._subagent_call,
    CompactionStarted: TreeBuilder._compaction_started,
    Compacted: TreeBuilder._compacted,
    QueryResult: TreeBuilder._query_result,
    SubagentFinished: TreeBuilder._subagent_finished,
}
