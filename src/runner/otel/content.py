"""What message content may leave the process, and in what form.

Content (prompts, completions, tool arguments and results) is captured only when
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT opts in (`true`, `span_only` or
`span_and_event`, any case); the default is off, as the OTel GenAI conventions ask. Whatever is
captured is redacted (runner.redaction) and truncated to `max_chars` (default 8192 characters
per attribute value; RUNNER_CONTENT_MAX_CHARS changes it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from runner.redaction import DEFAULT_MAX_CHARS, Redactor, secret_values

log = logging.getLogger("runner.otel")

CAPTURE_MESSAGE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
CONTENT_MAX_CHARS = "RUNNER_CONTENT_MAX_CHARS"
_ON = ("true", "1", "yes", "span_only", "span_and_event")
_OFF = ("", "false", "0", "no", "no_content", "event_only")


class ContentPolicy:
    def __init__(self, capture: bool, redactor: Redactor) -> None:
        self.capture = capture
        self.redactor = redactor

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ContentPolicy:
        raw = environ.get(CAPTURE_MESSAGE_CONTENT, "").strip().lower()
        capture = raw in _ON
        if raw not in _ON and raw not in _OFF:
            log.warning(
                "%s=%r is unknown; content capture stays off (use true or false)",
                CAPTURE_MESSAGE_CONTENT,
                raw,
            )
        max_chars = DEFAULT_MAX_CHARS
        limit = environ.get(CONTENT_MAX_CHARS, "").strip()
        if limit:
            if limit.isdigit() and int(limit) > 0:
                max_chars = int(limit)
            else:
                log.warning(
                    "%s=%r is not a positive integer; using %d",
                    CONTENT_MAX_CHARS,
                    limit,
                    DEFAULT_MAX_CHARS,
                )
        return cls(capture, Redactor(secret_values(environ), max_chars=max_chars))

    def text(self, value: object) -> str:
        """A redacted, truncated string for an attribute: strings as they are, else JSON."""
        return self.redactor.clean_value(value)

    def messages(self, role: str, parts: list[dict[str, Any]], **extra: Any) -> str:
        """gen_ai.input.messages / gen_ai.output.messages JSON (one message of `parts`)."""
        return self.text([{"role": role, "parts": parts, **extra}])
