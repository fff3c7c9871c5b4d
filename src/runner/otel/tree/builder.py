"""Runner events → the session tree, each node handed to the renderer as its work ends.

The builder routes each event to the part that owns it (one `match`): `Calls` (chat nodes),
`Tools`, `Subagents`, `Compactions`; it holds only the session and the running query. Figures
are never computed here: chat nodes get their call from the ledger (`CallRecorded`), subagents
their totals with `SubagentFinished`, queries and the session with their outcomes.

Live: a main-thread call ends at its `message_stop`, a tool when its PostToolUse hook (or its
result) arrives, a subagent when its transcript is complete, queries and the session when they
end. What the builder holds is O(open nodes).

With the CLI's own telemetry relayed (`cli_wait_s`), a call or tool waits for the CLI's record of
it (the CLI exports every 100 ms; the wait is bounded, 2 s) to end with its facts — permission
decision, execution time, attempt, time to first token — or ends without them when the wait
runs out, or when its owner ends. The CLI's spans are never rendered themselves: nothing is
counted twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from runner.events.types import (
    ApiRetry,
    AssistantText,
    CallFailed,
    CallFinished,
    CallRecorded,
    CallStarted,
    CliCallReported,
    CliHookRan,
    CliToolReported,
    Compacted,
    CompactionStarted,
    QueryResult,
    RequestSent,
    RunnerEvent,
    SessionInitialized,
    SessionStateChanged,
    SubagentCall,
    SubagentFinished,
    SubagentStarted,
    TaskFinished,
    TaskStarted,
    Thread,
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
)
from runner.otel.tree.calls import Calls
from runner.otel.tree.compactions import Compactions
from runner.otel.tree.lifecycle import Lifecycle
from runner.otel.tree.nodes import Node, QueryNode, Renderer, SessionNode
from runner.otel.tree.subagents import Subagents
from runner.otel.tree.tools import Tools
from runner.session.types import QueryOutcome, QueryStart, SessionOutcome, SessionStart


class TreeBuilder:
    """A SessionObserver that builds the tree from runner events and drives a Renderer.

    `capture_content` keeps prompts, completions, tool arguments and results on the nodes;
    off, none of it is held."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        capture_content: bool = False,
        cli_wait_s: float | None = None,
    ) -> None:
        self.renderer = renderer
        self.life = Lifecycle(renderer, capture=capture_content)
        self.session: SessionNode | None = None
        self.query: QueryNode | None = None
        self._cli_wait_ns = None if cli_wait_s is None else int(cli_wait_s * 1e9)
        self.calls = Calls(self.life, session_model=None, cli_wait_ns=self._cli_wait_ns)
        """Made again with the session's model when it starts."""
        self.tools = Tools(self.life, cli_wait_ns=self._cli_wait_ns)
        self.subagents = Subagents(self.life)
        self.compactions = Compactions(self.life)

    # --- SessionObserver --------------------------------------------------------------------

    def on_session_start(self, event: SessionStart) -> None:
        self.session = SessionNode(
            key=self.life.key("session"),
            parent=None,
            start_ns=event.at_ns,
            session_id=event.session_id,
            model=event.model,
            interactive=event.interactive,
            workspace=event.workspace,
            tenancy=event.tenancy,
            prompt=event.prompt if self.life.capture else None,
            resume=event.resume,
        )
        self.calls = Calls(self.life, session_model=event.model, cli_wait_ns=self._cli_wait_ns)
        self.life.start(self.session)

    def on_query_start(self, event: QueryStart) -> None:
        if self.query is not None:  # the driver always ends a query; tolerate one that did not
            self._end_query(None, event.at_ns)
        self.query = QueryNode(
            key=self.life.key("query"),
            parent=self.session,
            start_ns=event.at_ns,
            index=event.index,
            prompt=event.prompt if self.life.capture else None,
        )
        self.calls.mark(None, event.at_ns, event.prompt)
        self.life.start(self.query)

    def on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, SessionInitialized):
            if self.session is not None:
                self.session.sdk_session_id = event.sdk_session_id
            return
        if self.query is not None:
            self._route(event, self.query)

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
                    self.life.finish(session, event.at_ns)
                finally:
                    self.renderer.close(event.at_ns)

    # --- routing ----------------------------------------------------------------------------

    def _owner(self, thread: Thread, query: QueryNode) -> Node:
        return self.subagents.owner(thread, query, self.tools.get(thread))

    def _route(self, event: RunnerEvent, query: QueryNode) -> None:
        if self._cli_wait_ns is not None:
            self.calls.expire(event.at_ns)
        self.tools.expire(event.at_ns)
        match event:
            case RequestSent():
                self.calls.mark(None, event.at_ns)
            case CallStarted():
                if self.subagents.ended(event.thread):  # the ledger gives it to the query
                    event = replace(event, thread=None)
                self.calls.started(event, self._owner(event.thread, query))
            case CallFinished():
                self.calls.finished(event)
            case CallRecorded():
                owner = self._owner(event.call.thread, query)
                chat = self.calls.recorded(event, owner, self.compactions.last)
                self.tools.chat_recorded(chat, event.at_ns)
            case AssistantText():
                self.calls.text(event)
            case ToolRequested():
                owner = self._owner(event.thread, query)
                self.tools.requested(event, owner, self.calls.by_message(event.message_id))
                self.calls.tool_call(event)
            case ToolStarted():
                self.tools.started(event, self._owner(event.thread, query))
            case ToolFinished():
                self.tools.finished(event, self._owner(event.thread, query))
            case ToolResult():
                self.calls.tool_result(event)
                self.tools.result(event)
            case SubagentStarted():
                agent = self.subagents.started(event, query, self.tools.get(event.thread))
                if agent is not None:
                    self.calls.mark(event.thread, event.at_ns, agent.prompt)
            case SubagentCall():
                # Its figures come from the ledger (CallRecorded); its content from here.
                self.calls.transcript_text(event)
                self.tools.requested_in_transcript(event.message_id, event.tool_use_ids)
                agent = self.subagents.get(event.thread)
                if agent is not None and self.life.capture and event.text:
                    agent.answer = event.text
            case SubagentFinished():
                agent = self.subagents.get(event.thread)
                if agent is not None:  # it ends now: its calls and tools wait no longer
                    self.calls.flush(agent)
                    self.tools.flush(agent, event.at_ns)
                self.subagents.finished(event)
                self.tools.release(event.thread, event.at_ns)
            case CliCallReported():
                self.calls.cli_reported(event)
            case CliToolReported():
                self.tools.cli_reported(event)
            case CliHookRan():
                self.renderer.event(query, event)
            case CompactionStarted():
                self.compactions.started(query, event.at_ns)
            case Compacted():
                self.compactions.compacted(event, query)
                if self.session is not None:
                    self.session.compactions += 1
                self.renderer.event(query, event)
            case ApiRetry():
                self.renderer.event(query, event)
            case QueryResult():
                if self.life.capture and not event.is_error and event.result:
                    query.answer = event.result
            case (
                SessionInitialized()
                | CallFailed()  # the ledger records it: CallRecorded
                | TaskStarted()
                | TaskFinished()
                | SessionStateChanged()
            ):
                pass
            case _:
                assert_never(event)

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
            self.compactions.end_query(failure, at_ns)
            self.calls.end_query(failure, at_ns)
            for agent in self.subagents.open_agents():  # its tools end before it
                self.tools.end_query(failure, at_ns, owner=agent)
            self.subagents.end_query(outcome.figures if outcome else None, failure, at_ns)
            self.tools.end_query(failure, at_ns)
        finally:
            query.outcome = outcome
            if failure:
                query.error_type = failure
                query.error_message = (outcome.error_message if outcome else None) or (
                    session.error_message if session else None
                )
            self.query = None
            self.life.finish(query, at_ns)
