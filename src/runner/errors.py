"""The runner's exceptions. Each carries the process exit code the CLI maps it to.

RunnerError                  exit 1  anything unexpected (e.g. the CLI crashed)
├── ConfigError              exit 2  bad input, found before the CLI starts
├── ModelError               exit 3  the Messages API answered with an error
├── SessionTimeout           exit 4  TIMEOUT reached
├── IdleTimeout              exit 5  interactive: no user message within IDLE_TIMEOUT
├── BudgetExceeded           exit 6  MAX_BUDGET_USD reached
└── SessionInterrupted       exit 130 (SIGINT) / 143 (SIGTERM)
"""

from __future__ import annotations

import signal


class RunnerError(Exception):
    """Base class. `error_type` is what spans and stdout events carry as error.type."""

    exit_code = 1
    error_type = "runner_error"


class ConfigError(RunnerError):
    """Invalid configuration; the message is one line naming the variable and the fix."""

    exit_code = 2
    error_type = "config_error"


class ModelError(RunnerError):
    """The model API returned an error (overloaded, rate limited, bad request, ...)."""

    exit_code = 3
    error_type = "model_error"

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None):
        super().__init__(message)
        self.status = status
        self.kind = kind


class SessionTimeout(RunnerError):
    exit_code = 4
    error_type = "timeout"


class IdleTimeout(RunnerError):
    exit_code = 5
    error_type = "idle_timeout"


class BudgetExceeded(RunnerError):
    """The session's cost passed MAX_BUDGET_USD; the CLI stopped it."""

    exit_code = 6
    error_type = "budget_exceeded"


class SessionInterrupted(RunnerError):
    """The runner got SIGTERM or SIGINT; exit code 128 + signal number."""

    error_type = "interrupted"

    def __init__(self, signum: int):
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}")
        self.signum = signum
        self.exit_code = 128 + signum
