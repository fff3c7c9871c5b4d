"""Every span, attribute and metric name the runner emits, in one place.

GenAI names follow the OpenTelemetry GenAI semantic conventions (status "development"; the
Python semconv package marks its GEN_AI_* constants deprecated, so the strings live here).
`langfuse.*` names are the ones Langfuse's OTel ingestion reads (see docs/telemetry.md).
`agentic_session.*` are this runner's own.
"""

from typing import Final

# --- MLflow's names (its OTLP ingestion, mlflow 3.17.2: notes in DESIGN.md) ------------------
MLFLOW_SPAN_TYPE: Final = "mlflow.spanType"
"""The stored, filterable span type (a plain string; MLflow stores it before translating)."""
MLFLOW_LLM_COST: Final = "mlflow.llm.cost"
"""A provided cost, JSON {"input_cost", "output_cost", "total_cost"}: MLflow takes it over its
own price (which knows no 1-hour cache writes)."""
MLFLOW_TRACE_TAG_PREFIX: Final = "mlflow.traceTag."
"""On the root span: the trace's tags (`mlflow.traceTag.mlflow.traceName`: its name)."""
MLFLOW_TRACE_NAME_TAG: Final = "mlflow.traceName"
MLFLOW_AGENT: Final = "AGENT"
MLFLOW_CHAT_MODEL: Final = "CHAT_MODEL"
MLFLOW_TOOL: Final = "TOOL"
MLFLOW_UNKNOWN: Final = "UNKNOWN"

# --- the Claude Code CLI's own facts (RUNNER_CLI_TELEMETRY, relayed) --------------------------
AGENTIC_SESSION_CALL_ORIGIN: Final = "agentic_session.call.origin"
"""Where a call's figures come from: `stream`, `transcript`, `cli` (a call only the CLI's
telemetry shows: a compaction's summary, a session title), `remainder`."""
AGENTIC_SESSION_CALL_SOURCE: Final = "agentic_session.call.source"
"""The CLI's `query_source_safe`: `sdk`, `agent.*`, `compact`, `generate_session_title`."""
AGENTIC_SESSION_CALL_ATTEMPT: Final = "agentic_session.call.attempt"
AGENTIC_SESSION_CALL_TTFT_MS: Final = "agentic_session.call.ttft_ms"
AGENTIC_SESSION_CALL_CLI_DURATION_MS: Final = "agentic_session.call.cli_duration_ms"
AGENTIC_SESSION_CALL_SPEED: Final = "agentic_session.call.speed"
AGENTIC_SESSION_CALL_CONTEXT: Final = "agentic_session.call.context"
AGENTIC_SESSION_TOOL_DECISION: Final = "agentic_session.tool.permission.decision"
"""`accept` or `reject`: the CLI's permission decision."""
AGENTIC_SESSION_TOOL_DECISION_SOURCE: Final = "agentic_session.tool.permission.source"
AGENTIC_SESSION_TOOL_BLOCKED_MS: Final = "agentic_session.tool.permission.wait_ms"
"""How long the tool waited for its permission decision."""
AGENTIC_SESSION_TOOL_EXECUTION_MS: Final = "agentic_session.tool.execution_ms"
AGENTIC_SESSION_TOOL_COMMAND_CLASS: Final = "agentic_session.tool.command_class"
EVENT_HOOK: Final = "agentic_session.hook"
"""A span event on the query: the CLI ran the hooks of one hook event."""
AGENTIC_SESSION_HOOK_EVENT: Final = "agentic_session.hook.event"
AGENTIC_SESSION_HOOK_NAME: Final = "agentic_session.hook.name"
AGENTIC_SESSION_HOOK_COUNT: Final = "agentic_session.hook.count"
AGENTIC_SESSION_HOOK_SUCCEEDED: Final = "agentic_session.hook.succeeded"
AGENTIC_SESSION_HOOK_BLOCKING: Final = "agentic_session.hook.blocking"
AGENTIC_SESSION_HOOK_DURATION_MS: Final = "agentic_session.hook.duration_ms"

# --- span names -----------------------------------------------------------------------------
SESSION_SPAN: Final = "agentic-session"
"""Root span of a session run; also the Langfuse trace name."""
MAIN_AGENT_NAME: Final = "claude-code"
"""gen_ai.agent.name of a top-level query (`invoke_agent claude-code`)."""

# --- GenAI operation names -----------------------------------------------------------------
OP_CHAT: Final = "chat"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_EXECUTE_TOOL: Final = "execute_tool"
PROVIDER_ANTHROPIC: Final = "anthropic"

# --- GenAI attributes ----------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first streamed chunk (message_start)."""
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""INCLUDES cache read and cache creation tokens (Anthropic's raw figure excludes them)."""
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
"""The conventions' name until they renamed it `cache_write`; Langfuse still reads this one.
Spans here carry `langfuse.observation.usage_details`, which Langfuse reads first, so the
gen_ai names follow the conventions (GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)."""
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"
"""USD, a double, on chat spans only: Langfuse counts cost on every observation but agents."""
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""The Claude Code session id (the SDK's), not SESSION_ID."""
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
ERROR_TYPE: Final = "error.type"

# --- session, user, tenancy (on every span) ------------------------------------------------
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
LANGFUSE_SESSION_ID: Final = "langfuse.session.id"
LANGFUSE_USER_ID: Final = "langfuse.user.id"
LANGFUSE_TRACE_NAME: Final = "langfuse.trace.name"
LANGFUSE_TRACE_TAGS: Final = "langfuse.trace.tags"
LANGFUSE_TRACE_METADATA_PREFIX: Final = "langfuse.trace.metadata."
LANGFUSE_OBSERVATION_METADATA_PREFIX: Final = "langfuse.observation.metadata."
"""`<prefix><key>`: a metadata key of the observation's own, kept for spans of every scope
(Langfuse keeps a span's other attributes only for scopes other than its SDK's)."""
LANGFUSE_TRACE_INPUT: Final = "langfuse.trace.input"
LANGFUSE_TRACE_OUTPUT: Final = "langfuse.trace.output"
LANGFUSE_OBSERVATION_INPUT: Final = "langfuse.observation.input"
LANGFUSE_OBSERVATION_OUTPUT: Final = "langfuse.observation.output"
LANGFUSE_OBSERVATION_TYPE: Final = "langfuse.observation.type"
LANGFUSE_OBSERVATION_LEVEL: Final = "langfuse.observation.level"
LANGFUSE_OBSERVATION_STATUS_MESSAGE: Final = "langfuse.observation.status_message"
LANGFUSE_OBSERVATION_USAGE_DETAILS: Final = "langfuse.observation.usage_details"
"""JSON object of token counts by Langfuse usage key; read before any gen_ai.usage name."""
LANGFUSE_OBSERVATION_COST_DETAILS: Final = "langfuse.observation.cost_details"
"""JSON object of USD by usage key plus `total`; replaces Langfuse's own price."""
LANGFUSE_OBSERVATION_COMPLETION_START_TIME: Final = "langfuse.observation.completion_start_time"
"""ISO 8601: the first streamed chunk (Langfuse's time to first token)."""
LANGFUSE_ENVIRONMENT: Final = "langfuse.environment"
AGENTIC_SESSION_PREFIX: Final = "agentic_session."
AGENTIC_SESSION_NAMESPACE: Final = "agentic_session.namespace"
AGENTIC_SESSION_PROJECT: Final = "agentic_session.project"
AGENTIC_SESSION_MODEL: Final = "agentic_session.model"
AGENTIC_SESSION_INTERACTIVE: Final = "agentic_session.interactive"
AGENTIC_SESSION_WORKSPACE: Final = "agentic_session.workspace"
AGENTIC_SESSION_STATUS: Final = "agentic_session.status"
AGENTIC_SESSION_EXIT_CODE: Final = "agentic_session.exit_code"
AGENTIC_SESSION_QUERY_INDEX: Final = "agentic_session.query.index"
AGENTIC_SESSION_NUM_TURNS: Final = "agentic_session.num_turns"
AGENTIC_SESSION_COST_SOURCE: Final = "agentic_session.cost_source"
"""How a chat span's cost was found: `price` (its own usage at the model's exact price),
`reported_share` (a model without a price: Claude Code's reported figure, less the priced
calls, shared by token weight), `unpriced` (neither: cost 0)."""
AGENTIC_SESSION_COST_USD: Final = "agentic_session.cost_usd"
"""Totals of a query, subagent or session (USD, double). Not a gen_ai name on purpose:
Langfuse would count it again beside the chat spans."""
AGENTIC_SESSION_COST_REPORTED_USD: Final = "agentic_session.cost.reported_usd"
"""What Claude Code reported for the query (its total_cost_usd difference)."""
AGENTIC_SESSION_COST_DIFFERENCE_USD: Final = "agentic_session.cost.difference_usd"
"""Reported minus priced, set only when they differ."""
AGENTIC_SESSION_COST_REPORTED_CUMULATIVE_USD: Final = "agentic_session.cost.reported_cumulative_usd"
"""The session root: Claude Code's own cumulative figure at the end, a resumed conversation's
earlier runs included (this run's own is `agentic_session.cost.reported_usd`)."""
AGENTIC_SESSION_RESUMED: Final = "agentic_session.resumed"
"""The session root: true when this run continues an earlier run's conversation (IS_RESUME)."""
AGENTIC_SESSION_RESUMED_FROM_TRACE_ID: Final = "agentic_session.resumed_from.trace_id"
"""The earlier run's trace id (32 hex; MLflow's id for it is `tr-` + these digits)."""
AGENTIC_SESSION_RESUMED_FROM_COST_USD: Final = "agentic_session.resumed_from.reported_cost_usd"
"""Claude Code's cumulative figure before this run (its transcript's last cost record): the
earlier runs' share, taken off every figure of this run."""
LINK_RESUMED_FROM: Final = "resumed_from"
"""The `agentic_session.link` kind of the root's link to the earlier run's root."""
AGENTIC_SESSION_LLM_CALLS: Final = "agentic_session.llm_calls"
AGENTIC_SESSION_USAGE_PREFIX: Final = "agentic_session.usage."
"""+ input_tokens (cache included), output_tokens, cache_read.input_tokens,
cache_write.input_tokens: a session's or subagent's token totals."""
AGENTIC_SESSION_TOOL_REQUESTED_BY: Final = "agentic_session.tool.requested_by"
"""The gen_ai.response.id of the LLM call that asked for the tool."""
AGENTIC_SESSION_CONTEXT_INPUT_TOKENS: Final = "agentic_session.context.input_tokens"
"""The context an LLM call used: its input tokens, cache reads and writes included."""
AGENTIC_SESSION_CONTEXT_WINDOW: Final = "agentic_session.context.window"
"""The model's context window in tokens (Claude Code's figure once it reported one, else the
price database's)."""
AGENTIC_SESSION_CONTEXT_UTILIZATION: Final = "agentic_session.context.utilization"
"""input_tokens / window, 0..1 (a double)."""
AGENTIC_SESSION_CACHE_HIT_RATIO: Final = "agentic_session.cache.hit_ratio"
"""Cache reads / all input tokens (cache included), 0..1."""
AGENTIC_SESSION_CACHE_SAVINGS_USD: Final = "agentic_session.cache.savings_usd"
"""What prompt caching saved against no caching: cached tokens at the uncached input price less
what they cost (reads and 5-minute / 1-hour writes, exact prices). May be negative."""
AGENTIC_SESSION_CHAT_TOOL_RESULTS: Final = "agentic_session.chat.tool_results"
"""The tool call ids whose results were in this call's input."""
AGENTIC_SESSION_CHAT_TOOL_RESULT_CHARS: Final = "agentic_session.chat.tool_result_chars"
"""Their total size in characters."""
AGENTIC_SESSION_TOOL_RESULT_CHARS: Final = "agentic_session.tool.result_chars"
"""Size of the tool's result in characters (recorded without the content)."""
AGENTIC_SESSION_CALL_OBSERVED: Final = "agentic_session.call.observed"
"""`false` on a chat span for LLM calls Claude Code made but did not stream (a compaction's
summary): their usage is Claude Code's per-model totals less every call seen in the query."""
COMPACTION_SPAN: Final = "compaction"
"""A span (Langfuse: a span observation) for each context compaction, under its query."""
EVENT_COMPACTION: Final = "agentic_session.compaction"
"""Span event on the query span at the compaction boundary."""
AGENTIC_SESSION_COMPACTION_TRIGGER: Final = "agentic_session.compaction.trigger"
"""`auto` or `manual`."""
AGENTIC_SESSION_COMPACTION_PRE_TOKENS: Final = "agentic_session.compaction.pre_tokens"
AGENTIC_SESSION_COMPACTION_POST_TOKENS: Final = "agentic_session.compaction.post_tokens"
AGENTIC_SESSION_COMPACTIONS: Final = "agentic_session.compactions"
"""On the session span: how many times Claude Code compacted the context."""
METRIC_CONTEXT_UTILIZATION: Final = "agentic_session.context.utilization"
"""Histogram (unit 1) of each LLM call's context utilization."""
CONTEXT_UTILIZATION_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
TRACE_TAG: Final = "claude-code-runner"
EVENT_API_RETRY: Final = "agentic_session.api_retry"
"""Span event on the query (or subagent) span: the CLI retries an API request."""
AGENTIC_SESSION_RETRY_ATTEMPT: Final = "agentic_session.retry.attempt"
AGENTIC_SESSION_RETRY_MAX: Final = "agentic_session.retry.max_retries"
AGENTIC_SESSION_RETRY_DELAY_MS: Final = "agentic_session.retry.delay_ms"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"

# --- metrics -----------------------------------------------------------------------------------
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_COST: Final = "agentic_session.cost"
"""Counter, USD, by model and tenancy: what sessions cost (Langfuse drops metrics)."""
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
"""Histogram, s: request start to the first streamed chunk of each LLM call (GenAI semconv)."""
METRIC_SESSIONS: Final = "agentic_session.sessions"
"""Counter of ended sessions by `agentic_session.status` (`budget_exceeded`: budget stops)."""
METRIC_TOKENS: Final = "agentic_session.tokens"
"""Counter of tokens by `gen_ai.token.type`: `input` (cache reads and writes included, as in
gen_ai.client.token.usage), `output`, and the parts of input `cache_read` and `cache_write`."""
METRIC_TOOL_CALLS: Final = "agentic_session.tool.calls"
"""Counter of tool calls by `gen_ai.tool.name`, `agentic_session.tool.outcome` (`success` or
the error type) and `agentic_session.tool.permission.decision` (`accept`, `reject`, or
`unknown` without the CLI's own record, RUNNER_CLI_TELEMETRY)."""
METRIC_CACHE_SAVINGS: Final = "agentic_session.cache.savings"
"""Counter, USD: what prompt caching saved (cached tokens at the uncached input price, less
what they cost), calls that saved only."""
METRIC_CACHE_OVERHEAD: Final = "agentic_session.cache.overhead"
"""Counter, USD: what cache writes cost beyond the uncached price, on calls where caching did
not pay off yet. Net savings = savings − overhead."""
AGENTIC_SESSION_TOOL_OUTCOME: Final = "agentic_session.tool.outcome"
TOKEN_USAGE_BUCKETS: Final = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
OPERATION_DURATION_BUCKETS: Final = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)

# --- scores: the gen_ai.evaluation.result event and the runner's outcome scores ----------------
# The event (OTel GenAI conventions, development status) sits on the span it judges; Langfuse
# and MLflow do not read it, so each score is also delivered to their own APIs
# (runner.otel.export.score_delivery). Score names are what a team charts and filters by.
GEN_AI_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
"""Required: the score's name (e.g. session.success)."""
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
"""A double: NUMERIC values, BOOLEAN as 1.0/0.0."""
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
"""A string: CATEGORICAL, TEXT and CORRECTION values; BOOLEAN as pass/fail."""
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
"""Why: for outcome scores the error type; for feedback its comment (content: captured only as
content capture allows, redacted)."""
AGENTIC_SESSION_SCORE_DATA_TYPE: Final = "agentic_session.score.data_type"
"""Langfuse's data type of the score (NUMERIC, CATEGORICAL, BOOLEAN, TEXT, CORRECTION)."""
AGENTIC_SESSION_SCORE_SOURCE: Final = "agentic_session.score.source"
"""`runner` (an outcome the runner measured) or `feedback` (a stdin feedback line)."""

SCORE_SESSION_STATUS: Final = "session.status"
"""CATEGORICAL: success, error, model_error, budget_exceeded, timeout, idle_timeout, interrupted."""
SCORE_SESSION_SUCCESS: Final = "session.success"
"""BOOLEAN: the session ended with exit code 0."""
SCORE_SESSION_COST_USD: Final = "session.cost_usd"
"""NUMERIC: the session's cost (the ledger's), on every session: filter on session.success."""
SCORE_SESSION_TOOL_FAILURES: Final = "session.tool_failures"
"""NUMERIC: tool calls that failed (permission denials included)."""
SCORE_SESSION_PERMISSION_DENIALS: Final = "session.permission_denials"
"""NUMERIC: tool calls Claude Code was not permitted to run."""
SCORE_SESSION_BUDGET_EXCEEDED: Final = "session.budget_exceeded"
"""BOOLEAN: MAX_BUDGET_USD stopped the session."""
SCORE_QUERY_STATUS: Final = "query.status"
"""CATEGORICAL, on the query's observation: success or the query's error type."""
SCORE_QUERY_SUCCESS: Final = "query.success"
"""BOOLEAN, on the query's observation."""
SCORE_QUERY_TOOL_FAILURES: Final = "query.tool_failures"
"""NUMERIC, on the query's observation."""
SCORE_USER_FEEDBACK: Final = "user-feedback"
"""The default name of a stdin feedback line's score (the platform's own name)."""
