"""Scores on the trace: each outcome score as a `gen_ai.evaluation.result` event on the span it
judges (a query's on its `invoke_agent` span, the session's on the root), then handed to
delivery (runner.otel.export.score_delivery) with that span's ids.

The span renderer calls `finished(node, span)` as each node ends. Tool failures and permission
denials are counted from the tool nodes as they end, per query (a tool's query is its nearest
query ancestor). Feedback from stdin judges a query whose span has already ended: its event goes
on the session's span (still open), with the query's number, and its score on the query's
observation in Langfuse and its span in MLflow.
"""

from __future__ import annotations

from opentelemetry.trace import Span

from runner.otel.attributes import semconv as sc
from runner.otel.export.score_delivery import ScoreDelivery
from runner.otel.tree.nodes import Node, QueryNode, SessionNode, ToolNode
from runner.scores import Score, ToolCounts, query_scores, session_scores

PERMISSION_MARKERS = (
    "requested permissions",
    "haven't granted",
    "needs approval",
    "permission to use",
    "permission denied",
)
"""How Claude Code words a tool call it was not permitted to run (its tool_result error; seen:
"Claude requested permissions to use Bash, but you haven't granted it yet.", and in CLI 2.1.33x
"touch in '…' needs approval. … Claude Code asks before a shell command creates, changes or
removes files there."). With RUNNER_CLI_TELEMETRY the CLI's own decision (`reject`) decides."""


def evaluation_attributes(score: Score, explanation: str | None) -> dict[str, str | float | int]:
    """The `gen_ai.evaluation.result` event's attributes for one score."""
    out: dict[str, str | float | int] = {
        sc.GEN_AI_EVALUATION_NAME: score.name,
        sc.AGENTIC_SESSION_SCORE_DATA_TYPE: score.data_type,
        sc.AGENTIC_SESSION_SCORE_SOURCE: score.source,
    }
    if score.number is not None:
        out[sc.GEN_AI_EVALUATION_SCORE_VALUE] = score.number
    if score.label is not None:
        out[sc.GEN_AI_EVALUATION_SCORE_LABEL] = score.label
    if explanation:
        out[sc.GEN_AI_EVALUATION_EXPLANATION] = explanation
    if score.query is not None:
        out[sc.AGENTIC_SESSION_QUERY_INDEX] = score.query
    return out


def is_permission_denial(tool: ToolNode) -> bool:
    decision = (tool.cli.decision or "") if tool.cli is not None else ""
    if decision.lower() in ("reject", "deny", "denied"):
        return True
    message = (tool.error_message or "").lower()
    return any(marker in message for marker in PERMISSION_MARKERS)


class ScoreRecorder:
    """Outcome scores from the nodes, onto their spans and into delivery."""

    def __init__(self, delivery: ScoreDelivery) -> None:
        self.delivery = delivery
        self._failures: dict[int, int] = {}
        self._denials: dict[int, int] = {}

    def finished(self, node: Node, span: Span) -> None:
        """`node` ends now on `span` (still open). Never raises into the renderer's way: the
        renderer calls it inside its own guard."""
        if isinstance(node, ToolNode):
            self._count(node)
        elif isinstance(node, QueryNode):
            trace_id, span_id = _ids(span)
            self.delivery.query_span(node.index, trace_id, span_id)
            if node.outcome is not None:
                counts = ToolCounts(self._failures.get(node.index, 0))
                for score in query_scores(node.outcome, counts):
                    self._record(score, span, node.end_ns, observation=span_id)
        elif isinstance(node, SessionNode):
            trace_id, _ = _ids(span)
            for score, at_ns in self.delivery.session_feedback():
                span.add_event(
                    sc.GEN_AI_EVALUATION_RESULT,
                    evaluation_attributes(score, self.delivery.comment(score)),
                    timestamp=at_ns,
                )
            if node.outcome is not None:
                counts = ToolCounts(sum(self._failures.values()), sum(self._denials.values()))
                for score in session_scores(node.outcome, counts):
                    self._record(score, span, node.end_ns, observation=None)

    def _record(self, score: Score, span: Span, at_ns: int | None, observation: str | None) -> None:
        explanation = self.delivery.comment(score)
        span.add_event(
            sc.GEN_AI_EVALUATION_RESULT, evaluation_attributes(score, explanation), timestamp=at_ns
        )
        if span.is_recording():
            trace_id, _ = _ids(span)
            self.delivery.judged(score, trace_id, observation)

    def _count(self, tool: ToolNode) -> None:
        if tool.error_type != "tool_error":
            return
        query = _query_of(tool)
        self._failures[query] = self._failures.get(query, 0) + 1
        if is_permission_denial(tool):
            self._denials[query] = self._denials.get(query, 0) + 1


def _query_of(node: Node) -> int:
    parent = node.parent
    while parent is not None and not isinstance(parent, QueryNode):
        parent = parent.parent
    return parent.index if isinstance(parent, QueryNode) else 0


def _ids(span: Span) -> tuple[str, str]:
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"
