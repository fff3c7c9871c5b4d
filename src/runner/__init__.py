"""claude-code-runner: run Claude Agent SDK sessions as Jobs, observable with OpenTelemetry."""

from typing import TYPE_CHECKING

from runner._version import __version__
from runner.accounting.usage import Usage
from runner.config import RunnerConfig, Tenancy
from runner.errors import (
    ConfigError,
    IdleTimeout,
    ModelError,
    RunnerError,
    SessionInterrupted,
    SessionTimeout,
)
from runner.launcher import run_session
from runner.scores import Score, ScoreError
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    SessionObserver,
    SessionOutcome,
    SessionStart,
)

if TYPE_CHECKING:
    from runner.otel.export.score_delivery import ScoreReport, submit_score

__all__ = [
    "ConfigError",
    "IdleTimeout",
    "ModelError",
    "QueryOutcome",
    "QueryStart",
    "RunnerConfig",
    "RunnerError",
    "Score",
    "ScoreError",
    "ScoreReport",
    "SessionInterrupted",
    "SessionObserver",
    "SessionOutcome",
    "SessionStart",
    "SessionTimeout",
    "Tenancy",
    "Usage",
    "__version__",
    "run_session",
    "submit_score",
]


def __getattr__(name: str) -> object:
    """`submit_score` and `ScoreReport` load their HTTP clients only when asked for: a session's
    start does not pay for them (runner.otel.export.score_delivery)."""
    if name in ("submit_score", "ScoreReport"):
        from runner.otel.export import score_delivery

        return getattr(score_delivery, name)
    raise AttributeError(f"module 'runner' has no attribute {name!r}")
