"""claude-code-runner: run Claude Agent SDK sessions as Jobs, observable with OpenTelemetry."""

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
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    SessionObserver,
    SessionOutcome,
    SessionStart,
)

__all__ = [
    "ConfigError",
    "IdleTimeout",
    "ModelError",
    "QueryOutcome",
    "QueryStart",
    "RunnerConfig",
    "RunnerError",
    "SessionInterrupted",
    "SessionObserver",
    "SessionOutcome",
    "SessionStart",
    "SessionTimeout",
    "Tenancy",
    "Usage",
    "__version__",
    "run_session",
]
