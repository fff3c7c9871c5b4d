"""Nodes → OpenTelemetry spans. Lifecycle only: every attribute comes from
runner.otel.attributes.spans.

    agentic-session                     SessionNode   root, or child of TRACEPARENT
     └─ invoke_agent claude-code        QueryNode     totals (Langfuse: agent, not counted)
         ├─ chat <model>                ChatNode      usage + cost (Langfuse: generation)
         └─ execute_tool <name>         ToolNode      (Langfuse: tool)
             └─ invoke_agent <type>     AgentNode     a subagent, with its own chat/tool spans

Times are the tree's (explicit start and end), not "now". The span lives on `node.handle`; the
renderer itself tracks only the spans still open, so `close` can end them if the tree builder
failed mid-way. Used by both paths: the OTel path with the runner's tracer, the Langfuse SDK
path with the Langfuse client's.
"""

from __future__ import annotations

import logging

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

from runner.otel.attributes import parts as parts
from runner.otel.attributes import semconv as sc
from runner.otel.attributes import spans as attrs
from runner.otel.attributes.content import ContentPolicy
from runner.otel.metrics import GenAIMetrics
from runner.otel.scores import ScoreRecorder
from runner.otel.tree.nodes import ChatNode, Node, QueryNode, SessionNode, SpanEvent, ToolNode

log = logging.getLogger("runner.otel")


class SpanRenderer:
    """A tree Renderer that emits spans through `tracer` (and metrics, if given)."""

    def __init__(
        self,
        tracer: Tracer,
        content: ContentPolicy,
        *,
        metrics: GenAIMetrics | None = None,
        parent: Context | None = None,
        attach: bool = True,
        environment: str | None = None,
        scores: ScoreRecorder | None = None,
    ) -> None:
        self.tracer = tracer
        self.scores = scores
        """Outcome scores: events on the spans they judge, then delivery (runner.otel.scores)."""
        self.content = content
        self.metrics = metrics
        self.parent = parent
        self.attach = attach
        self.environment = environment
        self.spans_started = 0
        self.spans_ended = 0
        self.spans_recorded = 0
        """Ended spans the sampler kept: what the exporters should deliver."""
        self._open: dict[str, Span] = {}
        self._common: attrs.Attributes = {}
        self._model = ""
        self._token: object | None = None

    # --- Renderer -------------------------------------------------------------------------------

    def start(self, node: Node) -> None:
        if isinstance(node, SessionNode):
            self._common = attrs.common(node, self.environment)
            self._model = node.model
        span = self.tracer.start_span(
            attrs.span_name(node),
            context=self._parent_context(node),
            kind=SpanKind.CLIENT if isinstance(node, ChatNode) else SpanKind.INTERNAL,
            attributes={**self._common, **attrs.start_attributes(node, self.content)},
            links=self._links(node),
            start_time=node.start_ns,
        )
        node.handle = span
        self._open[node.key] = span
        self.spans_started += 1
        if isinstance(node, SessionNode) and self.attach:
            # Current while the session runs, so the SDK hands TRACEPARENT to the CLI.
            self._token = otel_context.attach(trace.set_span_in_context(span, self.parent))

    def finish(self, node: Node) -> None:
        span = node.handle if isinstance(node.handle, Span) else None
        if span is None or node.key not in self._open:
            self.start(node)  # finished without a start (e.g. a subagent's call): render whole
            span = node.handle
        assert isinstance(span, Span)
        try:
            for link in self._links(node):  # a request that became known after the start
                span.add_link(link.context, link.attributes)
            span.update_name(attrs.span_name(node))
            span.set_attributes(attrs.end_attributes(node, self.content))
            failed = attrs.error_attributes(node, self.content)
            if failed is not None:
                error, message = failed
                span.set_attributes(error)
                span.set_status(Status(StatusCode.ERROR, message))
            self._record_metrics(node)
            self._record_scores(node, span)
        finally:
            self._end(node.key, span, node.end_ns or node.start_ns)
            if isinstance(node, SessionNode):
                self._detach()

    def event(self, node: Node, event: SpanEvent) -> None:
        span = node.handle
        if isinstance(span, Span) and node.key in self._open:
            name, attributes = attrs.event_attributes(event, self.content)
            span.add_event(name, attributes, timestamp=event.at_ns)

    def close(self, at_ns: int) -> None:
        """Safety net: a span the builder failed to finish is ended here, marked as such."""
        for key, span in list(self._open.items()):
            try:
                span.set_attribute(sc.ERROR_TYPE, "unfinished")
                span.set_status(Status(StatusCode.ERROR, "not finished when the session ended"))
            finally:
                self._end(key, span, at_ns)
        self._detach()

    # --- spans ------------------------------------------------------------------------------------

    def _parent_context(self, node: Node) -> Context | None:
        parent = node.parent.handle if node.parent is not None else None
        if isinstance(parent, Span):
            return trace.set_span_in_context(parent, self.parent)
        return self.parent

    def _links(self, node: Node) -> list[Link]:
        """A tool span links to the chat span whose response asked for it; a call Claude Code
        did not stream, to the compaction it summarised; a resumed run's root, to the earlier
        run's root (at its start only)."""
        target, kind = None, ""
        if isinstance(node, ToolNode) and node.requested_by_chat is not None:
            target, kind = node.requested_by_chat.handle, "requested_by"
            node.requested_by_chat = None  # the link is made; let the call's node go
        elif isinstance(node, ChatNode) and node.compaction is not None:
            target, kind = node.compaction.handle, "compaction"
            node.compaction = None
        elif isinstance(node, SessionNode) and node.resume is not None and node.handle is None:
            return resumed_from(node.resume.previous_trace_id, node.resume.previous_span_id)
        if isinstance(target, Span):
            return [Link(target.get_span_context(), {"agentic_session.link": kind})]
        return []

    def _end(self, key: str, span: Span, end_ns: int) -> None:
        self._open.pop(key, None)
        self.spans_recorded += span.is_recording()
        span.end(end_time=end_ns)
        self.spans_ended += 1

    def _detach(self) -> None:
        if self._token is not None:
            try:
                otel_context.detach(self._token)  # type: ignore[arg-type]
            except Exception:
                log.debug("could not detach the session context", exc_info=True)
            self._token = None

    def _record_scores(self, node: Node, span: Span) -> None:
        if self.scores is None:
            return
        try:
            self.scores.finished(node, span)
        except Exception:  # a score never costs the span
            log.debug("scores failed", exc_info=True)

    def _record_metrics(self, node: Node) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        seconds = max(0.0, ((node.end_ns or node.start_ns) - node.start_ns) / 1e9)
        span = node.handle
        # The span's context: the SDK keeps the trace id as the measurement's exemplar.
        context = trace.set_span_in_context(span) if isinstance(span, Span) else None
        if isinstance(node, ChatNode):
            usage = node.usage
            first = node.first_chunk_ns
            metrics.record_chat(
                self._metric_attributes(sc.OP_CHAT, node),
                input_tokens=usage.total_input_tokens,
                output_tokens=usage.output_tokens,
                duration_s=seconds,
                cost_usd=node.call.cost_usd if node.call else 0.0,
                context_utilization=parts.context_utilization(node),
                cache_read_tokens=usage.cache_read_input_tokens,
                cache_write_tokens=usage.cache_creation_input_tokens,
                time_to_first_chunk_s=(
                    max(0.0, (first - node.start_ns) / 1e9) if first is not None else None
                ),
                cache_savings_usd=(
                    node.call.cost.cache_savings if node.call and node.call.cost else 0.0
                ),
                context=context,
            )
        elif isinstance(node, QueryNode):
            metrics.record_duration(
                self._metric_attributes(sc.OP_INVOKE_AGENT, None), seconds, context
            )
        elif isinstance(node, ToolNode):
            metrics.record_tool(
                self._metric_attributes(sc.OP_EXECUTE_TOOL, None),
                tool=node.name,
                outcome=node.error_type or "success",
                decision=node.cli.decision if node.cli is not None else None,
                duration_s=seconds,
                context=context,
            )
        elif isinstance(node, SessionNode):
            status = node.outcome.status if node.outcome is not None else "unknown"
            metrics.record_session(self._metric_attributes(None, None), status, context)

    def _metric_attributes(self, operation: str | None, chat: ChatNode | None) -> attrs.Attributes:
        """Low cardinality only: operation, provider, models, error, tenancy (and the user,
        when RUNNER_METRICS_USER_LABEL asks for it); never a session or trace id."""
        out: attrs.Attributes = {sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_ANTHROPIC}
        if operation is not None:
            out[sc.GEN_AI_OPERATION_NAME] = operation
        model = (chat.request_model if chat else None) or self._model
        if model:
            out[sc.GEN_AI_REQUEST_MODEL] = model
        if chat is not None and chat.response_model:
            out[sc.GEN_AI_RESPONSE_MODEL] = chat.response_model
        if chat is not None and chat.error_type:
            out[sc.ERROR_TYPE] = chat.error_type
        for key in (sc.AGENTIC_SESSION_NAMESPACE, sc.AGENTIC_SESSION_PROJECT):
            if key in self._common:
                out[key] = self._common[key]
        if self.metrics is not None and self.metrics.user_label and sc.USER_ID in self._common:
            out[sc.USER_ID] = self._common[sc.USER_ID]
        return out


def resumed_from(trace_id: str | None, span_id: str | None) -> list[Link]:
    """The root's link to the earlier run's root (a resumed session). Without its span id the
    link names the trace alone (span id 0; kept for its attributes)."""
    if not trace_id:
        return []
    from opentelemetry.trace import SpanContext, TraceFlags

    context = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16) if span_id else 0,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    attributes = {"agentic_session.link": sc.LINK_RESUMED_FROM}
    return [Link(context, {**attributes, sc.AGENTIC_SESSION_RESUMED_FROM_TRACE_ID: trace_id})]
