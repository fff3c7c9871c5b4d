"""What the session driver tells the rest of the runner: lifecycle events and the observer seam.

The driver knows nothing of spans or stdout. It hands every SDK message and every lifecycle
event, stamped with one wall-clock time (`at_ns`, from `time.time_ns()`), to a `SessionObserver`.
The stdout event writer and the telemetry mapper are both observers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from runner.config import Tenancy

if TYPE_CHECKING:
    from runner.events import RunnerEvent


@dataclass(frozen=True)
class SessionStart:
    session_id: str
    model: str
    interactive: bool
    workspace: str
    tenancy: Tenancy
    prompt: str | None
    at_ns: int


@dataclass(frozen=True)
class QueryStart:
    index: int
    """1-based position of this query in the session."""
    prompt: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as Anthropic reports them: `input_tokens` EXCLUDES cache tokens.

    `cache_creation_input_tokens` counts all cache writes; `cache_creation_1h_input_tokens` is
    the part written with the 1-hour TTL (priced 2x input, against 1.25x for 5 minutes), from
    the usage's `cache_creation.ephemeral_1h_input_tokens` breakdown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Usage:
        raw = raw if isinstance(raw, dict) else {}
        breakdown = raw.get("cache_creation")
        one_hour = _count(breakdown, "ephemeral_1h_input_tokens")
        creation = _count(raw, "cache_creation_input_tokens")
        return cls(
            input_tokens=_count(raw, "input_tokens"),
            output_tokens=_count(raw, "output_tokens"),
            cache_read_input_tokens=_count(raw, "cache_read_input_tokens"),
            cache_creation_input_tokens=creation,
            cache_creation_1h_input_tokens=min(one_hour, creation),
        )

    def merged(self, delta: object) -> Usage:
        """With the counts a `message_delta` reports (final output; on some APIs, input)."""
        if not isinstance(delta, dict):
            return self
        update = {k: v for k, v in delta.items() if isinstance(v, int) and not isinstance(v, bool)}
        if not update:
            return self
        merged: dict[str, Any] = {**self.as_dict(), **update}
        if "cache_creation" not in merged and self.cache_creation_1h_input_tokens:
            merged["cache_creation"] = {
                "ephemeral_1h_input_tokens": self.cache_creation_1h_input_tokens
            }
        return Usage.from_dict(merged)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_creation_1h_input_tokens + other.cache_creation_1h_input_tokens,
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens - other.input_tokens,
            self.output_tokens - other.output_tokens,
            self.cache_read_input_tokens - other.cache_read_input_tokens,
            self.cache_creation_input_tokens - other.cache_creation_input_tokens,
            self.cache_creation_1h_input_tokens - other.cache_creation_1h_input_tokens,
        )

    @property
    def cache_creation_5m_input_tokens(self) -> int:
        return self.cache_creation_input_tokens - self.cache_creation_1h_input_tokens

    @property
    def total_input_tokens(self) -> int:
        """Input including cache reads and writes (the OTel GenAI definition)."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def as_dict(self) -> dict[str, int]:
        out = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }
        if self.cache_creation_1h_input_tokens:
            out["cache_creation_1h_input_tokens"] = self.cache_creation_1h_input_tokens
        return out


def _count(raw: object, key: str) -> int:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass(frozen=True)
class QueryOutcome:
    """How one query ended. `cost_usd` is this query's own cost (Claude Code reports a
    cumulative figure; the driver takes the difference)."""

    index: int
    at_ns: int
    is_error: bool
    subtype: str | None = None
    num_turns: int = 0
    duration_ms: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    cumulative_cost_usd: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    api_error_status: int | None = None
    sdk_session_id: str | None = None
    model_usage: dict[str, Any] = field(default_factory=dict)
    """Claude Code's per-model figures, cumulative for the session (tokens, cost, window)."""


SessionStatus = Literal[
    "success",
    "error",
    "model_error",
    "budget_exceeded",
    "timeout",
    "idle_timeout",
    "interrupted",
]


@dataclass(frozen=True)
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

    @property
    def num_turns(self) -> int:
        return sum(q.num_turns for q in self.queries)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for query in self.queries:
            total = total + query.usage
        return total

    @property
    def cost_usd(self) -> float:
        return sum(q.cost_usd or 0.0 for q in self.queries)

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
        return out


class SessionObserver(Protocol):
    """Receives the session's stream, in order, on the driver's event loop.

    Contract: calls arrive in this order: `on_session_start` once; per query `on_query_start`,
    any number of `on_event` (runner.events: the SDK stream interpreted once), then
    `on_query_end` (also when the query failed); `on_session_end` exactly once, last, whatever
    happened (timeouts, signals, crashes). Methods must return quickly and should not raise;
    the driver isolates an observer that does (it logs once and keeps the session going).
    """

    def on_session_start(self, event: SessionStart) -> None: ...

    def on_query_start(self, event: QueryStart) -> None: ...

    def on_event(self, event: RunnerEvent) -> None: ...

    def on_query_end(self, event: QueryOutcome) -> None: ...

    def on_session_end(self, event: SessionOutcome) -> None: ...
