"""The Claude Code CLI's stderr, as the session driver keeps it: the last lines, redacted, for the
error event and the log when the CLI fails."""

from __future__ import annotations

import logging
from collections import deque

from runner.redaction import default_redactor

log = logging.getLogger("runner")
STDERR_LINES = 20


class StderrTail:
    """The CLI's last stderr lines, redacted, for the error event and log when the CLI fails."""

    def __init__(self, size: int = STDERR_LINES) -> None:
        self.lines: deque[str] = deque(maxlen=size)

    def __call__(self, line: str) -> None:
        cleaned = default_redactor().clean(line.rstrip())[:500]
        if cleaned:
            self.lines.append(cleaned)
            log.debug("claude: %s", cleaned)

    def summary(self, count: int = 3) -> str:
        return " | ".join(list(self.lines)[-count:])
