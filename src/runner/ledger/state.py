"""The ledger's working state for a query (runner.ledger.ledger owns it; runner.ledger.cli_records
reads and
adds to it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.accounting.figures import LedgerCall, Thread
from runner.accounting.usage import Usage
from runner.events.types import CliCallReported, QueryResult, SubagentFinished


@dataclass(slots=True, kw_only=True)
class OpenCall:
    """A call seen in the stream whose figures are not final yet."""

    message_id: str | None
    model: str | None
    usage: Usage
    stop_reason: str | None = None


@dataclass(slots=True, kw_only=True)
class QueryState:
    index: int
    started_ns: int = 0
    calls: list[LedgerCall] = field(default_factory=list)
    open: dict[Thread, OpenCall] = field(default_factory=dict)
    """The call being streamed on each thread."""
    snapshots: dict[str, dict[str, OpenCall]] = field(default_factory=dict)
    """Subagent calls seen in the stream, by thread and message id, until their transcript."""
    held: list[tuple[LedgerCall, int | None, int | None]] = field(default_factory=list)
    """Calls without a price (with their request/answer times), held to the query's end."""
    finishing: list[SubagentFinished] = field(default_factory=list)
    """Subagents whose end waits for a held call."""
    result: QueryResult | None = None
    cli_pending: list[CliCallReported] = field(default_factory=list)
    """The CLI's records of streamed calls the ledger has not recorded yet (a subagent's)."""
    cli_matched: set[int] = field(default_factory=set)
    """Keys of the calls the CLI has reported."""
