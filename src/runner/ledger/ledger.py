"""The ledger: every LLM call of the session recorded once, final, priced, with its owner; every
figure (a subagent's, a query's, a model's, the session's) is a view of it.

It follows the runner events on the session driver's loop, between the event adapter and the
observers, and adds its own: `CallRecorded` when a call's figures are final, and the subagent's
figures on `SubagentFinished`. At a query's end `end_query` records what only the end can settle
and returns the query's figures:

- main-thread calls are final at `message_stop`; a subagent's when its transcript gives them
  (`SubagentCall`), else, when it finishes, with the stream's snapshot;
- calls Claude Code made but did not stream (a compaction's summary) are the CLI's own
  records of them when its telemetry is relayed (`CliCallReported`, origin `cli`;
  runner.ledger.cli_records, which also matches its records of streamed calls, never counting them
  again), else one call of its per-model totals' growth over the query less every call seen
  (origin `remainder`, priced at the model that grew most);
- calls of a model without a price are held to the query's end and share what Claude Code's
  reported figure leaves, by token weight (a subagent with such a call ends then);
- Claude Code's reported cost is the check: a difference is on the query's figures, warned once.

On a resumed session (runner.session.resume) Claude Code's cumulative figures continue from the
conversation's earlier runs: the ledger starts from that `baseline` (its reported totals when
the CLI started), so every growth, check and remainder is this run's alone, and no call is
ever booked for an earlier run's usage. The reported figures it shows are this run's.

Pricing a call costs microseconds (the price snapshot is read once, ~1 ms).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import assert_never

from runner.accounting import pricing
from runner.accounting.figures import (
    LedgerCall,
    LedgerFigures,
    SubagentFigures,
    Thread,
)
from runner.accounting.reported import ReportedTotals
from runner.accounting.usage import ModelUsage, Usage
from runner.events.types import (
    AGENT_TOOLS,
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
    ToolFinished,
    ToolRequested,
    ToolResult,
    ToolStarted,
)
from runner.ledger import cli_records as ledger_cli
from runner.ledger import views as ledger_views
from runner.ledger.claude_figures import ClaudeFigures
from runner.ledger.state import OpenCall, QueryState

log = logging.getLogger("runner")

Price = Callable[[str | None, Usage], pricing.CallCost | None]


class Ledger:
    """Records the session's calls. `follow` on the driver's loop, in the stream's order."""

    def __init__(
        self,
        *,
        session_model: str | None = None,
        price: Price = pricing.price,
        baseline: ReportedTotals | None = None,
    ) -> None:
        self._session_model = session_model
        self._claude = ClaudeFigures(baseline)
        """Claude Code's own figures: the check, less a resumed run's earlier runs."""
        self._price = price
        self._calls: list[LedgerCall] = []
        """Every recorded call of the session (the ledger itself)."""
        self._keys = itertools.count(1)
        self._recorded_ids: set[str] = set()
        """Message ids recorded: a call is recorded once, whatever arrives late (a hook is
        handled ahead of stream messages still buffered, so a subagent's transcript can come
        before its own snapshots)."""
        self._query: QueryState | None = None
        self._owners = ledger_views.Owners()
        self._finished: set[str] = set()
        self._windows: dict[str, int] = {}
        self._warned = False

    # --- the stream -------------------------------------------------------------------------

    def start_query(self, index: int, at_ns: int = 0) -> None:
        self._query = QueryState(index=index, started_ns=at_ns)

    def follow(self, events: Iterable[RunnerEvent]) -> list[RunnerEvent]:
        """The events with the ledger's own added (and the subagents' figures filled in)."""
        out: list[RunnerEvent] = []
        for event in events:
            out.extend(self._observe(event))
        return out

    def _observe(self, event: RunnerEvent) -> list[RunnerEvent]:
        query = self._query
        match event:
            case CallStarted() | CallFinished() if event.message_id in self._recorded_ids:
                return []  # already recorded (from its transcript): nothing more to show
            case CallStarted() if query is not None and self._elsewhere(query, event):
                return []  # a call already seen: one call, shown once
            case CallStarted() if query is not None:
                out = self._cut(query, event.thread, "incomplete", event.at_ns)
                model = event.model or (self._session_model if event.thread is None else None)
                query.open[event.thread] = OpenCall(
                    message_id=event.message_id, model=model, usage=event.usage
                )
                return [*out, event]
            case CallFinished() if query is not None:
                return self._call_finished(query, event)
            case CallFailed() if query is not None:
                opened = query.open.pop(event.thread, None)
                if opened is not None:  # the call whose stream began: it failed
                    call = self._call(query, event.thread, opened)
                else:
                    model = self._session_model if event.thread is None else None
                    call = LedgerCall(
                        query=query.index,
                        thread=event.thread,
                        message_id=None,
                        model=model,
                        usage=Usage(),
                    )
                call = replace(call, error_type=event.error, error_message=event.message)
                return [event, *self._record(query, call, at_ns=event.at_ns)]
            case SubagentCall() if query is not None:
                return [event, *self._subagent_call(query, event)]
            case SubagentFinished() if query is not None:
                return self._subagent_finished(query, event)
            case SubagentStarted():
                if event.thread is not None:
                    self._owners.types[event.thread] = event.agent_type or "subagent"
                return [event]
            case ToolRequested() if query is not None:  # as the tree sees it: inside a query
                if event.name in AGENT_TOOLS:
                    self._owners.parent.setdefault(event.tool_use_id, event.thread)
                    agent_type = event.arguments.get("subagent_type")
                    if isinstance(agent_type, str) and agent_type:
                        self._owners.types.setdefault(event.tool_use_id, agent_type)
                return [event]
            case CliCallReported() if query is not None:
                return self._cli_call(query, event)
            case QueryResult():
                if query is not None:
                    query.result = event
                for model, figures in event.model_usage.items():
                    if figures.context_window:
                        self._windows[model] = figures.context_window
                return [event]
            case (
                CallStarted()
                | CallFinished()
                | CallFailed()
                | SubagentCall()
                | SubagentFinished()
                | ToolRequested()
                | CallRecorded()
                | SessionInitialized()
                | RequestSent()
                | AssistantText()
                | ToolStarted()
                | ToolFinished()
                | ToolResult()
                | TaskStarted()
                | TaskFinished()
                | SessionStateChanged()
                | ApiRetry()
                | CompactionStarted()
                | Compacted()
                | CliCallReported()
                | CliToolReported()
                | CliHookRan()
            ):
                return [event]  # outside a query, or nothing to record
            case _:
                assert_never(event)

    # --- calls ------------------------------------------------------------------------------

    def _elsewhere(self, query: QueryState, event: CallStarted) -> bool:
        """A call id already seen: open on a thread, held as a snapshot or without a price (one
        call, shown once)."""
        if not event.message_id:
            return False
        seen = any(o.message_id == event.message_id for o in query.open.values())
        seen = seen or any(c.message_id == event.message_id for c, _, _ in query.held)
        return seen or any(event.message_id in calls for calls in query.snapshots.values())

    def _call_finished(self, query: QueryState, event: CallFinished) -> list[RunnerEvent]:
        """The call's end (passed on only for the call open on its thread), and its record."""
        opened = query.open.get(event.thread)
        if opened is None or opened.message_id != event.message_id:
            return []
        del query.open[event.thread]
        opened.usage, opened.stop_reason = event.usage, event.stop_reason
        subagent = event.thread is not None and event.thread not in self._finished
        if subagent and not event.streamed and event.message_id:
            # A snapshot: its final usage comes from the subagent's transcript.
            query.snapshots.setdefault(event.thread or "", {})[event.message_id] = opened
            return [event]
        call = self._call(query, event.thread, opened)
        return [event, *self._record(query, call, at_ns=event.at_ns)]

    def _subagent_call(self, query: QueryState, event: SubagentCall) -> list[RunnerEvent]:
        thread = event.thread
        if event.message_id in self._recorded_ids:
            return []
        if thread is not None and thread in self._finished:
            return []  # too late for its subagent: the query's end counts it as unseen
        snapshot = None
        for snapshots in query.snapshots.values():  # by id, whatever thread it was seen on
            snapshot = snapshot or snapshots.pop(event.message_id, None)
        call = LedgerCall(
            query=query.index,
            thread=thread,
            message_id=event.message_id,
            model=event.model or (snapshot.model if snapshot else None),
            usage=event.usage,
            stop_reason=event.stop_reason,
        )
        return self._record(
            query, call, at_ns=event.at_ns, requested=event.requested_ns, answered=event.answered_ns
        )

    def _subagent_finished(self, query: QueryState, event: SubagentFinished) -> list[RunnerEvent]:
        thread = event.thread
        if thread is None:
            return [event]
        # A call of its thread still streaming ends with it (as far as it got): its figures
        # are the subagent's, never a late call under an ended node.
        out: list[RunnerEvent] = self._cut(query, thread, "incomplete", event.at_ns)
        for opened in query.snapshots.pop(thread, {}).values():
            if opened.message_id not in self._recorded_ids:
                call = self._call(query, thread, opened)
                out.extend(self._record(query, call, at_ns=event.at_ns))
        if any(call.thread in self._owners.lineage(thread) for call, _, _ in query.held):
            query.finishing.append(event)  # its figures wait for the shares
            return out
        self._finished.add(thread)
        return [*out, replace(event, figures=self._subagent_figures(thread))]

    def _call(self, query: QueryState, thread: Thread, opened: OpenCall) -> LedgerCall:
        return LedgerCall(
            query=query.index,
            thread=thread,
            message_id=opened.message_id,
            model=opened.model,
            usage=opened.usage,
            stop_reason=opened.stop_reason,
        )

    def _cut(self, query: QueryState, thread: Thread, error: str, at_ns: int) -> list[RunnerEvent]:
        """A call whose stream never ended: recorded with what was seen, as failed."""
        opened = query.open.pop(thread, None)
        if opened is None:
            return []
        call = replace(self._call(query, thread, opened), error_type=error)
        return self._record(query, call, at_ns=at_ns)

    # --- the CLI's own records (RUNNER_CLI_TELEMETRY): runner.ledger.cli_records
    # ----------------------

    def _cli_call(self, query: QueryState, event: CliCallReported) -> list[RunnerEvent]:
        def record(call: LedgerCall) -> list[RunnerEvent]:
            return self._record(
                query, call, at_ns=event.at_ns, requested=event.start_ns, answered=event.end_ns
            )

        return ledger_cli.reported(query, event, record)

    def cli_outstanding(self) -> bool:
        """The running query has calls the CLI has not reported yet, or usage only the CLI can
        explain (the driver waits for its relay, bounded, before the query ends)."""
        query = self._query
        if query is None:
            return False
        return ledger_cli.unreported(query) or self._unexplained(query).total_input_tokens > 0

    def _record(
        self,
        query: QueryState,
        call: LedgerCall,
        *,
        at_ns: int,
        requested: int | None = None,
        answered: int | None = None,
    ) -> list[RunnerEvent]:
        """Price a final call and record it (or hold it, without a price). A call of a subagent
        that has already ended with its figures belongs to the query itself (so no figure
        shown for an ended subagent ever changes)."""
        if call.thread is not None and call.thread in self._finished:
            call = replace(call, thread=None)
        window = self._windows.get(call.model or "") or pricing.context_window(call.model)
        call = replace(call, context_window=window)
        if call.error_type is None:
            cost = self._price(call.model, call.usage)
            if cost is None:
                query.held.append((call, requested, answered))
                return []
            call = replace(call, cost=cost, cost_source="price")
        return self._add(query, call, at_ns, requested, answered)

    def _add(
        self,
        query: QueryState,
        call: LedgerCall,
        at_ns: int,
        requested: int | None = None,
        answered: int | None = None,
    ) -> list[RunnerEvent]:
        call = replace(call, key=next(self._keys))
        if call.message_id:
            self._recorded_ids.add(call.message_id)
        query.calls.append(call)
        self._calls.append(call)
        recorded = CallRecorded(
            call=call, requested_ns=requested, answered_ns=answered, at_ns=at_ns
        )
        return [recorded, *ledger_cli.pending(query)] if query.cli_pending else [recorded]

    # --- the end of a query -----------------------------------------------------------------

    def end_query(self, failure: str | None, at_ns: int) -> tuple[list[RunnerEvent], LedgerFigures]:
        """Record what only the query's end settles; the query's figures."""
        query = self._query
        if query is None:
            return [], LedgerFigures()
        self._query = None
        out: list[RunnerEvent] = []
        for thread in list(query.open):
            out.extend(self._cut(query, thread, failure or "incomplete", at_ns))
        for thread, snapshots in list(query.snapshots.items()):
            for opened in snapshots.values():
                if opened.message_id not in self._recorded_ids:
                    call = self._call(query, thread, opened)
                    out.extend(self._record(query, call, at_ns=at_ns))
        query.snapshots.clear()
        out.extend(self._unseen(query, at_ns))
        query.cli_pending.clear()  # the CLI's records of calls never recorded: facts only
        reported = self._reported_growth(query)
        out.extend(self._share(query, reported, at_ns))
        for event in query.finishing:
            assert event.thread is not None
            self._finished.add(event.thread)
            out.append(replace(event, figures=self._subagent_figures(event.thread)))
        figures = self._figures(query.calls, reported)
        self._check(query.index, figures)
        return out, figures

    def _reported_growth(self, query: QueryState) -> float | None:
        result = query.result
        return None if result is None else self._claude.cost_growth(result.total_cost_usd)

    def _unexplained(self, query: QueryState) -> Usage:
        seen = [c.usage for c in query.calls] + [c.usage for c, _, _ in query.held]
        seen += [o.usage for snapshots in query.snapshots.values() for o in snapshots.values()]
        return ledger_views.unexplained(query.result, self._claude.models, seen)

    def _unseen(self, query: QueryState, at_ns: int) -> list[RunnerEvent]:
        """Calls Claude Code made but did not stream, nor the CLI report: one call of its
        per-model growth less every call seen (origin `remainder`)."""
        result = query.result
        if result is None or not result.model_usage:
            return []
        unseen = self._unexplained(query)
        grown = self._claude.models_grew(result.model_usage)
        if unseen.total_input_tokens == 0:
            return []
        model = max(grown, key=lambda m: grown[m].total_input_tokens)
        call = LedgerCall(
            query=query.index,
            thread=None,
            message_id=None,
            model=model,
            usage=unseen,
            origin="remainder",
        )
        return self._record(query, call, at_ns=at_ns)

    def _share(self, query: QueryState, reported: float | None, at_ns: int) -> list[RunnerEvent]:
        """Calls without a price share what the reported figure leaves (or cost nothing)."""
        held, query.held = query.held, []
        if not held:
            return []
        left = max(0.0, (reported or 0.0) - sum(c.cost_usd for c in query.calls))
        parts = pricing.share(left, [c.usage for c, _, _ in held]) if reported else None
        out: list[RunnerEvent] = []
        for n, (call, requested, answered) in enumerate(held):
            if parts is not None:
                call = replace(
                    call,
                    cost=pricing.CallCost(unsplit=pricing.usd(parts[n])),
                    cost_source="reported_share",
                )
            out.extend(self._add(query, call, at_ns, requested, answered))
        return out

    def _check(self, index: int, figures: LedgerFigures) -> None:
        difference = figures.cost_difference_usd
        if difference is None or self._warned:
            return
        self._warned = True
        log.warning(
            "query %d: LLM calls priced at $%.6f, Claude Code reported $%.6f (difference $%.6f, "
            "on the query span as agentic_session.cost.difference_usd); prices come from "
            "genai-prices",
            index,
            figures.total.cost_usd,
            figures.reported_cost_usd or 0.0,
            difference,
        )

    # --- views ------------------------------------------------------------------------------

    def _subagent_figures(self, thread: str) -> SubagentFigures:
        return self._owners.subagent(thread, self._calls)

    def _figures(self, calls: list[LedgerCall], reported: float | None) -> LedgerFigures:
        return ledger_views.figures(
            calls,
            owners=self._owners,
            reported=reported,
            windows=self._windows,
            reported_models=self._run_models(),
        )

    def _run_models(self) -> dict[str, ModelUsage]:
        return self._claude.run_models()

    @property
    def baseline(self) -> ReportedTotals:
        return self._claude.baseline

    @property
    def reported_cumulative_usd(self) -> float | None:
        """Claude Code's own cumulative figure at the last query's end (earlier runs of a
        resumed conversation included); None when it never reported one."""
        return self._claude.cost

    @property
    def reported_models(self) -> dict[str, ModelUsage]:
        """Claude Code's cumulative per-model figures at the last query's end."""
        return dict(self._claude.models)

    def session_figures(self) -> LedgerFigures:
        """Every call of the session so far (reported: Claude Code's figure for this run, its
        cumulative one less the baseline)."""
        return self._figures(self._calls, self._claude.run_cost())
