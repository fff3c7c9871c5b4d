"""What the session driver tells the rest of the runner: lifecycle events and the observer seam.

The driver knows nothing of spans or stdout. It hands every SDK message and every lifecycle
event, stamped with one wall-clock time (`at_ns`, from `time.time_ns()`), to a `SessionObserver`.
The stdout event writer and the telemetry mapper are both observers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from runner.accounting.figures import LedgerFigures
from runner.accounting.usage import Usage
from runner.config import Tenancy

if TYPE_CHECKING:
    from runner.events.types import RunnerEvent


@dataclass(frozen=True, kw_only=True)
class ResumeInfo:
    """This run continues an earlier run's Claude Code conversation (runner.session.resume)."""

    claude_session_id: str
    """The Claude Code session it continues."""
    previous_trace_id: str | None = None
    """The earlier run's trace id (32 hex), when known: this run's trace links to it."""
    previous_span_id: str | None = None
    """The earlier run's root span id (16 hex), when known."""
    baseline_cost_usd: float = 0.0
    """Claude Code's cumulative cost before this run (taken off its figures)."""
    baseline_source: str = "none"
    """Where that figure comes from: `transcript` (its last cost-state record) or `none`."""

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resumed": True, "claude_session_id": self.claude_session_id}
        if self.previous_trace_id:
            out["resumed_from_trace_id"] = self.previous_trace_id
        out["earlier_reported_cost_usd"] = round(self.baseline_cost_usd, 12)
        return out


@dataclass(frozen=True, kw_only=True)
class SessionStart:
    session_id: str
    model: str
    interactive: bool
    workspace: str
    tenancy: Tenancy
    prompt: str | None
    at_ns: int
    resume: ResumeInfo | None = None
    """Set when this run continues an earlier one."""


@dataclass(frozen=True, kw_only=True)
class QueryStart:
    index: int
    """1-based position of this query in the session."""
    prompt: str
    at_ns: int


@dataclass(frozen=True, kw_only=True)
class QueryOutcome:
    """How one query ended, with the ledger's figures for its calls (`figures`: set by the
    driver from runner.ledger.ledger; every usage and cost below is a view of them)."""

    index: int
    at_ns: int
    is_error: bool
    subtype: str | None = None
    num_turns: int = 0
    duration_ms: int = 0
    cumulative_cost_usd: float | None = None
    """Claude Code's reported figure for the client session so far (its budget's measure)."""
    error_type: str | None = None
    error_message: str | None = None
    api_error_status: int | None = None
    sdk_session_id: str | None = None
    answer: str | None = None
    """The main agent's final answer text (the ResultMessage's `result`)."""
    figures: LedgerFigures = field(default_factory=LedgerFigures)

    @property
    def usage(self) -> Usage:
        return self.figures.total.usage

    @property
    def cost_usd(self) -> float:
        return self.figures.total.cost_usd


SessionStatus = Literal[
    "success",
    "error",
    "model_error",
    "budget_exceeded",
    "timeout",
    "idle_timeout",
    "interrupted",
]


@dataclass(frozen=True, kw_only=True)
class SessionOutcome:
    status: SessionStatus
    exit_code: int
    at_ns: int
    queries: tuple[QueryOutcome, ...] = ()
    error_type: str | None = None
    error_message: str | None = None
    duration_ms: int = 0
    cli_stderr: tuple[str, ...] = ()
    """The CLI's last stderr lines (redacted) when the session failed."""
    figures: LedgerFigures = field(default_factory=LedgerFigures)
    """The ledger's figures for every call of the session."""
    resume: ResumeInfo | None = None
    """Set when this run continued an earlier one."""
    reported_cumulative_usd: float | None = None
    """Claude Code's own cumulative figure at the end (a resumed conversation's earlier runs
    included); the ledger's and `figures.reported_cost_usd` are this run's."""

    @property
    def num_turns(self) -> int:
        return sum(q.num_turns for q in self.queries)

    @property
    def usage(self) -> Usage:
        return self.figures.total.usage

    @property
    def cost_usd(self) -> float:
        return self.figures.total.cost_usd

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def summary(self) -> dict[str, Any]:
        """The outcome as the trace's output: not content, so always recorded."""
        out: dict[str, Any] = {
            "status": self.status,
            "success": self.ok,
            "exit_code": self.exit_code,
            "queries": len(self.queries),
            "num_turns": self.num_turns,
            "cost_usd": round(self.cost_usd, 12),
            "duration_ms": self.duration_ms,
        }
        if self.error_type:
            out["error_type"] = self.error_type
        if self.resume is not None:  # it continued an earlier run: its cost is this run's
            out.update(self.resume.summary())
        return out


class SessionObserver(Protocol):
    """Receives the session's stream, in order, on the driver's event loop.

    Contract: calls arrive in this order: `on_session_start` once; per query `on_query_start`,
    any number of `on_event` (runner.events.types: the SDK stream interpreted once), then
    `on_query_end` (also when the query failed); `on_session_end` exactly once, last, whatever
    happened (timeouts, signals, crashes). Methods must return quickly and should not raise;
    the driver isolates an observer that does (it logs once and keeps the session going).
    """

    def on_session_start(self, event: SessionStart) -> None: ...

    def on_query_start(self, event: QueryStart) -> None: ...

    def on_event(self, event: RunnerEvent) -> None: ...

    def on_query_end(self, event: QueryOutcome) -> None: ...

    def on_session_end(self, event: SessionOutcome) -> None: ...
