"""Secret redaction and truncation for anything that leaves the process as text.

Applied to stdout events and to captured span content alike. Two nets:
- patterns for common credential shapes (Anthropic and Langfuse keys, bearer and basic auth,
  AWS access keys, private key blocks, `password=...`-style assignments, JWTs);
- the literal values of this process's own secret environment variables (any variable whose name
  says KEY, SECRET, TOKEN, PASSWORD, CREDENTIAL or AUTH, or that holds OTLP headers).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

REDACTED = "[REDACTED]"
DEFAULT_MAX_CHARS = 8192
"""Longest text value kept in a stdout event or span attribute; longer values are cut and
marked with a `…[truncated N chars]` suffix."""

_PATTERNS = (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",
    r"sk-lf-[A-Za-z0-9_\-]{8,}",
    r"pk-lf-[A-Za-z0-9_\-]{8,}",
    r"sk-[A-Za-z0-9]{20,}",
    r"(?i:\bbearer\s+)[A-Za-z0-9._~+/\-]{8,}=*",
    r"(?i:\bbasic\s+)[A-Za-z0-9+/]{12,}=*",
    r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])",
    r"(?i:\baws_secret_access_key)\s*[=:]\s*\S+",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
    r"(?i:\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token))"
    r"(\s*[=:]\s*[\"']?)[^\s\"',;]{6,}",
)
_PATTERN = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|AUTH|_HEADERS$")
_MIN_SECRET_LEN = 6


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Values of the environment's secret-looking variables, longest first."""
    values = {
        value
        for name, value in environ.items()
        if _SECRET_NAME.search(name.upper()) and len(value) >= _MIN_SECRET_LEN
    }
    # An OTLP header string `k=v,k2=v2` also hides its individual values.
    for name, value in environ.items():
        if name.upper().endswith("_HEADERS"):
            for pair in value.split(","):
                _, _, header_value = pair.partition("=")
                if len(header_value.strip()) >= _MIN_SECRET_LEN:
                    values.add(header_value.strip())
    return tuple(sorted(values, key=len, reverse=True))


class Redactor:
    """Redacts credential patterns and known secret values, then truncates."""

    def __init__(self, secrets: Iterable[str] = (), max_chars: int = DEFAULT_MAX_CHARS):
        self.max_chars = max_chars
        literal = [re.escape(s) for s in secrets if s]
        self._literal = re.compile("|".join(literal)) if literal else None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        return cls(secret_values(os.environ if environ is None else environ))

    def redact(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(REDACTED, text)
        return _PATTERN.sub(_replace, text)

    def clean(self, text: str) -> str:
        """Redact, then truncate to `max_chars`."""
        return truncate(self.redact(text), self.max_chars)

    def clean_value(self, value: object) -> str:
        """Any value as redacted, truncated text. Structures are redacted and truncated leaf
        by leaf BEFORE they are serialised: JSON escaping (`\\n` before a key) would hide word
        boundaries, and a cut through serialised JSON would leave it unparseable."""
        if isinstance(value, str):
            return self.clean(value)
        return json.dumps(self._leaves(value), ensure_ascii=False, default=str)

    def _leaves(self, value: object) -> object:
        if isinstance(value, str):
            return self.clean(value)
        if isinstance(value, dict):
            return {str(k): self._leaves(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._leaves(v) for v in value]
        return value


def _replace(match: re.Match[str]) -> str:
    # Keep the `password=` part of an assignment so the reader sees what was hidden.
    separator = match.group(1)
    if separator is not None:
        head = match.group(0)
        return head[: head.index(separator) + len(separator)] + REDACTED
    return REDACTED


def truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}…[truncated {len(text) - max_chars} chars]"


@lru_cache(maxsize=1)
def default_redactor() -> Redactor:
    """The process-wide redactor, built once from the environment at first use."""
    return Redactor.from_environ()
