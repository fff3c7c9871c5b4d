"""Render the session model as OpenTelemetry spans (the OTel path).

    agentic-session                     SessionNode   root, or child of TRACEPARENT
     └─ invoke_agent claude-code        QueryNode     totals (Langfuse: agent, not counted)
         ├─ chat <model>                ChatNode      usage + cost (Langfuse: generation)
         └─ execute_tool <name>         ToolNode      (Langfuse: tool)
             └─ invoke_agent <type>     AgentNode     a subagent, with its own chat/tool spans

Session, user, trace name, tags and tenancy go on every span: Langfuse's real-time ingestion keeps
only a span's own attributes. Times are the model's (explicit start/end), not "now".
"""

from __future__ import annotations

import json
import logging
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from runner.otel import semconv as sc
from runner.otel.content import ContentPolicy
from runner.otel.metrics import GenAIMetrics
from runner.otel.nodes import AgentNode, ChatNode, Node, QueryNode, SessionNode, ToolNode

log = logging.getLogger("runner.otel")
Attributes = dict[str, AttributeValue]


class SpanRenderer:
    """A model Renderer that emits spans through `tracer` (and metrics, if given)."""

    def __init__(
        self,
        tracer: Tracer,
        content: ContentPolicy,
        *,
        metrics: GenAIMetrics | None = None,
        parent: Context | None = None,
        attach: bool = True,
    ) -> None:
        self.tracer = tracer
        self.content = content
        self.metrics = metrics
        self.parent = parent
        self.attach = attach
        self.spans_started = 0
        self.spans_ended = 0
        self.spans_recorded = 0
        """Ended spans the sampler kept: what the exporters should deliver."""
        self._spans: dict[str, Span] = {}
        self._contexts: dict[str, Context] = {}
        self._common: Attributes = {}
        self._tenancy: Attributes = {}
        self._token: object | None = None
        self._common_model = ""

    # --- Renderer ----------------------------------------------------------------------------

    def start(self, node: Node) -> None:
        if isinstance(node, SessionNode):
            self._session_started(node)
            return
        name, attributes = self._describe(node)
        self._open(node, name, attributes)

    def finish(self, node: Node) -> None:
        if isinstance(node, ChatNode):
            self._chat(node)
            return
        span = self._spans.get(node.key)
        if span is None:  # finished without a start (tolerated): render it whole
            name, attributes = self._describe(node)
            span = self._open(node, name, attributes)
        if isinstance(node, SessionNode):
            self._session_finished(node, span)
        elif isinstance(node, QueryNode):
            self._query_finished(node, span)
        elif isinstance(node, ToolNode):
            self._tool_finished(node, span)
        elif isinstance(node, AgentNode):
            span.update_name(f"{sc.OP_INVOKE_AGENT} {node.agent_type}")
            span.set_attribute(sc.GEN_AI_AGENT_NAME, node.agent_type)
            if node.agent_id:
                span.set_attribute(sc.GEN_AI_AGENT_ID, node.agent_id)
        self._close(node, span)

    # --- spans ---------------------------------------------------------------------------------

    def _parent_context(self, node: Node) -> Context | None:
        if node.parent is None:
            return self.parent
        return self._contexts.get(node.parent.key, self.parent)

    def _open(self, node: Node, name: str, attributes: Attributes) -> Span:
        span = self.tracer.start_span(
            name,
            context=self._parent_context(node),
            kind=SpanKind.CLIENT if isinstance(node, ChatNode) else SpanKind.INTERNAL,
            attributes={**self._common, **attributes},
            start_time=node.start_ns,
        )
        self.spans_started += 1
        self._spans[node.key] = span
        self._contexts[node.key] = trace.set_span_in_context(span, self.parent)
        return span

    def _close(self, node: Node, span: Span) -> None:
        if node.error_type:
            span.set_attribute(sc.ERROR_TYPE, node.error_type)
            message = self.content.redactor.clean(node.error_message or node.error_type)[:1024]
            span.set_status(Status(StatusCode.ERROR, message))
        self.spans_recorded += span.is_recording()
        span.end(end_time=max(node.end_ns or node.start_ns, node.start_ns))
        self.spans_ended += 1
        self._spans.pop(node.key, None)

    def _describe(self, node: Node) -> tuple[str, Attributes]:
        if isinstance(node, QueryNode):
            attributes: Attributes = {
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
                sc.GEN_AI_AGENT_NAME: sc.MAIN_AGENT_NAME,
                sc.AGENTIC_SESSION_QUERY_INDEX: node.index,
            }
            model = self._common_model
            if model:
                attributes[sc.GEN_AI_REQUEST_MODEL] = model
            if self.content.capture and node.prompt:
                attributes[sc.GEN_AI_INPUT_MESSAGES] = self.content.messages(
                    "user", [{"type": "text", "content": node.prompt}]
                )
            return f"{sc.OP_INVOKE_AGENT} {sc.MAIN_AGENT_NAME}", attributes
        if isinstance(node, AgentNode):
            return f"{sc.OP_INVOKE_AGENT} {node.agent_type}", {
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
                sc.GEN_AI_AGENT_NAME: node.agent_type,
            }
        if isinstance(node, ToolNode):
            attributes = {
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                sc.GEN_AI_TOOL_NAME: node.name,
                sc.GEN_AI_TOOL_CALL_ID: node.tool_use_id,
                sc.GEN_AI_TOOL_TYPE: "function",
            }
            if self.content.capture and node.arguments is not None:
                attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = self.content.text(node.arguments)
            return f"{sc.OP_EXECUTE_TOOL} {node.name}", attributes
        return type(node).__name__, {}

    def _session_started(self, node: SessionNode) -> None:
        tenancy = node.tenancy
        common: Attributes = {
            sc.LANGFUSE_SESSION_ID: node.session_id,
            sc.SESSION_ID: node.session_id,
            sc.LANGFUSE_TRACE_NAME: sc.SESSION_SPAN,
            sc.LANGFUSE_TRACE_TAGS: node.tags,
        }
        if tenancy.user_id:
            common[sc.USER_ID] = common[sc.LANGFUSE_USER_ID] = tenancy.user_id
        if tenancy.namespace:
            common[sc.AGENTIC_SESSION_NAMESPACE] = tenancy.namespace
        if tenancy.project:
            common[sc.AGENTIC_SESSION_PROJECT] = tenancy.project
        self._common = common
        self._common_model = node.model
        attributes: Attributes = {
            sc.AGENTIC_SESSION_MODEL: node.model,
            sc.AGENTIC_SESSION_INTERACTIVE: node.interactive,
            sc.AGENTIC_SESSION_WORKSPACE: node.workspace,
            **{sc.LANGFUSE_TRACE_METADATA_PREFIX + k: v for k, v in node.metadata.items()},
        }
        if self.content.capture and node.prompt:
            attributes[sc.LANGFUSE_TRACE_INPUT] = self.content.text(node.prompt)
        self._open(node, sc.SESSION_SPAN, attributes)
        if self.attach:
            # Current while the session runs, so the SDK hands TRACEPARENT to the CLI.
            self._token = otel_context.attach(self._contexts[node.key])

    def _session_finished(self, node: SessionNode, span: Span) -> None:
        self._end_leftovers(node)
        outcome = node.outcome
        if node.sdk_session_id:
            span.set_attribute(sc.GEN_AI_CONVERSATION_ID, node.sdk_session_id)
        if outcome is not None:
            span.set_attribute(sc.LANGFUSE_TRACE_OUTPUT, json.dumps(outcome.summary()))
            span.set_attribute(sc.AGENTIC_SESSION_STATUS, outcome.status)
            span.set_attribute(sc.AGENTIC_SESSION_EXIT_CODE, outcome.exit_code)
            span.set_attribute(sc.AGENTIC_SESSION_NUM_TURNS, outcome.num_turns)
            span.set_attribute(sc.GEN_AI_USAGE_COST, float(outcome.cost_usd))
        if self._token is not None:
            try:
                otel_context.detach(self._token)  # type: ignore[arg-type]
            except Exception:
                log.debug("could not detach the session context", exc_info=True)
            self._token = None

    def _end_leftovers(self, session: SessionNode) -> None:
        """Safety net: a span the model failed to finish is ended here, marked as such."""
        for key, span in list(self._spans.items()):
            if key == session.key:
                continue
            span.set_attribute(sc.ERROR_TYPE, "unfinished")
            span.set_status(Status(StatusCode.ERROR, "not finished when the session ended"))
            self.spans_recorded += span.is_recording()
            span.end(end_time=session.end_ns)
            self.spans_ended += 1
            self._spans.pop(key, None)

    def _query_finished(self, node: QueryNode, span: Span) -> None:
        outcome = node.outcome
        span.set_attributes(_usage_attributes(node.usage))
        span.set_attribute(sc.GEN_AI_USAGE_COST, float(node.cost_usd))
        session = node.parent
        if isinstance(session, SessionNode) and session.sdk_session_id:
            span.set_attribute(sc.GEN_AI_CONVERSATION_ID, session.sdk_session_id)
        if outcome is not None:
            span.set_attribute(sc.AGENTIC_SESSION_NUM_TURNS, outcome.num_turns)
        if self.metrics is not None:
            self.metrics.record_duration(
                self._metric_attributes(sc.OP_INVOKE_AGENT, None), _seconds(node)
            )

    def _tool_finished(self, node: ToolNode, span: Span) -> None:
        span.update_name(f"{sc.OP_EXECUTE_TOOL} {node.name}")
        span.set_attribute(sc.GEN_AI_TOOL_NAME, node.name)
        if self.content.capture:
            if node.arguments is not None:
                span.set_attribute(sc.GEN_AI_TOOL_CALL_ARGUMENTS, self.content.text(node.arguments))
            if node.result is not None:
                span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, self.content.text(node.result))
        if self.metrics is not None:
            self.metrics.record_duration(
                self._metric_attributes(sc.OP_EXECUTE_TOOL, None), _seconds(node)
            )

    def _chat(self, node: ChatNode) -> None:
        model = node.response_model or node.request_model or self._common_model
        attributes: Attributes = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
            sc.GEN_AI_REQUEST_MODEL: node.request_model or model,
            **_usage_attributes(node.usage),
            sc.GEN_AI_USAGE_COST: float(node.cost_usd),
            sc.AGENTIC_SESSION_COST_SOURCE: node.cost_source,
        }
        if node.response_model:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = node.response_model
        if node.message_id:
            attributes[sc.GEN_AI_RESPONSE_ID] = node.message_id
        if node.stop_reason:
            attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = [node.stop_reason]
        if node.first_chunk_ns is not None:
            attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = max(
                0.0, (node.first_chunk_ns - node.start_ns) / 1e9
            )
        session = _session_of(node)
        if session is not None and session.sdk_session_id:
            attributes[sc.GEN_AI_CONVERSATION_ID] = session.sdk_session_id
        agent = node.parent
        if isinstance(agent, AgentNode):
            attributes[sc.GEN_AI_AGENT_NAME] = agent.agent_type
        if self.content.capture:
            if node.input_parts:
                attributes[sc.GEN_AI_INPUT_MESSAGES] = self.content.messages(
                    "user", node.input_parts
                )
            if node.output_parts:
                extra = {"finish_reason": node.stop_reason} if node.stop_reason else {}
                attributes[sc.GEN_AI_OUTPUT_MESSAGES] = self.content.messages(
                    "assistant", node.output_parts, **extra
                )
        span = self._open(node, f"{sc.OP_CHAT} {model}", attributes)
        self._close(node, span)
        if self.metrics is not None:
            self.metrics.record_chat(
                self._metric_attributes(sc.OP_CHAT, node),
                input_tokens=node.usage.total_input_tokens,
                output_tokens=node.usage.output_tokens,
                duration_s=_seconds(node),
                cost_usd=node.cost_usd,
            )

    def _metric_attributes(self, operation: str, chat: ChatNode | None) -> Attributes:
        attributes: Attributes = {
            sc.GEN_AI_OPERATION_NAME: operation,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC,
        }
        model = (chat.request_model if chat else None) or self._common_model
        if model:
            attributes[sc.GEN_AI_REQUEST_MODEL] = model
        if chat is not None and chat.response_model:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = chat.response_model
        if chat is not None and chat.error_type:
            attributes[sc.ERROR_TYPE] = chat.error_type
        for key in (sc.AGENTIC_SESSION_NAMESPACE, sc.AGENTIC_SESSION_PROJECT):
            if key in self._common:
                attributes[key] = self._common[key]
        return attributes


def _usage_attributes(usage: Any) -> Attributes:
    return {
        sc.GEN_AI_USAGE_INPUT_TOKENS: usage.total_input_tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cache_read_input_tokens,
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: usage.cache_creation_input_tokens,
    }


def _seconds(node: Node) -> float:
    return max(0.0, ((node.end_ns or node.start_ns) - node.start_ns) / 1e9)


def _session_of(node: Node) -> SessionNode | None:
    current: Node | None = node
    while current is not None and not isinstance(current, SessionNode):
        current = current.parent
    return current
