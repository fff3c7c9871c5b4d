"""Runner events: what the session's SDK messages and hook inputs mean, as typed values.

`runner.events.sdk_adapter.EventAdapter` is the one place SDK messages and hook inputs are
interpreted, and `runner.ledger.ledger.Ledger` the one place LLM calls are recorded and priced
(`CallRecorded`, and the figures on `SubagentFinished`); the session driver, the stdout writer
and telemetry consume these events, and nothing downstream looks at an SDK message again.

Threads: `thread` is None for the main agent, else the id of the Agent tool call that started
the subagent (its messages' `parent_tool_use_id`; hooks name the subagent by `agent_id`, which
the adapter resolves to the same thread).

Adding an event kind: add the class and put it in `RunnerEvent`; every consumer dispatches in
one `match` ending in `assert_never`, so mypy and tests/test_event_coverage.py name each
consumer that has not decided what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.accounting.figures import LedgerCall, SubagentFigures
from runner.accounting.figures import Thread as Thread
from runner.accounting.usage import ModelUsage, Usage

AGENT_TOOLS = ("Agent", "Task")
"""The subagent tool (named Task in older CLIs)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInitialized:
    sdk_session_id: str
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSent:
    """The CLI announced an API request (main thread): the next call's start."""

    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted:
    """An LLM call's response began (message_start, or a subagent's first message)."""

    thread: Thread
    message_id: str | None
    model: str | None
    usage: Usage
    """The snapshot at message_start: output tokens are a placeholder."""
    streamed: bool
    """True when stream events follow (main thread); False: messages are all we see."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFinished:
    """An LLM call's stream ended (message_stop) with its usage and stop reason (final for a
    streamed call; a snapshot for a subagent's, whose final usage is in its transcript)."""

    thread: Thread
    message_id: str | None
    usage: Usage
    stop_reason: str | None
    streamed: bool
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFailed:
    """The API answered with an error (the CLI's synthetic assistant message)."""

    thread: Thread
    error: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SubagentCall:
    """One LLM call of a subagent with its final usage, from the subagent's transcript."""

    thread: Thread
    agent_id: str
    message_id: str
    model: str | None
    usage: Usage
    stop_reason: str | None
    requested_ns: int | None
    answered_ns: int | None
    text: str = ""
    """Its text output, from the transcript (content: kept only with capture on)."""
    tool_use_ids: tuple[str, ...] = ()
    """The tools it asked for, from the transcript."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecorded:
    """The ledger recorded a call: its figures are final (emitted by runner.ledger.ledger only)."""

    call: LedgerCall
    requested_ns: int | None = None
    """When its request left, if known apart from the stream (a subagent's transcript)."""
    answered_ns: int | None = None
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantText:
    thread: Thread
    message_id: str | None
    text: str
    kind: str
    """`text` or `reasoning`."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolRequested:
    """The model asked for a tool call (a tool_use block)."""

    thread: Thread
    message_id: str | None
    tool_use_id: str
    name: str
    arguments: dict[str, object]
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolStarted:
    """PreToolUse: the tool is about to run."""

    thread: Thread
    tool_use_id: str
    name: str
    arguments: object
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolFinished:
    """PostToolUse / PostToolUseFailure: the tool ran (`duration_ms` when the CLI says)."""

    thread: Thread
    tool_use_id: str
    name: str | None
    duration_ms: int | None
    error: str | None
    interrupted: bool
    response: object
    response_chars: int
    """Size of the tool's result as text (kept even when content is not)."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    """A tool result block on its way back to the model (into the next call's input)."""

    thread: Thread
    tool_use_id: str
    content: object
    text: str
    """The result as the model reads it (text blocks joined; other content as JSON)."""
    is_error: bool
    at_ns: int

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubagentStarted:
    thread: Thread
    """The Agent tool call it runs for (None when it could not be matched)."""
    agent_id: str
    agent_type: str | None
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SubagentFinished:
    """A subagent stopped and its transcript is complete (or the wait for it ran out)."""

    thread: Thread
    agent_id: str
    figures: SubagentFigures | None = None
    """Its final figures: set by the ledger (None before it, and for an unmatched subagent)."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactionStarted:
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Compacted:
    """Claude Code compacted the context (`compact_boundary`): why, and its size before and
    after, in tokens."""

    trigger: str
    pre_tokens: int | None
    post_tokens: int | None
    duration_ms: int | None
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStarted:
    """A task (a subagent, a background shell) started for a tool call (`task_started`); sent
    again with `background=True` when a foreground task moves to the background (a
    `task_updated` patch)."""

    task_id: str
    tool_use_id: str | None
    background: bool | None
    """`is_backgrounded`: only a background task's end earns the main thread a further turn.
    None: the CLI did not say (older CLIs)."""
    task_type: str | None = None
    """`local_agent` (a subagent), `local_workflow`, `local_bash` (a background shell), ..."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFinished:
    """A task reached a terminal status (`task_notification`, or a `task_updated` patch: the
    CLI may send both, or only one)."""

    task_id: str
    status: str | None
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStateChanged:
    """Claude Code's own word on its session (`session_state_changed`): `running`, `idle` (no
    turn under way or owed, no background task left), `requires_action`."""

    state: str
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRetry:
    """The CLI is retrying an API request."""

    attempt: int
    max_retries: int | None
    delay_ms: int | None
    status: int | None
    error: str
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
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
    model_usage: dict[str, ModelUsage]
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CliCallReported:
    """The Claude Code CLI's own record of an LLM call (its `claude_code.llm_request` span,
    relayed; RUNNER_CLI_TELEMETRY). The ledger matches it to its call (`call_key`) or, for a
    call the stream never shows (a compaction's summary, a session title), records it."""

    thread: Thread
    source: str
    """The CLI's `query_source_safe`: `sdk` (main thread), `agent.*` (a subagent), `compact`,
    `generate_session_title`, ..."""
    model: str | None
    usage: Usage
    stop_reason: str | None
    success: bool
    attempt: int | None
    ttft_ms: int | None
    duration_ms: int | None
    speed: str | None
    context: str | None
    """The CLI's `llm_request.context` (`interaction`, `tool`)."""
    start_ns: int
    end_ns: int
    call_key: int | None = None
    """The ledger call it reports on (set by the ledger; None before, or when unmatched)."""
    at_ns: int

    @property
    def streamed(self) -> bool:
        """A call the SDK stream shows too (the session's own turns and its subagents')."""
        return self.source == "sdk" or self.source.startswith("agent")


@dataclass(frozen=True, slots=True, kw_only=True)
class CliToolReported:
    """The CLI's own record of a tool call: its permission decision and execution."""

    tool_use_id: str
    decision: str | None
    """`accept` or `reject` (its `claude_code.tool.blocked_on_user` span)."""
    decision_source: str | None
    """Where the decision came from (`config`, ...)."""
    blocked_ms: int | None
    """How long the tool waited for the decision."""
    execution_ms: int | None
    """None when it never ran (refused)."""
    success: bool | None
    command_class: str | None
    """Bash only: the CLI's class of the command (`shell_builtin`, `fs_mutation`, ...)."""
    at_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CliHookRan:
    """The CLI ran the hooks of one hook event (its `hook_execution_complete` log event)."""

    hook_event: str
    hook_name: str | None
    hooks: int | None
    succeeded: int | None
    blocking: int | None
    duration_ms: int | None
    at_ns: int


RunnerEvent = (
    SessionInitialized
    | RequestSent
    | CallStarted
    | CallFinished
    | CallFailed
    | SubagentCall
    | CallRecorded
    | AssistantText
    | ToolRequested
    | ToolStarted
    | ToolFinished
    | ToolResult
    | SubagentStarted
    | SubagentFinished
    | TaskStarted
    | TaskFinished
    | SessionStateChanged
    | ApiRetry
    | QueryResult
    | CompactionStarted
    | Compacted
    | CliCallReported
    | CliToolReported
    | CliHookRan
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
