"""Runner events: what the session's SDK messages and hook inputs mean, as typed values.

`runner.event_adapter.EventAdapter` is the one place SDK messages and hook inputs are
interpreted; the session driver, the stdout writer and telemetry all consume these events, and
nothing downstream looks at an SDK message class again.

Threads: `thread` is None for the main agent, else the `parent_tool_use_id` of a subagent's
messages (the tool call that started it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.types import Usage

Thread = str | None


@dataclass(frozen=True, slots=True)
class SessionInitialized:
    sdk_session_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class RequestSent:
    """The CLI announced an API request (main thread): the next call's start."""

    at_ns: int


@dataclass(frozen=True, slots=True)
class CallStarted:
    """An LLM call's response began (message_start, or a subagent's first message)."""

    thread: Thread
    message_id: str | None
    model: str | None
    usage: Usage
    """The snapshot at message_start: output tokens are a placeholder."""
    at_ns: int
    streamed: bool
    """True when stream events follow (main thread); False: messages are all we see."""


@dataclass(frozen=True, slots=True)
class CallFinished:
    """An LLM call's stream ended (message_stop) with its final usage and stop reason."""

    thread: Thread
    message_id: str | None
    usage: Usage
    stop_reason: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The API answered with an error (the CLI's synthetic assistant message)."""

    thread: Thread
    error: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class AssistantText:
    thread: Thread
    message_id: str | None
    text: str
    kind: str
    """`text` or `reasoning`."""
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolRequested:
    """The model asked for a tool call (a tool_use block)."""

    thread: Thread
    message_id: str | None
    tool_use_id: str
    name: str
    arguments: dict[str, Any]
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """PreToolUse: the tool is about to run."""

    tool_use_id: str
    name: str
    arguments: object
    agent_id: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """PostToolUse / PostToolUseFailure: the tool ran (`duration_ms` when the CLI says)."""

    tool_use_id: str
    name: str | None
    duration_ms: int | None
    error: str | None
    interrupted: bool
    response: object
    agent_id: str | None
    at_ns: int
    response_chars: int = 0
    """Size of the tool's result as text (kept even when content is not)."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool result block on its way back to the model (into the next call's input)."""

    thread: Thread
    tool_use_id: str
    content: object
    is_error: bool
    at_ns: int
    content_chars: int = 0


@dataclass(frozen=True, slots=True)
class SubagentStarted:
    agent_id: str
    agent_type: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class SubagentFinished:
    agent_id: str
    transcript_path: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class SubagentCall:
    """One LLM call of a subagent with its final usage, from the subagent's transcript (the
    stream shows only `message_start` snapshots of these)."""

    agent_id: str
    message_id: str
    model: str | None
    usage: Usage
    requested_ns: int | None
    answered_ns: int | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class CompactionStarted:
    at_ns: int


@dataclass(frozen=True, slots=True)
class Compacted:
    """Claude Code compacted the context (`compact_boundary`): why, and its size before and
    after, in tokens."""

    trigger: str
    pre_tokens: int | None
    post_tokens: int | None
    duration_ms: int | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class TaskStarted:
    """A background task (a subagent) started for a tool call."""

    task_id: str
    tool_use_id: str | None
    at_ns: int


@dataclass(frozen=True, slots=True)
class TaskFinished:
    task_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ApiRetry:
    """The CLI is retrying an API request."""

    attempt: int
    max_retries: int | None
    delay_ms: int | None
    status: int | None
    error: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A ResultMessage: `usage` is this turn's (main thread); cost and model usage are
    cumulative for the client session."""

    subtype: str
    is_error: bool
    num_turns: int
    duration_ms: int
    usage: Usage
    total_cost_usd: float | None
    api_error_status: int | None
    errors: tuple[str, ...]
    result: str | None
    sdk_session_id: str | None
    model_usage: dict[str, Any] = field(default_factory=dict)
    at_ns: int = 0


RunnerEvent = (
    SessionInitialized
    | RequestSent
    | CallStarted
    | CallFinished
    | CallFailed
    | AssistantText
    | ToolRequested
    | ToolStarted
    | ToolFinished
    | ToolResult
    | SubagentStarted
    | SubagentFinished
    | TaskStarted
    | TaskFinished
    | ApiRetry
    | QueryResult
    | SubagentCall
    | CompactionStarted
    | Compacted
)


def text_of(content: object) -> str:
    """The text of a message's content (a string, or blocks/dicts with `text`)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            text = getattr(item, "text", None)
            if text is None and isinstance(item, dict):
                text = item.get("text")
            if isinstance(text, str):
                parts.append(text)
        return "\n".join(parts)
    return ""
