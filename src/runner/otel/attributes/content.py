"""What message content may leave the process, and in what form.

Content (prompts, completions, tool arguments and results) is captured only when
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT opts in (`true`, `span_only` or
`span_and_event`, any case); the default is off, as the OTel GenAI conventions ask. Whatever is
captured is redacted (runner.redaction) and truncated leaf by leaf: each string in a structure
is cut to `max_chars` (default 8192 characters; RUNNER_CONTENT_MAX_CHARS changes it) before the
structure is serialised, so a value is always valid JSON.
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
    def off(cls) -> ContentPolicy:
        return cls(False, Redactor())

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], warnings: list[str] | None = None
    ) -> ContentPolicy:
        """From the environment; problems go to `warnings` (else are logged)."""

        def warn(message: str) -> None:
            if warnings is None:
                log.warning("%s", message)
            else:
                warnings.append(message)

        raw = environ.get(CAPTURE_MESSAGE_CONTENT, "").strip().lower()
        capture = raw in _ON
        if raw not in _ON and raw not in _OFF:
            warn(
                f"{CAPTURE_MESSAGE_CONTENT}={raw!r} is unknown; content capture stays off "
                f"(use true or false)"
            )
        max_chars = DEFAULT_MAX_CHARS
        limit = environ.get(CONTENT_MAX_CHARS, "").strip()
        if limit:
            if limit.isascii() and limit.isdigit() and int(limit) > 0:
                max_chars = int(limit)
            else:
                warn(
                    f"{CONTENT_MAX_CHARS}={limit!r} is not a positive integer; "
                    f"using {DEFAULT_MAX_CHARS}"
                )
        return cls(capture, Redactor(secret_values(environ), max_chars=max_chars))

    def text(self, value: object) -> str:
        """A redacted, truncated string for an attribute: strings as they are, else JSON."""
        return self.redactor.clean_value(value)

    def messages(self, role: str, parts: list[dict[str, Any]], **extra: Any) -> str:
        """gen_ai.input.messages / gen_ai.output.messages JSON (one message of `parts`)."""
        return self.text([{"role": role, "parts": parts, **extra}])
