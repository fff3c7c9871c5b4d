"""The session's event stream: SDK messages and hook inputs → runner events (the adapter), and
the CLI's own telemetry records (the CLI adapter) → the ledger (which records every call and
adds its figures) → the observer.

The session driver feeds it; so do tests and benchmarks, which thereby exercise the same path.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from runner.accounting.figures import LedgerFigures
from runner.accounting.reported import ReportedTotals
from runner.cli_telemetry import CliRecord
from runner.events.cli_adapter import CliAdapter
from runner.events.sdk_adapter import EventAdapter
from runner.events.types import RunnerEvent
from runner.ledger.ledger import Ledger
from runner.session.types import QueryOutcome, QueryStart, SessionObserver


class EventStream:
    def __init__(
        self,
        observer: SessionObserver,
        *,
        session_model: str | None,
        baseline: ReportedTotals | None = None,
    ) -> None:
        """`baseline`: Claude Code's cumulative figures before this run (a resumed session)."""
        self.observer = observer
        self.adapter = EventAdapter()
        self.ledger = Ledger(session_model=session_model, baseline=baseline)
        self.cli = CliAdapter(self.adapter.subagents.thread_of)
        self.cli_records = 0
        """The CLI's own records received (RUNNER_CLI_TELEMETRY)."""
        self.cli_last_ns = 0
        """When the last of them arrived (wall clock)."""

    def start_query(self, event: QueryStart) -> None:
        self.ledger.start_query(event.index, event.at_ns)
        self.observer.on_query_start(event)

    def message(self, message: object, at_ns: int | None = None) -> list[RunnerEvent]:
        """The events one SDK message stands for, handed on (and returned)."""
        at = time.time_ns() if at_ns is None else at_ns
        return self._emit([*self.adapter.from_message(message, at), *self.adapter.due(at)])

    def hook(self, data: dict[str, Any], at_ns: int | None = None) -> list[RunnerEvent]:
        at = time.time_ns() if at_ns is None else at_ns
        return self._emit([*self.adapter.from_hook(data, at), *self.adapter.due(at)])

    def cli_record(self, record: CliRecord, at_ns: int | None = None) -> list[RunnerEvent]:
        """One record of the CLI's own telemetry (relayed), handed on as runner events."""
        at = time.time_ns() if at_ns is None else at_ns
        self.cli_records += 1
        self.cli_last_ns = at
        return self._emit(self.cli.from_record(record, at))

    def poll(self, at_ns: int | None = None) -> list[RunnerEvent]:
        """What became due without a message (a stopped subagent's transcript completed)."""
        return self._emit(self.adapter.due(time.time_ns() if at_ns is None else at_ns))

    def end_query(self, outcome: QueryOutcome) -> QueryOutcome:
        """Settle the query's calls in the ledger; hand its end on, with its figures."""
        at = outcome.at_ns
        self._emit(self.adapter.settle(at))  # subagents whose transcripts were not complete
        failure = outcome.error_type if outcome.is_error else None
        settled, figures = self.ledger.end_query(failure, at)
        for event in settled:
            self.observer.on_event(event)
        outcome = replace(outcome, figures=figures)
        self.observer.on_query_end(outcome)
        return outcome

    def session_figures(self) -> LedgerFigures:
        return self.ledger.session_figures()

    def _emit(self, events: list[RunnerEvent]) -> list[RunnerEvent]:
        followed = self.ledger.follow(events)
        for event in followed:
            self.observer.on_event(event)
        return followed
