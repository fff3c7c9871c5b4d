"""The two score APIs, each one small stdlib HTTP client: Langfuse's ingestion route and MLflow's
assessments. Neither backend makes scores from OTel events, so scores go to their own APIs.

Langfuse (server 2026-08 and SDK 5.0.4, notes/scores.md): the route both eras take is
`POST {host}/api/public/ingestion` with `{"batch": [{"id", "timestamp", "type": "score-create",
"body": {...}}]}` (Basic auth, the project's keys); it answers 207 `{"successes", "errors"}` per
event. (`POST /api/public/scores` takes one object on the 2026-08 server but a list with 202/207
on the SDK 5.x's servers: the ingestion route avoids guessing.) The body keeps Langfuse's rules:
BOOLEAN 0/1 as numbers, CATEGORICAL/TEXT/CORRECTION strings, no null for `dataType` or
`environment` (omitted), environment `[a-z0-9_-]`, a deterministic `id` (runner.scores.score_id)
so a retry updates instead of adding. The project id for trace URLs: `GET /api/public/projects`
→ `data[0].id`.

MLflow (3.17.2, checked against a real server): `POST {tracking}/api/3.0/mlflow/traces/
tr-<32 hex>/assessments` with `{"assessment": {assessment_name, source, feedback: {value},
rationale, metadata (strings), span_id}}` → 200. A 404 means the trace is not stored yet:
retryable (the spans are on their way).

Errors are `ScoreDeliveryError(kind, retry)`: kind as the exit report says it (`http_503`,
`refused`, `timeout`), never a credential.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runner.otel.export.destinations import LangfuseTarget, MlflowTarget
from runner.scores import Score

LANGFUSE_INGESTION_PATH = "/api/public/ingestion"
LANGFUSE_PROJECTS_PATH = "/api/public/projects"
MLFLOW_ASSESSMENTS_PATH = "/api/3.0/mlflow/traces/{trace_id}/assessments"
SOURCE_ID = "claude-code-runner"
_ENVIRONMENT = re.compile(r"^[a-z0-9_-]{1,40}$")


class ScoreDeliveryError(Exception):
    def __init__(self, kind: str, retry: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.retry = retry


@dataclass(frozen=True)
class Judged:
    """A score with where it goes: its trace, and the observation (span) it judges."""

    score: Score
    trace_id: str
    """32 lowercase hex."""
    observation_id: str | None
    """16 lowercase hex: a query's span; None: the trace."""
    id: str
    at: datetime
    comment: str | None
    """The comment as it may leave the process (redacted; None without content capture)."""


def request_json(
    url: str,
    *,
    method: str = "POST",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 5.0,
) -> tuple[int, Any]:
    """One HTTP request; (status, parsed JSON or None). Errors → ScoreDeliveryError.
    (urllib is imported here, off the session's start: only delivery threads get this far.)"""
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=max(0.05, timeout_s)) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except TimeoutError:
        raise ScoreDeliveryError("timeout", retry=True) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        kind = "timeout" if isinstance(reason, TimeoutError) else "refused"
        raise ScoreDeliveryError(kind, retry=True) from None
    except OSError:
        raise ScoreDeliveryError("refused", retry=True) from None
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed


def _check(status: int, *, retry_404: bool = False) -> None:
    if 200 <= status < 300:
        return
    retry = status >= 500 or status == 429 or (retry_404 and status == 404)
    raise ScoreDeliveryError(f"http_{status}", retry=retry)


def langfuse_environment(environment: str | None) -> str | None:
    """LANGFUSE_TRACING_ENVIRONMENT as Langfuse stores it (lowercase); None: omitted (its
    default). Langfuse turns anything outside [a-z0-9_-] into `default`; so does this."""
    if not environment:
        return None
    lowered = environment.strip().lower()
    return lowered if _ENVIRONMENT.match(lowered) else "default"


class LangfuseScores:
    """Scores to one Langfuse project (its keys)."""

    name = "langfuse"
    batch_size = 50

    def __init__(self, target: LangfuseTarget, environment: str | None) -> None:
        self.target = target
        self.environment = langfuse_environment(environment)
        self.endpoint = target.base_url + LANGFUSE_INGESTION_PATH

    def body(self, item: Judged) -> dict[str, Any]:
        score = item.score
        body: dict[str, Any] = {
            "id": item.id,
            "traceId": item.trace_id,
            "name": score.name,
            "value": score.value,
            "dataType": score.data_type,
            "metadata": {"source": score.source, "runner": SOURCE_ID},
        }
        if item.observation_id:
            body["observationId"] = item.observation_id
        if score.query is not None:
            body["metadata"]["query"] = score.query
        if item.comment:
            body["comment"] = item.comment
        if self.environment:
            body["environment"] = self.environment
        return body

    def send(self, items: Sequence[Judged], timeout_s: float) -> list[Judged]:
        """One batch; returns the items Langfuse accepted (the others it refused, for good).
        A whole-request failure raises."""
        events = {str(uuid.uuid4()): item for item in items}
        batch = [
            {
                "id": event_id,
                "timestamp": item.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "type": "score-create",
                "body": self.body(item),
            }
            for event_id, item in events.items()
        ]
        status, answer = request_json(
            self.endpoint,
            body={"batch": batch},
            headers={"Authorization": self.target.headers["Authorization"]},
            timeout_s=timeout_s,
        )
        _check(status)
        if not isinstance(answer, dict):
            return list(items)  # 2xx without the per-event report: accepted
        accepted = {s.get("id") for s in answer.get("successes", []) if isinstance(s, dict)}
        return [item for event_id, item in events.items() if event_id in accepted]

    def project_id(self, timeout_s: float) -> str | None:
        status, answer = request_json(
            self.target.base_url + LANGFUSE_PROJECTS_PATH,
            method="GET",
            headers={"Authorization": self.target.headers["Authorization"]},
            timeout_s=timeout_s,
        )
        _check(status)
        data = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(data, list) and data and isinstance(data[0], dict):
            found = data[0].get("id")
            return found if isinstance(found, str) and found else None
        return None


def mlflow_trace_id(trace_id: str) -> str:
    """MLflow's id of an OTLP-ingested trace."""
    return f"tr-{trace_id}"


class MlflowAssessments:
    """Scores as assessments (feedback) on MLflow traces."""

    name = "mlflow"
    batch_size = 1

    def __init__(self, target: MlflowTarget, environment: str | None) -> None:
        self.target = target
        self.environment = environment
        self.endpoint = target.tracking_uri

    def body(self, item: Judged) -> dict[str, Any]:
        score = item.score
        trace = mlflow_trace_id(item.trace_id)
        metadata = {"data_type": score.data_type, "score_id": item.id, "source": score.source}
        if score.query is not None:
            metadata["query"] = str(score.query)
        if self.environment:
            metadata["environment"] = self.environment
        assessment: dict[str, Any] = {
            "assessment_name": score.name,
            "trace_id": trace,
            "source": {
                "source_type": "HUMAN" if score.source == "feedback" else "CODE",
                "source_id": SOURCE_ID,
            },
            "feedback": {"value": score.assessment_value()},
            "metadata": metadata,
        }
        if item.comment:
            assessment["rationale"] = item.comment
        if item.observation_id:
            assessment["span_id"] = item.observation_id
        return {"assessment": assessment}

    def send(self, items: Sequence[Judged], timeout_s: float) -> list[Judged]:
        """One request per score (MLflow has no batch route: `batch_size` is 1)."""
        headers = {}
        if self.target.authorization:
            headers["Authorization"] = self.target.authorization
        for item in items:
            url = self.target.tracking_uri + MLFLOW_ASSESSMENTS_PATH.format(
                trace_id=mlflow_trace_id(item.trace_id)
            )
            body = self.body(item)
            status, _ = request_json(url, body=body, headers=headers, timeout_s=timeout_s)
            _check(status, retry_404=True)
        return list(items)


def now() -> datetime:
    return datetime.now(UTC)
