"""The ledger's side of the CLI's own telemetry (RUNNER_CLI_TELEMETRY): each record of a call
is matched to the ledger's call (`call_key`), never counted again; a call only the CLI shows is
recorded from its record.

The CLI's spans carry no message id (docs/cli-telemetry.md): a record is matched by its thread
and usage. Only the sources the stream never shows are recorded (measured, CLI 2.1.332); any
other unmatched record is a fact with no call, so a newer CLI's unknown source is never counted
twice (the ledger's remainder covers it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from runner.accounting.figures import LedgerCall
from runner.events.types import CallRecorded, CliCallReported, RunnerEvent
from runner.ledger.state import QueryState

CLI_ONLY_SOURCES = frozenset({"compact", "generate_session_title"})
"""The CLI's `query_source_safe` of calls the SDK stream never shows."""


def reported(
    query: QueryState,
    event: CliCallReported,
    record: Callable[[LedgerCall], list[RunnerEvent]],
) -> list[RunnerEvent]:
    """The events for one CLI record of a call: it matched, it waits for its call, or (a call
    only the CLI shows) its call is recorded with `record`."""
    match = cli_match(query.calls, query.cli_matched, event)
    if match is not None:
        query.cli_matched.add(match.key)
        return [replace(event, call_key=match.key)]
    if event.source not in CLI_ONLY_SOURCES:  # a streamed call not recorded yet, or unknown
        query.cli_pending.append(event)
        return []
    if event.start_ns < query.started_ns:
        return []  # a call of an earlier query, reported late: counted there (remainder)
    recorded = record(
        LedgerCall(
            query=query.index,
            thread=event.thread,
            message_id=None,
            model=event.model,
            usage=event.usage,
            stop_reason=event.stop_reason,
            origin="cli",
            error_type=None if event.success else "api_error",
        )
    )
    keys = [r.call.key for r in recorded if isinstance(r, CallRecorded)]
    query.cli_matched.update(keys)
    return [*recorded, replace(event, call_key=keys[0] if keys else None)]


def pending(query: QueryState) -> list[RunnerEvent]:
    """The waiting CLI records that match a call just recorded."""
    out: list[RunnerEvent] = []
    for event in list(query.cli_pending):
        match = cli_match(query.calls, query.cli_matched, event)
        if match is not None:
            query.cli_pending.remove(event)
            query.cli_matched.add(match.key)
            out.append(replace(event, call_key=match.key))
    return out


def unreported(query: QueryState) -> bool:
    """The query has calls (seen, not failed) the CLI has not reported yet."""
    return any(
        c.key not in query.cli_matched and c.observed and c.error_type is None for c in query.calls
    )


def cli_match(
    calls: list[LedgerCall], matched: set[int], event: CliCallReported
) -> LedgerCall | None:
    """The call a CLI record reports on: the oldest recorded call of its thread with the same
    usage (the input side alone for a call known only from a snapshot), not matched yet. (The
    CLI's spans carry no message id: docs/cli-telemetry.md.)"""
    unmatched = [c for c in calls if c.key not in matched and c.observed]
    candidates = [c for c in unmatched if c.thread == event.thread]
    exact = next((c for c in candidates if c.usage == event.usage), None)
    if exact is not None:
        return exact
    asked = replace(event.usage, output_tokens=0)
    near = next((c for c in candidates if replace(c.usage, output_tokens=0) == asked), None)
    if near is not None:
        return near
    # A call the ledger gave another owner (a subagent's, recorded after it ended): exact only.
    return next((c for c in unmatched if c.usage == event.usage), None)
