"""The one attribute layer: pure functions from a node of the session tree to its attributes.

What every backend sees is decided here, once; both renderers (OTel spans, the Langfuse SDK
path) only open and end spans with these. Rules that shape it (Langfuse's OTel ingestion, see
DESIGN.md):

- Langfuse reads usage and cost from every observation except `invoke_agent` ones and sums a
  trace's cost over all of them; MLflow prices every span that has tokens and a model, agents
  included: usage, cost and model go on chat spans only. Session, query, subagent and tool
  spans carry none; their totals (the ledger's figures) go under `agentic_session.*`, which
  nothing sums.
- On the real-time path each row keeps only its own attributes: session, user, trace name,
  tags, environment and tenancy go on every span (`common`), and the trace's input/output are
  the root observation's (`langfuse.observation.input/output` on the session span).
- Chat spans carry `langfuse.observation.usage_details`/`cost_details` (read before any gen_ai
  name) and `completion_start_time` (Langfuse's time to first token).
- Content (prompts, completions, tool arguments, results) only when capture is on, redacted
  and truncated leaf by leaf (runner.otel.attributes.content); the outcome summary is not content.
- MLflow (its OTLP ingestion, measured on a real server): `mlflow.spanType` on every span (the
  stored, filterable type), the exact price as `mlflow.llm.cost` on chat spans (else it prices
  calls from its own table, without 1-hour writes), the trace's name and tags as root
  `mlflow.traceTag.*`. Langfuse reads none of these as type, model, usage or cost: one span
  serves every backend (weighed against per-destination dialects: no attribute needed by one
  backend makes another count twice, so a second rendering would only cost CPU and bytes).

Every function returns a fresh dict without None values.
"""

from __future__ import annotations

import json
from typing import assert_never

from runner.accounting.figures import Figures
from runner.accounting.pricing import langfuse_keys
from runner.events.types import ApiRetry, CliHookRan, Compacted
from runner.otel.attributes import parts as parts
from runner.otel.attributes import semconv as sc
from runner.otel.attributes.content import ContentPolicy
from runner.otel.tree.nodes import (
    AgentNode,
    ChatNode,
    CompactionNode,
    Node,
    QueryNode,
    SessionNode,
    SpanEvent,
    ToolNode,
)

Attributes = parts.Attributes


def tags(session: SessionNode) -> list[str]:
    """Langfuse trace tags: the product, then tenancy."""
    out = [sc.TRACE_TAG]
    if session.tenancy.namespace:
        out.append(f"namespace:{session.tenancy.namespace}")
    if session.tenancy.project:
        out.append(f"project:{session.tenancy.project}")
    return out


def metadata(session: SessionNode) -> dict[str, str]:
    """Trace metadata (empty values left out)."""
    values = {
        "namespace": session.tenancy.namespace or "",
        "project": session.tenancy.project or "",
        "model": session.model,
        "interactive": str(session.interactive).lower(),
    }
    if session.resume is not None:  # a continuation: Langfuse and MLflow show whence
        values["resumed"] = "true"
        values["resumed_from_trace_id"] = session.resume.previous_trace_id or ""
    return {k: v for k, v in values.items() if v}


def common(session: SessionNode, environment: str | None = None) -> Attributes:
    """On every span of the session: grouping, user, trace name, tags, tenancy."""
    tenancy = session.tenancy
    out: Attributes = {
        sc.LANGFUSE_SESSION_ID: session.session_id,
        sc.SESSION_ID: session.session_id,
        sc.LANGFUSE_TRACE_NAME: sc.SESSION_SPAN,
        sc.LANGFUSE_TRACE_TAGS: tags(session),
    }
    if tenancy.user_id:
        out[sc.USER_ID] = out[sc.LANGFUSE_USER_ID] = tenancy.user_id
    if tenancy.namespace:
        out[sc.AGENTIC_SESSION_NAMESPACE] = tenancy.namespace
    if tenancy.project:
        out[sc.AGENTIC_SESSION_PROJECT] = tenancy.project
    if environment:
        out[sc.LANGFUSE_ENVIRONMENT] = environment
    return out


# --- span names -------------------------------------------------------------------------------


def span_name(node: Node) -> str:
    if isinstance(node, SessionNode):
        return sc.SESSION_SPAN
    if isinstance(node, QueryNode):
        return f"{sc.OP_INVOKE_AGENT} {sc.MAIN_AGENT_NAME}"
    if isinstance(node, AgentNode):
        return f"{sc.OP_INVOKE_AGENT} {node.agent_type}"
    if isinstance(node, ToolNode):
        return f"{sc.OP_EXECUTE_TOOL} {node.name}"
    if isinstance(node, ChatNode):
        return f"{sc.OP_CHAT} {node.model or 'unknown'}"
    if isinstance(node, CompactionNode):
        return sc.COMPACTION_SPAN
    return type(node).__name__


# --- at start ---------------------------------------------------------------------------------


def mlflow_span_type(node: Node) -> str:
    if isinstance(node, SessionNode | QueryNode | AgentNode):
        return sc.MLFLOW_AGENT
    if isinstance(node, ChatNode):
        return sc.MLFLOW_CHAT_MODEL
    if isinstance(node, ToolNode):
        return sc.MLFLOW_TOOL
    return sc.MLFLOW_UNKNOWN


def start_attributes(node: Node, content: ContentPolicy) -> Attributes:
    """What is known when the node's work starts (the span's creation attributes)."""
    out = {sc.MLFLOW_SPAN_TYPE: mlflow_span_type(node), **_start(node, content)}
    return parts.langfuse_metadata(node, out)


def _start(node: Node, content: ContentPolicy) -> Attributes:
    if isinstance(node, SessionNode):
        out: Attributes = {
            sc.AGENTIC_SESSION_MODEL: node.model,
            sc.AGENTIC_SESSION_INTERACTIVE: node.interactive,
            sc.AGENTIC_SESSION_WORKSPACE: node.workspace,
            **{sc.LANGFUSE_TRACE_METADATA_PREFIX + k: v for k, v in metadata(node).items()},
            **{sc.MLFLOW_TRACE_TAG_PREFIX + k: v for k, v in metadata(node).items()},
            sc.MLFLOW_TRACE_TAG_PREFIX + sc.MLFLOW_TRACE_NAME_TAG: sc.SESSION_SPAN,
        }
        if node.tenancy.user_id:
            out[sc.MLFLOW_TRACE_TAG_PREFIX + "user"] = node.tenancy.user_id
        if node.resume is not None:
            out[sc.AGENTIC_SESSION_RESUMED] = True
            out[sc.AGENTIC_SESSION_RESUMED_FROM_COST_USD] = node.resume.baseline_cost_usd
            if node.resume.previous_trace_id:
                out[sc.AGENTIC_SESSION_RESUMED_FROM_TRACE_ID] = node.resume.previous_trace_id
        if content.capture and node.prompt:
            prompt = content.text(node.prompt)
            out[sc.LANGFUSE_OBSERVATION_INPUT] = out[sc.LANGFUSE_TRACE_INPUT] = prompt
        return out
    if isinstance(node, QueryNode):
        out = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
            sc.GEN_AI_AGENT_NAME: sc.MAIN_AGENT_NAME,
            sc.AGENTIC_SESSION_QUERY_INDEX: node.index,
        }
        if content.capture and node.prompt:
            out[sc.GEN_AI_INPUT_MESSAGES] = content.messages(
                "user", [{"type": "text", "content": node.prompt}]
            )
        return out
    if isinstance(node, AgentNode):
        out = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
            sc.GEN_AI_AGENT_NAME: node.agent_type,
        }
        if content.capture and node.prompt:
            out[sc.GEN_AI_INPUT_MESSAGES] = content.messages(
                "user", [{"type": "text", "content": node.prompt}]
            )
        return out
    if isinstance(node, ToolNode):
        out = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: node.name,
            sc.GEN_AI_TOOL_CALL_ID: node.tool_use_id,
            sc.GEN_AI_TOOL_TYPE: "function",
        }
        if node.requested_by:
            out[sc.AGENTIC_SESSION_TOOL_REQUESTED_BY] = node.requested_by
        return out
    return {}


# --- at the end -------------------------------------------------------------------------------


def end_attributes(node: Node, content: ContentPolicy) -> Attributes:
    """What is known when the node's work has ended (set before the span ends)."""
    return parts.langfuse_metadata(node, _end(node, content))


def _end(node: Node, content: ContentPolicy) -> Attributes:
    if isinstance(node, ChatNode):
        return chat_attributes(node, content)
    if isinstance(node, SessionNode):
        return _session_end(node)
    if isinstance(node, QueryNode):
        out = parts.ledger_totals(node.figures)
        session = node.parent
        if isinstance(session, SessionNode) and session.sdk_session_id:
            out[sc.GEN_AI_CONVERSATION_ID] = session.sdk_session_id
        if node.outcome is not None:
            out[sc.AGENTIC_SESSION_NUM_TURNS] = node.outcome.num_turns
        if content.capture and node.answer:
            out[sc.GEN_AI_OUTPUT_MESSAGES] = content.messages(
                "assistant", [{"type": "text", "content": node.answer}]
            )
        return out
    if isinstance(node, AgentNode):
        out = {sc.GEN_AI_AGENT_NAME: node.agent_type, **parts.totals(node.figures or Figures())}
        if node.agent_id:
            out[sc.GEN_AI_AGENT_ID] = node.agent_id
        if content.capture and node.answer:
            out[sc.GEN_AI_OUTPUT_MESSAGES] = content.messages(
                "assistant", [{"type": "text", "content": node.answer}]
            )
        return out
    if isinstance(node, CompactionNode):
        return _compaction(node.trigger, node.pre_tokens, node.post_tokens)
    if isinstance(node, ToolNode):
        out = {sc.GEN_AI_TOOL_NAME: node.name}
        if node.requested_by:  # known late when the tool's hook came before its request
            out[sc.AGENTIC_SESSION_TOOL_REQUESTED_BY] = node.requested_by
        if node.cli is not None:
            out.update(
                parts.present(
                    {
                        sc.AGENTIC_SESSION_TOOL_DECISION: node.cli.decision,
                        sc.AGENTIC_SESSION_TOOL_DECISION_SOURCE: node.cli.decision_source,
                        sc.AGENTIC_SESSION_TOOL_BLOCKED_MS: node.cli.blocked_ms,
                        sc.AGENTIC_SESSION_TOOL_EXECUTION_MS: node.cli.execution_ms,
                        sc.AGENTIC_SESSION_TOOL_COMMAND_CLASS: node.cli.command_class,
                    }
                )
            )
        if node.result_chars is not None:
            out[sc.AGENTIC_SESSION_TOOL_RESULT_CHARS] = node.result_chars
        if content.capture:
            if node.arguments is not None:
                out[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = content.text(node.arguments)
            if node.result is not None:
                out[sc.GEN_AI_TOOL_CALL_RESULT] = content.text(node.result)
        return out
    return {}


def chat_attributes(node: ChatNode, content: ContentPolicy) -> Attributes:
    """A complete LLM call (the ledger's record): model, usage, exact cost, timing, finish
    reason, content."""
    call = node.call
    model = node.model
    out: Attributes = {
        sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
        sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
        **parts.gen_ai_usage(node.usage),
        sc.LANGFUSE_OBSERVATION_USAGE_DETAILS: json.dumps(langfuse_keys(node.usage.by_kind())),
        sc.AGENTIC_SESSION_COST_SOURCE: call.cost_source if call else "unpriced",
    }
    if node.request_model or model:
        out[sc.GEN_AI_REQUEST_MODEL] = node.request_model or model or ""
    if model:
        out[sc.GEN_AI_RESPONSE_MODEL] = model
    if call is not None and call.cost is not None:
        total = float(call.cost.total)
        out[sc.GEN_AI_USAGE_COST] = total
        out[sc.LANGFUSE_OBSERVATION_COST_DETAILS] = json.dumps(call.cost.details())
        output = call.cost.output if not call.cost.unsplit else 0.0
        out[sc.MLFLOW_LLM_COST] = json.dumps(
            {"input_cost": total - output, "output_cost": output, "total_cost": total}
        )
    if node.message_id:
        out[sc.GEN_AI_RESPONSE_ID] = node.message_id
    if call is not None and call.stop_reason:
        out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = [call.stop_reason]
    if node.first_chunk_ns is not None:
        out[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = max(
            0.0, (node.first_chunk_ns - node.start_ns) / 1e9
        )
        out[sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME] = parts.iso8601(node.first_chunk_ns)
    session = parts.session_of(node)
    if session is not None and session.sdk_session_id:
        out[sc.GEN_AI_CONVERSATION_ID] = session.sdk_session_id
    if isinstance(node.parent, AgentNode):
        out[sc.GEN_AI_AGENT_NAME] = node.parent.agent_type
    if call is not None:
        out[sc.AGENTIC_SESSION_CALL_ORIGIN] = call.origin
        if not call.observed:
            out[sc.AGENTIC_SESSION_CALL_OBSERVED] = False
    if node.cli is not None:
        cli = node.cli
        out.update(
            parts.present(
                {
                    sc.AGENTIC_SESSION_CALL_SOURCE: cli.source,
                    sc.AGENTIC_SESSION_CALL_ATTEMPT: cli.attempt,
                    sc.AGENTIC_SESSION_CALL_TTFT_MS: cli.ttft_ms,
                    sc.AGENTIC_SESSION_CALL_CLI_DURATION_MS: cli.duration_ms,
                    sc.AGENTIC_SESSION_CALL_SPEED: cli.speed,
                    sc.AGENTIC_SESSION_CALL_CONTEXT: cli.context,
                }
            )
        )
    out.update(parts.context(node))
    out.update(parts.cache(node.usage, call.cost.cache_savings if call and call.cost else None))
    if node.consumed_tool_results:
        out[sc.AGENTIC_SESSION_CHAT_TOOL_RESULTS] = [i for i, _ in node.consumed_tool_results]
        out[sc.AGENTIC_SESSION_CHAT_TOOL_RESULT_CHARS] = sum(
            n for _, n in node.consumed_tool_results
        )
    if content.capture:
        if node.input_parts:
            out[sc.GEN_AI_INPUT_MESSAGES] = content.messages("user", node.input_parts)
        if node.output_parts:
            stop = call.stop_reason if call else None
            extra = {"finish_reason": stop} if stop else {}
            out[sc.GEN_AI_OUTPUT_MESSAGES] = content.messages(
                "assistant", node.output_parts, **extra
            )
    return out


def _session_end(node: SessionNode) -> Attributes:
    out = parts.ledger_totals(node.figures)
    out[sc.AGENTIC_SESSION_COMPACTIONS] = node.compactions
    if node.sdk_session_id:
        out[sc.GEN_AI_CONVERSATION_ID] = node.sdk_session_id
    outcome = node.outcome
    if outcome is not None:
        summary = json.dumps(outcome.summary())
        out[sc.LANGFUSE_OBSERVATION_OUTPUT] = out[sc.LANGFUSE_TRACE_OUTPUT] = summary
        out[sc.AGENTIC_SESSION_STATUS] = outcome.status
        out[sc.MLFLOW_TRACE_TAG_PREFIX + "status"] = outcome.status
        out[sc.AGENTIC_SESSION_EXIT_CODE] = outcome.exit_code
        out[sc.AGENTIC_SESSION_NUM_TURNS] = outcome.num_turns
        if outcome.reported_cumulative_usd is not None:
            out[sc.AGENTIC_SESSION_COST_REPORTED_CUMULATIVE_USD] = outcome.reported_cumulative_usd
    return out


def error_attributes(node: Node, content: ContentPolicy) -> tuple[Attributes, str] | None:
    """`error.type` and the status message (redacted, ≤ 1024 chars) of a failed node."""
    if not node.error_type:
        return None
    message = content.redactor.clean(node.error_message or node.error_type)[:1024]
    return {sc.ERROR_TYPE: node.error_type}, message


def event_attributes(event: SpanEvent, content: ContentPolicy) -> tuple[str, Attributes]:
    """A runner event as a span event (name, attributes)."""
    match event:
        case ApiRetry():
            return sc.EVENT_API_RETRY, _retry(event, content)
        case Compacted():
            return sc.EVENT_COMPACTION, _compaction(
                event.trigger, event.pre_tokens, event.post_tokens
            )
        case CliHookRan():
            return sc.EVENT_HOOK, parts.present(
                {
                    sc.AGENTIC_SESSION_HOOK_EVENT: event.hook_event,
                    sc.AGENTIC_SESSION_HOOK_NAME: event.hook_name,
                    sc.AGENTIC_SESSION_HOOK_COUNT: event.hooks,
                    sc.AGENTIC_SESSION_HOOK_SUCCEEDED: event.succeeded,
                    sc.AGENTIC_SESSION_HOOK_BLOCKING: event.blocking,
                    sc.AGENTIC_SESSION_HOOK_DURATION_MS: event.duration_ms,
                }
            )
        case _:
            assert_never(event)


def _compaction(trigger: str, pre_tokens: int | None, post_tokens: int | None) -> Attributes:
    out: Attributes = {sc.AGENTIC_SESSION_COMPACTION_TRIGGER: trigger}
    if pre_tokens is not None:
        out[sc.AGENTIC_SESSION_COMPACTION_PRE_TOKENS] = pre_tokens
    if post_tokens is not None:
        out[sc.AGENTIC_SESSION_COMPACTION_POST_TOKENS] = post_tokens
    return out


def _retry(retry: ApiRetry, content: ContentPolicy) -> Attributes:
    """An API retry: attempt, status, delay, the error (redacted)."""
    out: Attributes = {sc.AGENTIC_SESSION_RETRY_ATTEMPT: retry.attempt}
    if retry.max_retries is not None:
        out[sc.AGENTIC_SESSION_RETRY_MAX] = retry.max_retries
    if retry.delay_ms is not None:
        out[sc.AGENTIC_SESSION_RETRY_DELAY_MS] = retry.delay_ms
    if retry.status is not None:
        out[sc.HTTP_RESPONSE_STATUS_CODE] = retry.status
        out[sc.ERROR_TYPE] = str(retry.status)
    if retry.error:
        out["exception.message"] = content.redactor.clean(retry.error)[:500]
    return out
