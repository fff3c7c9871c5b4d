"""Every environment variable the runner reads: the runtime contract an operator injects.

One constant each, named as the variable, with what it means. `runner.config` reads them;
deploy/k8s sets them; a test checks the two agree.
"""

from typing import Final

SESSION_ID: Final = "SESSION_ID"
"""The AgenticSession name. Required for `run`. Becomes the Langfuse session id."""

PROMPT: Final = "PROMPT"
"""The initial prompt. Required in batch mode unless PROMPT_FILE is set."""

PROMPT_FILE: Final = "PROMPT_FILE"
"""A file holding the initial prompt (UTF-8). Used when PROMPT is unset."""

INTERACTIVE: Final = "INTERACTIVE"
"""`true`: multi-turn; user messages arrive as JSON lines on stdin. Default `false`."""

LLM_MODEL: Final = "LLM_MODEL"
"""Model name passed to the SDK. Default `claude-sonnet-4-5`."""

TIMEOUT: Final = "TIMEOUT"
"""Session wall-clock limit in seconds (positive number). Default 3600; `0` means no limit."""

IDLE_TIMEOUT: Final = "IDLE_TIMEOUT"
"""Interactive only: seconds to wait for the next user message. Default 3600; `0`: no limit."""

WORKSPACE_PATH: Final = "WORKSPACE_PATH"
"""Directory the agent works in; must exist and be writable. Default: the current directory."""

ALLOWED_TOOLS: Final = "ALLOWED_TOOLS"
"""Comma-separated tool names the agent may use without asking (e.g. `Bash,Read,Edit`)."""

PERMISSION_MODE: Final = "PERMISSION_MODE"
"""The SDK's permission mode: default, acceptEdits, plan, bypassPermissions, dontAsk, auto."""

MAX_TURNS: Final = "MAX_TURNS"
"""Optional cap on agent turns per query (positive integer)."""

NAMESPACE: Final = "NAMESPACE"
"""Tenancy: the Kubernetes namespace of the session. On every span."""

PROJECT_NAME: Final = "PROJECT_NAME"
"""Tenancy: the project the session belongs to. On every span."""

USER_ID: Final = "USER_ID"
"""Tenancy: the user who started the session. On every span as user.id."""

ANTHROPIC_API_KEY: Final = "ANTHROPIC_API_KEY"
"""Model access with an Anthropic API key. Never logged."""

ANTHROPIC_AUTH_TOKEN: Final = "ANTHROPIC_AUTH_TOKEN"
"""Model access with a bearer token (gateways). Never logged."""

ANTHROPIC_BASE_URL: Final = "ANTHROPIC_BASE_URL"
"""Passed through to the Claude Code CLI: where it sends Messages API requests."""

CLAUDE_CODE_USE_VERTEX: Final = "CLAUDE_CODE_USE_VERTEX"
"""`1`: model access through Vertex AI (needs the two variables below)."""

ANTHROPIC_VERTEX_PROJECT_ID: Final = "ANTHROPIC_VERTEX_PROJECT_ID"
"""Vertex AI: the GCP project id."""

CLOUD_ML_REGION: Final = "CLOUD_ML_REGION"
"""Vertex AI: the region (e.g. `us-east5`)."""

RUNNER_LOG_LEVEL: Final = "RUNNER_LOG_LEVEL"
"""Level of the human-readable log on stderr: DEBUG, INFO (default), WARNING, ERROR."""

MAX_BUDGET_USD: Final = "MAX_BUDGET_USD"
"""Cost guard: the session stops once its cost passes this many USD (exit code 6)."""

RUNNER_PREFLIGHT: Final = "RUNNER_PREFLIGHT"
"""`false`: skip the model-credential check made while the CLI starts. Default `true`."""

IS_RESUME: Final = "IS_RESUME"
"""`true`: this run continues an earlier run's Claude Code conversation (a pressed "continue",
a replaced pod). Its session id comes from RESUME_SESSION_ID, else from the workspace record
the earlier run left (`<WORKSPACE_PATH>/.claude-runner/session.json`); its transcript
(`$CLAUDE_CONFIG_DIR/projects/*/<id>.jsonl`) must have been restored. Default `false`."""

RESUME_SESSION_ID: Final = "RESUME_SESSION_ID"
"""With IS_RESUME: the Claude Code session id to continue (the `session_id` of its
ResultMessage; a UUID). Default: the workspace record's."""

RESUME_TRACE_ID: Final = "RESUME_TRACE_ID"
"""With IS_RESUME: the earlier run's trace id (32 hex digits), linked from this run's trace.
Default: the workspace record's."""

RESUME_FALLBACK: Final = "RESUME_FALLBACK"
"""With IS_RESUME, when the state to resume is missing or unreadable: `fail` (default: exit 2
with one line naming what is missing) or `fresh` (start a new conversation, with a warning)."""

CLAUDE_CONFIG_DIR: Final = "CLAUDE_CONFIG_DIR"
"""Read, not set, by the runner: where the Claude Code CLI keeps its state (default
`~/.claude`). A resumed run finds the transcript to continue under its `projects/`."""

CONTRACT: Final = (
    SESSION_ID,
    PROMPT,
    PROMPT_FILE,
    INTERACTIVE,
    LLM_MODEL,
    TIMEOUT,
    IDLE_TIMEOUT,
    WORKSPACE_PATH,
    ALLOWED_TOOLS,
    PERMISSION_MODE,
    MAX_TURNS,
    NAMESPACE,
    PROJECT_NAME,
    USER_ID,
    ANTHROPIC_API_KEY,
    ANTHROPIC_AUTH_TOKEN,
    ANTHROPIC_BASE_URL,
    CLAUDE_CODE_USE_VERTEX,
    ANTHROPIC_VERTEX_PROJECT_ID,
    CLOUD_ML_REGION,
    RUNNER_LOG_LEVEL,
    MAX_BUDGET_USD,
    RUNNER_PREFLIGHT,
    IS_RESUME,
    RESUME_SESSION_ID,
    RESUME_TRACE_ID,
    RESUME_FALLBACK,
)
"""The session variables `runner.config` reads (telemetry variables live in runner.otel)."""
