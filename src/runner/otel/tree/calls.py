"""The tree builder's part for LLM calls: a chat node per call of the ledger.

A call's node opens when its response starts (so the tools it asks for can link to it), from
the last mark of its thread (the request, or the tool result it answers); it ends when the
ledger records the call (`CallRecorded`: its figures are final). Calls seen only by the ledger
(failed, unobserved, from a transcript alone) are rendered whole then. With content capture,
it gathers each call's input (the prompt or the tool results it consumed) and output.
"""

from __future__ import annotations

from typing import Any

from runner.events.types import (
    AssistantText,
    CallFinished,
    CallRecorded,
    CallStarted,
    CliCallReported,
    SubagentCall,
    Thread,
    ToolRequested,
    ToolResult,
)
from runner.otel.tree.lifecycle import Lifecycle
from runner.otel.tree.nodes import ChatNode, CompactionNode, Node


class Calls:
    def __init__(
        self, life: Lifecycle, session_model: str | None, cli_wait_ns: int | None = None
    ) -> None:
        self._life = life
        self._session_model = session_model
        self._cli_wait_ns = cli_wait_ns
        """With the CLI's telemetry relayed: how long a recorded call waits for its record."""
        self._parked: dict[int, ChatNode] = {}
        """Recorded calls waiting for the CLI's record of them, by ledger key."""
        self._open: dict[tuple[Thread, str | None], ChatNode] = {}
        """Calls started and not yet recorded, by thread and message id."""
        self._mark: dict[Thread, int] = {}
        """When each thread's next request went out, as far as the stream tells."""
        self._input: dict[Thread, list[dict[str, Any]]] = {}
        self._texts: dict[str, dict[str, Any]] = {}
        """Transcript text of calls not opened yet (content capture only), by message id."""
        self._results: dict[Thread, list[tuple[str, int]]] = {}

    def reset(self) -> None:
        self._open.clear()
        self._parked.clear()
        self._texts.clear()
        self._mark.clear()
        self._input.clear()
        self._results.clear()

    def by_message(self, message_id: str | None) -> ChatNode | None:
        if not message_id:
            return None
        return next((c for (_, m), c in self._open.items() if m == message_id), None)

    def _pop(self, thread: Thread, message_id: str | None) -> ChatNode | None:
        """The open node of a call: by thread and id, else by its id alone (the ledger gives
        a subagent's late call to the query)."""
        chat = self._open.pop((thread, message_id), None)
        if chat is None and message_id:
            key = next((k for k in self._open if k[1] == message_id), None)
            chat = self._open.pop(key) if key is not None else None
        return chat

    def mark(self, thread: Thread, at_ns: int, prompt: str | None = None) -> None:
        """A thread's next request leaves at `at_ns` (with this prompt, when captured)."""
        self._mark[thread] = at_ns
        if prompt is not None and self._life.capture:
            self._input[thread] = [{"type": "text", "content": prompt}]

    def started(self, event: CallStarted, owner: Node | None) -> None:
        at = event.at_ns
        previous = self._open.pop((event.thread, event.message_id), None)
        if previous is not None:  # the same call twice: the first one's stream never ended
            previous.error_type = previous.error_type or "incomplete"
            self._life.finish(previous, at)
        chat = self._new(event.thread, owner, at, event.message_id, event.model)
        if event.streamed:
            chat.first_chunk_ns = at
        self._open[(event.thread, event.message_id)] = chat
        self._life.start(chat)

    def finished(self, event: CallFinished) -> None:
        chat = self.by_message(event.message_id)
        if chat is not None:
            chat.end_ns = event.at_ns
        self._mark[event.thread] = event.at_ns

    def recorded(
        self, event: CallRecorded, owner: Node | None, compaction: CompactionNode | None = None
    ) -> ChatNode:
        call = event.call
        chat = self._pop(call.thread, call.message_id)
        if chat is None:
            start = event.requested_ns or self._mark.get(call.thread, event.at_ns)
            chat = self._new(call.thread, owner, min(start, event.at_ns), call.message_id, None)
            text = self._texts.pop(call.message_id, None) if call.message_id else None
            if text is not None:
                chat.output_parts.append(text)
        chat.call = call
        if not call.observed:
            chat.compaction = compaction
        chat.error_type, chat.error_message = call.error_type, call.error_message
        end = event.answered_ns or chat.end_ns or event.at_ns
        chat.end_ns = max(end, chat.start_ns)
        self._mark[call.thread] = max(self._mark.get(call.thread, 0), chat.end_ns)
        if self._cli_wait_ns is None:
            self._life.finish(chat, chat.end_ns)
            return chat
        chat.cli_deadline_ns = event.at_ns + self._cli_wait_ns
        self._parked[call.key] = chat
        return chat

    def cli_reported(self, event: CliCallReported) -> None:
        """The CLI's record of a recorded call: its facts, and its end."""
        chat = self._parked.pop(event.call_key, None) if event.call_key else None
        if chat is not None:
            chat.cli = event
            self._life.finish(chat, chat.end_ns or event.at_ns)

    def expire(self, at_ns: int) -> None:
        """Calls that waited long enough for the CLI's record end without it."""
        for key, chat in list(self._parked.items()):
            if chat.cli_deadline_ns is not None and chat.cli_deadline_ns <= at_ns:
                del self._parked[key]
                self._life.finish(chat, chat.end_ns or at_ns)

    def flush(self, owner: Node | None = None) -> None:
        """End the waiting calls (of one owner, or all) now: their owner ends."""
        for key, chat in list(self._parked.items()):
            if owner is None or chat.parent is owner:
                del self._parked[key]
                self._life.finish(chat, chat.end_ns or chat.start_ns)

    def transcript_text(self, event: SubagentCall) -> ChatNode | None:
        """A subagent's call as its transcript has it: its text output (capture on). Returns
        the call's node."""
        if not (self._life.capture and event.text):
            return None
        chat = self._open.get((event.thread, event.message_id))
        part = {"type": "text", "content": event.text}
        if chat is not None:
            chat.output_parts.append(part)
        else:  # a call the stream did not show: its node is made when the ledger records it
            self._texts[event.message_id] = part
        return chat

    def text(self, event: AssistantText) -> None:
        chat = self.by_message(event.message_id)
        if self._life.capture and chat is not None:
            chat.output_parts.append({"type": event.kind, "content": event.text})

    def tool_call(self, event: ToolRequested) -> None:
        chat = self.by_message(event.message_id)
        if self._life.capture and chat is not None:
            chat.output_parts.append(
                {
                    "type": "tool_call",
                    "id": event.tool_use_id,
                    "name": event.name,
                    "arguments": event.arguments,
                }
            )

    def tool_result(self, event: ToolResult) -> None:
        """A tool result goes into its thread's next call."""
        if self._life.capture:
            self._input.setdefault(event.thread, []).append(
                {"type": "tool_call_response", "id": event.tool_use_id, "response": event.content}
            )
        self._results.setdefault(event.thread, []).append((event.tool_use_id, event.chars))
        self._mark[event.thread] = event.at_ns

    def end_query(self, failure: str | None, at_ns: int) -> None:
        """Calls the ledger never recorded (it records every call it saw: a safety net)."""
        self.flush()
        for chat in list(self._open.values()):
            chat.error_type = chat.error_type or failure or "incomplete"
            self._life.finish(chat, chat.end_ns or at_ns)
        self.reset()

    def _new(
        self,
        thread: Thread,
        owner: Node | None,
        at_ns: int,
        message_id: str | None,
        model: str | None,
    ) -> ChatNode:
        return ChatNode(
            key=self._life.key("chat"),
            parent=owner,
            start_ns=min(self._mark.get(thread, at_ns), at_ns),
            message_id=message_id,
            request_model=self._session_model if thread is None else model,
            response_model=model,
            input_parts=self._input.pop(thread, []),
            consumed_tool_results=self._results.pop(thread, []),
        )
