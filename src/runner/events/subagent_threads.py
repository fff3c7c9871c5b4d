"""Which subagent is which, as the event adapter resolves it, and when a stopped one is done.

Hooks name a subagent by `agent_id`; its messages by `parent_tool_use_id` (the Agent tool call
it runs for: its thread). `task_started` pairs the two (its `task_id` is the `agent_id`). Claude
Code promises no order between its hooks and its messages (measured, CLI 2.1.332: a subagent's
SubagentStart and PreToolUse hooks came before or after its `task_started`, and before or after
the message holding its Agent tool call, from one run to the next), so a subagent's hooks are
held (`hold`) until its pairing is known and then replayed in their order. A CLI that never
says (no `task_started`) has them resolved at the query's end: the oldest Agent call not yet
claimed, in the order the subagents started.

A stopped subagent is reported finished (its transcript's calls, then `SubagentFinished`) once
its transcript is complete — measured (CLI 2.1.33x): its last record may be written just after
SubagentStop — polled by `due()` and at most `SUBAGENT_SETTLE_S` after the stop; at the query's
end (`settle()`) in any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.events.transcripts import Transcript, read_transcript
from runner.events.types import RunnerEvent, SubagentCall, SubagentFinished, Thread

SUBAGENT_SETTLE_S = 2.0
"""How long after SubagentStop a subagent may wait for its transcript's last record."""
POLL_INTERVAL_NS = 50_000_000
_SETTLE_NS = int(SUBAGENT_SETTLE_S * 1e9)


Held = tuple[dict[str, Any], int]
"""A hook input and when it arrived."""


@dataclass(slots=True, kw_only=True)
class _Stopped:
    path: str | None
    deadline_ns: int
    checked_ns: int | None = None


class SubagentThreads:
    def __init__(self) -> None:
        self._unclaimed: dict[str, None] = {}
        """Agent tool calls no subagent has been matched to yet, oldest first."""
        self._task_tool: dict[str, str] = {}
        self._thread_of: dict[str, str] = {}
        """Subagent id → the Agent tool call it runs for."""
        self._stopped: dict[str, _Stopped] = {}
        """Stopped subagents not yet reported finished."""
        self._bound: set[str] = set()
        """Agent tool calls paired with their subagent."""
        self._held: dict[str, list[Held]] = {}
        """Hooks of subagents whose thread is not known yet, by subagent id, in order."""

    def requested(self, tool_use_id: str) -> None:
        """An Agent tool call (its hook or its message, whichever comes first): a subagent
        will claim it."""
        if tool_use_id not in self._bound:
            self._unclaimed[tool_use_id] = None

    def task_started(self, task_id: str, tool_use_id: str) -> list[Held]:
        """A task's pairing with its tool call: the hooks held for it, to replay."""
        self._task_tool[task_id] = tool_use_id
        self._bind(task_id, tool_use_id)
        return self._held.pop(task_id, [])

    def thread_of(self, agent_id: str | None) -> Thread:
        return self._thread_of.get(agent_id) if agent_id else None

    def resolved(self, agent_id: str) -> bool:
        """Whether the subagent's thread is known (else its hooks wait: `hold`)."""
        if agent_id in self._thread_of:
            return True
        tool_use_id = self._task_tool.get(agent_id)
        if tool_use_id is not None:
            self._bind(agent_id, tool_use_id)
            return True
        return False

    def hold(self, agent_id: str, data: dict[str, Any], at_ns: int) -> None:
        """A hook of a subagent whose thread is not known yet."""
        self._held.setdefault(agent_id, []).append((data, at_ns))

    def release_all(self) -> list[Held]:
        """At the query's end: every held subagent resolved as best it can be (the oldest
        unclaimed Agent call, in the order the subagents were first heard of)."""
        out: list[Held] = []
        for agent_id, held in list(self._held.items()):
            thread = next(iter(self._unclaimed), None)
            if thread is not None:
                self._bind(agent_id, thread)
            out.extend(held)
            del self._held[agent_id]
        return sorted(out, key=lambda item: item[1])

    def claim(self, agent_id: str) -> Thread:
        """The Agent tool call a subagent runs for, when known."""
        self.resolved(agent_id)
        return self._thread_of.get(agent_id)

    def _bind(self, agent_id: str, thread: str) -> None:
        self._unclaimed.pop(thread, None)
        self._bound.add(thread)
        self._thread_of[agent_id] = thread

    def stopped(self, agent_id: str, path: str | None, at_ns: int) -> list[RunnerEvent]:
        self._stopped[agent_id] = _Stopped(path=path, deadline_ns=at_ns + _SETTLE_NS)
        return self.due(at_ns)

    def due(self, at_ns: int) -> list[RunnerEvent]:
        """Stopped subagents whose transcripts are now complete (or whose wait ran out): their
        calls, then their end."""
        events: list[RunnerEvent] = []
        for agent_id, stopped in list(self._stopped.items()):
            waiting = at_ns < stopped.deadline_ns
            recent = (
                stopped.checked_ns is not None and at_ns - stopped.checked_ns < POLL_INTERVAL_NS
            )
            if recent and waiting:
                continue
            stopped.checked_ns = at_ns
            transcript = read_transcript(stopped.path) if stopped.path else None
            if waiting and transcript is not None and not transcript.complete:
                continue
            events.extend(self._finished(agent_id, stopped, at_ns, transcript))
        return events

    def settle(self, at_ns: int) -> list[RunnerEvent]:
        """At a query's end: every stopped subagent with what its transcript holds now."""
        events: list[RunnerEvent] = []
        for agent_id, stopped in list(self._stopped.items()):
            events.extend(self._finished(agent_id, stopped, at_ns))
        return events

    def _finished(
        self, agent_id: str, stopped: _Stopped, at: int, transcript: Transcript | None = None
    ) -> list[RunnerEvent]:
        del self._stopped[agent_id]
        thread = self._thread_of.get(agent_id)
        if transcript is None and stopped.path:
            transcript = read_transcript(stopped.path)
        calls = transcript.calls.values() if transcript is not None else ()
        events: list[RunnerEvent] = [
            SubagentCall(
                thread=thread,
                agent_id=agent_id,
                message_id=call.message_id,
                model=call.model,
                usage=call.usage,
                stop_reason=call.stop_reason,
                requested_ns=call.requested_ns,
                answered_ns=call.answered_ns,
                text=call.text,
                tool_use_ids=call.tool_use_ids,
                at_ns=at,
            )
            for call in calls
        ]
        events.append(SubagentFinished(thread=thread, agent_id=agent_id, at_ns=at))
        return events
