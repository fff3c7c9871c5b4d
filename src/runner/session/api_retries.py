"""The CLI's API retries, as the session driver watches them. Small, stateful, no SDK types.

Retries (measured, CLI 2.1.33x): each is a `system` message `api_retry` with attempt,
max_retries, retry_delay_ms, error_status and error. With a bad key or a missing model the CLI
retries for minutes; statuses that no retry can fix end the session at once (exit 3).
"""

from __future__ import annotations

import logging
import time

from runner.events.types import ApiRetry
from runner.redaction import default_redactor

log = logging.getLogger("runner")
NOT_RETRYABLE = {
    401: "authentication failed: check ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)",
    403: "permission denied: the key has no access to this model or workspace",
    404: "not found: check LLM_MODEL and ANTHROPIC_BASE_URL",
}
RETRY_LOG_INTERVAL_S = 1.0


class RetryWatch:
    """Logs API retries (one line per retry, at most one per RETRY_LOG_INTERVAL_S, with a count
    of those not shown) and says which ones must end the session."""

    def __init__(self) -> None:
        self.retries = 0
        self._last_log = -RETRY_LOG_INTERVAL_S
        self._suppressed = 0

    def seen(self, retry: ApiRetry) -> str | None:
        """Record a retry; returns why the session must end now, or None."""
        self.retries += 1
        status = retry.status
        if status in NOT_RETRYABLE:
            detail = default_redactor().clean(retry.error)[:200] or "no detail"
            return f"HTTP {status} ({detail}), retrying cannot fix this: {NOT_RETRYABLE[status]}"
        now = time.monotonic()
        if now - self._last_log >= RETRY_LOG_INTERVAL_S:
            more = f" ({self._suppressed} more not shown)" if self._suppressed else ""
            of = f"/{retry.max_retries}" if retry.max_retries else ""
            delay = f"; next try in {retry.delay_ms / 1000:.1f}s" if retry.delay_ms else ""
            log.warning(
                "model API retry %d%s: %s%s%s%s",
                retry.attempt,
                of,
                f"HTTP {status} " if status else "",
                default_redactor().clean(retry.error)[:200],
                delay,
                more,
            )
            self._last_log, self._suppressed = now, 0
        else:
            self._suppressed += 1
        return None
