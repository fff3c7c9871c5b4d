"""Read traces back from a real MLflow tracking server with MLflow's own client, as JSON.

Runs with the MLflow venv's python (scripts/mlflow-server), never in the runner's venv:

    <mlflow-env>/bin/python -P tests/mlflow/readback.py REQUEST_JSON

REQUEST_JSON: {"tracking_uri": "http://127.0.0.1:PORT", "experiment_id": "1",
               "trace_ids": [...] (optional: all traces of the experiment otherwise),
               "filters": ["span.type = 'TOOL'", ...] (optional)}

Prints one JSON object: `traces` (per trace: what MlflowClient.get_trace returns — info,
metadata, tags, token usage, cost, previews — and every span with its stored type, attributes,
inputs, outputs and per-span cost), `searches` (the trace ids each filter finds through
MlflowClient.search_traces) and `span_cost_by_model` / `span_cost_total` (the figures MLflow's
UI shows in its cost breakdown: SUM(total_cost) over spans, by span_model_name, from the
server's trace-metrics API `POST /api/3.0/mlflow/traces/metrics`, view SPANS).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
from mlflow.tracing.constant import SpanAttributeKey, SpanMetricDimensionKey, SpanMetricKey

from mlflow import MlflowClient


def _plain(value: Any) -> Any:
    """JSON-safe: MLflow values are JSON already, except a few objects (enums, dataclasses)."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def _span(span: Any) -> dict[str, Any]:
    attributes = dict(span.attributes)
    return {
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "name": span.name,
        "span_type": span.span_type,
        "status": str(span.status.status_code),
        "status_message": span.status.description,
        "attributes": {k: _plain(v) for k, v in attributes.items()},
        "inputs": _plain(span.inputs),
        "outputs": _plain(span.outputs),
        "model": attributes.get(SpanAttributeKey.MODEL),
        "token_usage": attributes.get(SpanAttributeKey.CHAT_USAGE),
        "cost": attributes.get(SpanAttributeKey.LLM_COST),
        "events": [e.name for e in span.events],
    }


def _trace(client: MlflowClient, trace_id: str) -> dict[str, Any]:
    trace = client.get_trace(trace_id, display=False)
    info = trace.info
    metadata = dict(info.trace_metadata)
    return {
        "trace_id": info.trace_id,
        "name": info.tags.get("mlflow.traceName"),
        "state": str(info.state),
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "session": metadata.get("mlflow.trace.session"),
        "user": metadata.get("mlflow.trace.user"),
        "token_usage": info.token_usage,
        "cost": info.cost,
        "tags": dict(info.tags),
        "metadata": metadata,
        "spans": [_span(s) for s in trace.data.spans],
        "assessments": [_assessment(a) for a in info.assessments],
    }


def _assessment(assessment: Any) -> dict[str, Any]:
    """An assessment as MlflowClient reads it (info.assessments: Feedback objects)."""
    feedback = getattr(assessment, "feedback", None)
    return {
        "name": assessment.name,
        "value": _plain(feedback.value if feedback is not None else None),
        "source_type": str(assessment.source.source_type),
        "source_id": assessment.source.source_id,
        "rationale": assessment.rationale,
        "metadata": dict(assessment.metadata or {}),
        "span_id": assessment.span_id,
        "valid": assessment.valid,
    }


def _cost_by_model(client: MlflowClient, experiment_id: str) -> dict[str, float]:
    """The UI's cost breakdown: SUM(spans.total_cost) grouped by the span's model name."""
    store = client._tracking_client.store
    points = store.query_trace_metrics(
        experiment_ids=[experiment_id],
        view_type=MetricViewType.SPANS,
        metric_name=SpanMetricKey.TOTAL_COST,
        aggregations=[MetricAggregation(aggregation_type=AggregationType.SUM)],
        dimensions=[SpanMetricDimensionKey.SPAN_MODEL_NAME],
    )
    out: dict[str, float] = {}
    for point in points:
        model = point.dimensions.get(SpanMetricDimensionKey.SPAN_MODEL_NAME) or ""
        out[str(model)] = float(point.values.get("SUM") or 0.0)
    return out


def main(request: dict[str, Any]) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=request["tracking_uri"])
    experiment_id = str(request["experiment_id"])
    trace_ids = request.get("trace_ids")
    if not trace_ids:
        found = client.search_traces(experiment_ids=[experiment_id], include_spans=False)
        trace_ids = [t.info.trace_id for t in found]
    searches = {}
    for text in request.get("filters", []):
        found = client.search_traces(
            experiment_ids=[experiment_id], filter_string=text, include_spans=False
        )
        searches[text] = sorted(t.info.trace_id for t in found)
    by_model = _cost_by_model(client, experiment_id)
    return {
        "traces": [_trace(client, t) for t in trace_ids],
        "searches": searches,
        "span_cost_by_model": by_model,
        "span_cost_total": sum(by_model.values()),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1])), sort_keys=True))
