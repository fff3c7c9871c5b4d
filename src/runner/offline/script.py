"""What the offline Messages API server answers: a script of steps, one per LLM call.

A script is an ordered list of steps. Each `POST /v1/messages` takes the first step not yet
served whose `match` (if any) occurs in the request's last user turn, so concurrent callers (a
subagent running beside its parent) can be scripted without depending on arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Usage:
    """Usage as the Messages API reports it: `input_tokens` EXCLUDES the cache tokens."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    """The part of `cache_creation_input_tokens` written with the 1-hour TTL."""

    def as_dict(self) -> dict[str, Any]:
        """Final usage, with the `cache_creation` TTL breakdown the API sends."""
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_input_tokens
                - self.cache_creation_1h_input_tokens,
                "ephemeral_1h_input_tokens": self.cache_creation_1h_input_tokens,
            },
        }

    def start_snapshot(self) -> dict[str, Any]:
        """The usage sent in `message_start` (output is a placeholder, as the real API does)."""
        return {**self.as_dict(), "output_tokens": 1}


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]
    id: str = ""
    """Left empty, the server assigns `toolu_offline_<n>`."""


Block = Text | ToolUse


@dataclass(frozen=True)
class Reply:
    """A streamed assistant message.

    `delay_s` passes before the first byte (the model's latency); `cut_after_blocks` ends the
    connection after that many content blocks, without `message_delta`/`message_stop`.
    """

    content: tuple[Block, ...]
    usage: Usage
    delay_s: float = 0.0
    match: str | None = None
    cut_after_blocks: int | None = None
    model: str | None = None

    @property
    def stop_reason(self) -> str:
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.content) else "end_turn"


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer in the Messages API's error format."""

    status: int
    message: str = "scripted failure"
    match: str | None = None
    delay_s: float = 0.0

    @property
    def error_type(self) -> str:
        return {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            413: "request_too_large",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(self.status, "api_error")


Step = Reply | Failure


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)


def text(answer: str, usage: Usage, **kw: Any) -> Reply:
    """A plain text answer."""
    return Reply(content=(Text(answer),), usage=usage, **kw)


def bash(command: str, usage: Usage, *, say: str = "", **kw: Any) -> Reply:
    """An answer that calls the Bash tool, optionally after a sentence of text."""
    blocks: tuple[Block, ...] = (ToolUse("Bash", {"command": command, "description": command}),)
    if say:
        blocks = (Text(say), *blocks)
    return Reply(content=blocks, usage=usage, **kw)
