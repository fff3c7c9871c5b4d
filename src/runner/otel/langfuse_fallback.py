"""The Langfuse-native path (TELEMETRY_MODE=langfuse-sdk): the same session model rendered
through the `langfuse` Python SDK (5.x) instead of plain OTLP.

Isolation: the Langfuse client gets a TracerProvider of its own, never the global one, so no span
is exported twice and the SDK's export filter never sees (or drops) a span of the OTel path.
`langfuse` is imported only here, only when the mode selects it (its import costs ~0.5 s).

Observations are created on the client's own tracer with the model's explicit start times and
wrapped in the SDK's observation classes, which set Langfuse's attributes (type, model,
usage_details, cost_details, level, input/output); `start_observation()` would stamp "now",
and chat nodes reach a renderer only when their query ends (after cost reconciliation).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from runner.otel import semconv as sc
from runner.otel.content import ContentPolicy
from runner.otel.model import SessionModel
from runner.otel.nodes import AgentNode, ChatNode, Node, QueryNode, SessionNode, ToolNode
from runner.otel.providers import build_resource
from runner.otel.settings import TelemetrySettings
from runner.types import SessionObserver

log = logging.getLogger("runner.otel")


def usage_details(node: ChatNode) -> dict[str, int]:
    """The usage keys Langfuse's Anthropic model prices use (`input` excludes cache tokens)."""
    return {
        "input": node.usage.input_tokens,
        "output": node.usage.output_tokens,
        "cache_read_input_tokens": node.usage.cache_read_input_tokens,
        "cache_creation_input_tokens": node.usage.cache_creation_input_tokens,
    }


class LangfuseRenderer:
    """A model Renderer that emits Langfuse observations through the SDK."""

    def __init__(self, client: Any, content: ContentPolicy) -> None:
        from langfuse import (
            LangfuseAgent,
            LangfuseGeneration,
            LangfuseSpan,
            LangfuseTool,
            propagate_attributes,
        )

        self.client = client
        self.content = content
        self._classes = {
            "span": LangfuseSpan,
            "agent": LangfuseAgent,
            "tool": LangfuseTool,
            "generation": LangfuseGeneration,
        }
        self._propagate = propagate_attributes
        self._tracer = getattr(client, "_otel_tracer", None)
        self._observations: dict[str, Any] = {}
        self._trace_attributes: dict[str, Any] = {}
        self._propagation: Any = None
        self.spans_started = 0
        self.spans_ended = 0

    # --- Renderer ---------------------------------------------------------------------------

    def start(self, node: Node) -> None:
        if isinstance(node, SessionNode):
            self._session_started(node)
        elif isinstance(node, QueryNode):
            self._open(
                node,
                "agent",
                f"{sc.OP_INVOKE_AGENT} {sc.MAIN_AGENT_NAME}",
                input=self._content(node.prompt) if node.prompt else None,
            )
        elif isinstance(node, AgentNode):
            self._open(node, "agent", f"{sc.OP_INVOKE_AGENT} {node.agent_type}")
        elif isinstance(node, ToolNode):
            self._open(
                node,
                "tool",
                f"{sc.OP_EXECUTE_TOOL} {node.name}",
                input=self._content(node.arguments),
            )

    def finish(self, node: Node) -> None:
        if isinstance(node, ChatNode):
            self._chat(node)
            return
        observation = self._observations.get(node.key)
        if observation is None:
            self.start(node)
            observation = self._observations.get(node.key)
            if observation is None:
                return
        update: dict[str, Any] = {}
        if isinstance(node, SessionNode) and node.outcome is not None:
            update["output"] = node.outcome.summary()
        elif isinstance(node, QueryNode):
            update["metadata"] = {
                "usage": node.usage.as_dict(),
                "cost_usd": node.cost_usd,
                "num_turns": node.outcome.num_turns if node.outcome else 0,
            }
        elif isinstance(node, ToolNode) and node.result is not None:
            update["output"] = self._content(node.result)
        elif isinstance(node, AgentNode):
            observation._otel_span.update_name(f"{sc.OP_INVOKE_AGENT} {node.agent_type}")
        self._end(node, observation, update)
        if isinstance(node, SessionNode):
            self._session_finished()

    # --- observations ---------------------------------------------------------------------------

    def _content(self, value: object) -> str | None:
        if not self.content.capture or value is None:
            return None
        return self.content.text(value)

    def _open(self, node: Node, as_type: str, name: str, **fields: Any) -> Any:
        parent = self._observations.get(node.parent.key) if node.parent else None
        base = otel_context.get_current()
        context = trace.set_span_in_context(parent._otel_span, base) if parent else base
        if self._tracer is None:  # an SDK without `_otel_tracer`: start times become "now"
            starter = parent if parent is not None else self.client
            observation = starter.start_observation(name=name, as_type=as_type, **fields)
        else:
            span = self._tracer.start_span(name, context=context, start_time=node.start_ns)
            observation = self._classes[as_type](
                otel_span=span, langfuse_client=self.client, **fields
            )
        observation._otel_span.set_attributes(self._trace_attributes)
        self._observations[node.key] = observation
        self.spans_started += 1
        return observation

    def _end(self, node: Node, observation: Any, update: dict[str, Any]) -> None:
        if node.error_type:
            update["level"] = "ERROR"
            update["status_message"] = self.content.redactor.clean(
                node.error_message or node.error_type
            )[:1024]
            observation._otel_span.set_attribute(sc.ERROR_TYPE, node.error_type)
            observation._otel_span.set_status(
                trace.Status(trace.StatusCode.ERROR, update["status_message"])
            )
        update = {k: v for k, v in update.items() if v is not None}
        if update:
            observation.update(**update)
        observation.end(end_time=max(node.end_ns or node.start_ns, node.start_ns))
        self._observations.pop(node.key, None)
        self.spans_ended += 1

    def _chat(self, node: ChatNode) -> None:
        model = node.response_model or node.request_model
        fields: dict[str, Any] = {
            "model": model,
            "usage_details": usage_details(node),
            "metadata": {"message_id": node.message_id, "cost_source": node.cost_source},
        }
        if node.cost_usd > 0:  # as on the OTel path, where Langfuse ignores a zero cost
            fields["cost_details"] = {"total": float(node.cost_usd)}
        if node.first_chunk_ns is not None:
            fields["completion_start_time"] = datetime.fromtimestamp(node.first_chunk_ns / 1e9, UTC)
        if self.content.capture:
            if node.input_parts:
                fields["input"] = json.loads(self.content.messages("user", node.input_parts))
            if node.output_parts:
                fields["output"] = json.loads(self.content.messages("assistant", node.output_parts))
        observation = self._open(node, "generation", f"{sc.OP_CHAT} {model}", **fields)
        self._end(node, observation, {})

    def _session_started(self, node: SessionNode) -> None:
        tenancy = node.tenancy
        self._trace_attributes = {
            sc.LANGFUSE_SESSION_ID: node.session_id,
            sc.SESSION_ID: node.session_id,
            sc.LANGFUSE_TRACE_NAME: sc.SESSION_SPAN,
            sc.LANGFUSE_TRACE_TAGS: node.tags,
        }
        if tenancy.user_id:
            self._trace_attributes[sc.LANGFUSE_USER_ID] = tenancy.user_id
            self._trace_attributes[sc.USER_ID] = tenancy.user_id
        try:
            self._propagation = self._propagate(
                session_id=node.session_id,
                user_id=tenancy.user_id,
                tags=node.tags,
                metadata=node.metadata,
                trace_name=sc.SESSION_SPAN,
            )
            self._propagation.__enter__()
        except Exception:
            self._propagation = None
            log.debug("propagate_attributes failed", exc_info=True)
        self._open(
            node, "span", sc.SESSION_SPAN, input=self._content(node.prompt), metadata=node.metadata
        )

    def _session_finished(self) -> None:
        if self._propagation is not None:
            try:
                self._propagation.__exit__(None, None, None)
            except Exception:
                log.debug("could not leave propagate_attributes", exc_info=True)
            self._propagation = None


def build_langfuse_observer(
    settings: TelemetrySettings, environ: Mapping[str, str]
) -> tuple[SessionObserver, Callable[[], None]]:
    """A SessionModel rendered through the Langfuse SDK, and its bounded shutdown."""
    from langfuse import Langfuse

    target = settings.langfuse
    assert target is not None
    provider = TracerProvider(resource=build_resource(environ), shutdown_on_exit=False)
    client = Langfuse(
        public_key=target.public_key,
        secret_key=target.secret_key,
        base_url=target.base_url,
        tracer_provider=provider,
        environment=environ.get("LANGFUSE_TRACING_ENVIRONMENT") or None,
    )
    content = ContentPolicy.from_env(environ)
    renderer = LangfuseRenderer(client, content)
    model = SessionModel(renderer, capture_content=content.capture)

    def shutdown() -> None:
        client.shutdown()  # flushes and removes the SDK's own exit hook
        provider.shutdown()

    log.info("telemetry: traces → %s (langfuse SDK)", target.traces_endpoint)
    return model, shutdown
