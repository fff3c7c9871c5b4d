"""A test model of Langfuse's scores API: POST /api/public/scores as its server validates, accepts
and stores a score, and GET /api/public/scores (v1), /api/public/v2/scores, /api/public/v3/scores
as they filter and shape what was stored. Pure Python, no network; notes/scores.md cites every rule.

Source: langfuse/langfuse @ 62751446149b702b419a9292ddfc2280cdf74b8c (2026-08-22):
- web/src/pages/api/public/scores/index.ts (the route), createAuthedProjectAPIRoute.ts and
  withMiddlewares.ts (auth, 400 shape), scores-api-service.ts (createScore)
- packages/shared/src/features/scores/interfaces/api/shared.ts (`PostScoresBody`, GET queries),
  .../interfaces/shared.ts (`PostScoreBodyFoundationSchema`), utils/scores.ts (the reference rule),
  domain/scores.ts (TEXT max 500, sources)
- packages/shared/src/server/ingestion/types.ts (the ingestion `ScoreBody` the accepted body is
  parsed with again, environment normalisation), processEventBatch.ts (400 on that parse)
- packages/shared/src/server/ingestion/validateAndInflateScore.ts and worker IngestionService
  (asynchronous: config checks, inference, upsert by id; failures are dropped, never reported)

What a POST goes through, in order:
1. auth: `Authorization: Basic base64(publicKey:secretKey)` (or `Bearer publicKey`: scores-only
   access, accepted by POST, not by GET) → 401 {"message"} when unknown (the 401 texts here are
   placeholders; the server's come from ApiAuthService).
2. `PostScoresBody` (zod 4, unknown keys stripped) → 400 {"message": "Invalid request data",
   "error": [issues]}. The issue messages here are ours; the status, paths and codes are zod's.
3. the event's ingestion schema (id 1-800 chars without "\\r"; environment normalised, never
   rejected) → 400 {"message": <zod error text>}.
4. accepted → 200 {"id": body.id or a new uuid4} and queued. The worker then infers the data type,
   checks the config, and upserts by (project, id); a score it cannot validate is DROPPED silently.
"""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DATA_TYPES = ("NUMERIC", "CATEGORICAL", "BOOLEAN", "CORRECTION", "TEXT")
LISTABLE_V1 = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT")  # v1 hides CORRECTION; v2, v3 list all
POST_SOURCES = ("API", "ANNOTATION")  # EVAL is reserved for Langfuse's evaluators
SOURCES = ("API", "EVAL", "ANNOTATION")
TEXT_MAX = 500
ID_MAX = 800
ENVIRONMENT_MAX = 40
REFERENCE_MESSAGE = (
    "Provide exactly one of the following: traceId (with optional observationId), sessionId or "
    "datasetRunId. ObservationId requires traceId."
)
ANNOTATION_MESSAGE = (
    "configId is required when source is ANNOTATION (except for CORRECTION scores)."
)
BOOLEAN_MESSAGE = "Value must be a number equal to either 0 or 1 for data type BOOLEAN"
OPTIONAL_STRINGS = ("traceId", "sessionId", "datasetRunId", "observationId", "comment", "queueId")


@dataclass(frozen=True)
class Issue:
    """One zod issue: where, which zod code, and a message (ours, not zod's wording)."""

    path: tuple[str, ...]
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"path": list(self.path), "code": self.code, "message": self.message}


@dataclass
class Response:
    status: int
    body: Any


@dataclass(frozen=True)
class ScoreConfig:
    id: str
    name: str
    data_type: str  # NUMERIC, CATEGORICAL, BOOLEAN or TEXT
    min_value: float | None = None
    max_value: float | None = None
    categories: tuple[tuple[str, float], ...] = ()  # (label, value)
    archived: bool = False


@dataclass
class Trace:
    id: str
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    environment: str = "default"
    session_id: str | None = None


def utf16_len(text: str) -> int:
    """JavaScript's `string.length` (zod's min/max), which counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def is_json_number(value: Any) -> bool:
    """zod 4's z.number(): a finite JSON number (Python's bool is JSON true/false, not a number)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and not math.isfinite(value))
    )


def is_json(value: Any, *, root: bool) -> bool:
    """Langfuse's `jsonSchema`: any JSON value; null is allowed nested (the field is nullish)."""
    if value is None:
        return not root
    if isinstance(value, str | bool) or is_json_number(value):
        return True
    if isinstance(value, list):
        return all(is_json(item, root=False) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json(v, root=False) for k, v in value.items())
    return False


def validate_post_scores_body(body: Any) -> tuple[dict[str, Any] | None, list[Issue]]:
    """`PostScoresBody.parse(body)`: the parsed body (defaults applied, unknown keys stripped) or
    the issues that make the route answer 400 {"message": "Invalid request data", "error": ...}."""
    if not isinstance(body, dict):
        return None, [Issue((), "invalid_type", "expected object")]
    issues: list[Issue] = []
    out: dict[str, Any] = {}

    def string(key: str, *, nullish: bool = True, min_len: int = 0) -> None:
        if key not in body or (nullish and body[key] is None):
            if key in body:
                out[key] = None
            return
        value = body[key]
        if not isinstance(value, str):
            issues.append(Issue((key,), "invalid_type", f"{key}: expected string"))
        elif utf16_len(value) < min_len:
            issues.append(Issue((key,), "too_small", f"{key}: too short"))
        else:
            out[key] = value

    # PostScoreBodyFoundationSchema
    string("id")
    if "name" not in body or body["name"] is None:
        issues.append(Issue(("name",), "invalid_type", "name: expected string"))
    else:
        string("name", nullish=False, min_len=1)
    for key in OPTIONAL_STRINGS:
        string(key)
    if body.get("metadata") is not None:
        if is_json(body["metadata"], root=True):
            out["metadata"] = body["metadata"]
        else:
            issues.append(Issue(("metadata",), "invalid_union", "metadata: not JSON"))
    elif "metadata" in body:
        out["metadata"] = None
    # environment: z.string().default("default") — null is NOT accepted, only absence
    if "environment" not in body:
        out["environment"] = "default"
    elif not isinstance(body["environment"], str):
        issues.append(Issue(("environment",), "invalid_type", "environment: expected string"))
    else:
        out["environment"] = body["environment"]
    # source: enum(API, ANNOTATION).default(API) — null and EVAL are rejected
    if "source" not in body:
        out["source"] = "API"
    elif body["source"] not in POST_SOURCES:
        issues.append(Issue(("source",), "invalid_value", "source: expected API or ANNOTATION"))
    else:
        out["source"] = body["source"]

    # the discriminated union on dataType (absent = its own arm; null or unknown = no arm)
    data_type = body.get("dataType", None) if "dataType" in body else None
    value = body.get("value")
    config_id = body.get("configId")
    if "dataType" in body and data_type not in DATA_TYPES:
        issues.append(Issue(("dataType",), "invalid_union", "No matching discriminator"))
    else:
        if data_type is not None:
            out["dataType"] = data_type
        if data_type in ("NUMERIC", "BOOLEAN"):
            if not is_json_number(value):
                issues.append(Issue(("value",), "invalid_type", "value: expected number"))
            elif data_type == "BOOLEAN" and value not in (0, 1):
                issues.append(Issue(("value",), "custom", BOOLEAN_MESSAGE))
        elif data_type in ("CATEGORICAL", "CORRECTION", "TEXT"):
            if not isinstance(value, str):
                issues.append(Issue(("value",), "invalid_type", "value: expected string"))
            elif data_type == "TEXT" and not 1 <= utf16_len(value) <= TEXT_MAX:
                code = "too_small" if utf16_len(value) < 1 else "too_big"
                issues.append(Issue(("value",), code, f"value: 1-{TEXT_MAX} characters"))
        elif not (isinstance(value, str) or is_json_number(value)):
            issues.append(Issue(("value",), "invalid_union", "value: expected string or number"))
        if "value" in body and not any(i.path == ("value",) for i in issues):
            out["value"] = value
        if config_id is not None:
            if data_type == "CORRECTION":
                issues.append(Issue(("configId",), "invalid_type", "configId: expected undefined"))
            elif not isinstance(config_id, str):
                issues.append(Issue(("configId",), "invalid_type", "configId: expected string"))
            else:
                out["configId"] = config_id
        elif "configId" in body:
            out["configId"] = None
    if issues:  # zod 4 runs refinements only on an otherwise valid value
        return None, issues

    # applyScoreValidation: truthiness, so "" counts as absent
    trace, session, run = (bool(out.get(k)) for k in ("traceId", "sessionId", "datasetRunId"))
    observation = bool(out.get("observationId"))
    if not (
        (trace and not session and not run)
        or (session and not trace and not run and not observation)
        or (run and not trace and not session and not observation)
    ):
        path = ("traceId", "sessionId", "datasetRunId", "observationId")
        return None, [Issue(path, "custom", REFERENCE_MESSAGE)]
    if out["source"] == "ANNOTATION" and not out.get("configId") and data_type != "CORRECTION":
        return None, [Issue(("configId",), "custom", ANNOTATION_MESSAGE)]
    return out, []


def normalize_environment(value: Any) -> str:
    """The ingestion schema's public environment: lowercased, leading "langfuse", "langfuse-",
    "langfuse_" prefixes stripped, cut to 40 characters; anything else (empty, other characters,
    not a string) silently becomes "default" — never an error."""
    if not isinstance(value, str):
        return "default"
    stripped = re.sub(r"^(?:langfuse[-_]?)+", "", value.lower())
    truncated = stripped[:ENVIRONMENT_MAX]
    if not truncated or not re.fullmatch(r"[a-z0-9\-_]+", truncated):
        return "default"
    return truncated


@dataclass
class StoredScore:
    """A row of the scores table, as the worker writes it (validateAndInflateScore)."""

    id: str
    project_id: str
    name: str
    value: float
    string_value: str | None
    long_string_value: str
    data_type: str
    source: str
    environment: str
    trace_id: str | None
    observation_id: str | None
    session_id: str | None
    dataset_run_id: str | None
    comment: str | None
    metadata: Any
    config_id: str | None
    queue_id: str | None
    timestamp: datetime
    created_at: datetime
    updated_at: datetime


@dataclass
class ScoresServer:
    """One Langfuse deployment: projects by key pair, score configs, traces, and the scores."""

    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (pk, sk) → project id
    configs: dict[str, ScoreConfig] = field(default_factory=dict)
    traces: dict[tuple[str, str], Trace] = field(default_factory=dict)  # (project, id) → trace
    scores: dict[tuple[str, str], StoredScore] = field(default_factory=dict)
    queue: list[tuple[str, str, dict[str, Any], datetime]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (score id, why)

    # --- auth -------------------------------------------------------------------------------
    def _auth(self, headers: dict[str, str], *, scores_bearer: bool) -> str | Response:
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if header is None:
            return Response(401, {"message": "No authorization header"})
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode()
                public_key, secret_key = decoded.split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return Response(401, {"message": "Invalid authorization header"})
            project = self.keys.get((public_key, secret_key))
            if project is None:
                return Response(401, {"message": "Invalid credentials"})
            return project
        if header.startswith("Bearer "):
            projects = {p for (pk, _), p in self.keys.items() if pk == header[7:]}
            if not projects:
                return Response(401, {"message": "Invalid public key"})
            if not scores_bearer:
                message = "Access denied - insufficient permissions for this endpoint"
                return Response(403, {"message": message})
            return projects.pop()
        return Response(401, {"message": "Invalid authorization header"})

    def add_trace(self, project_id: str, trace: Trace) -> None:
        self.traces[(project_id, trace.id)] = trace

    # --- POST /api/public/scores ------------------------------------------------------------
    def post(self, headers: dict[str, str], body: Any, now: datetime | None = None) -> Response:
        project = self._auth(headers, scores_bearer=True)
        if isinstance(project, Response):
            return project
        parsed, issues = validate_post_scores_body(body)
        if parsed is None:
            return Response(
                400,
                {"message": "Invalid request data", "error": [i.as_json() for i in issues]},
            )
        score_id = parsed.get("id") or str(uuid.uuid4())  # `||`: "" gets a new id too
        if utf16_len(score_id) > ID_MAX or "\r" in score_id:
            return Response(400, {"message": json.dumps([{"path": ["body", "id"]}])})
        parsed["id"] = score_id
        parsed["environment"] = normalize_environment(parsed["environment"])
        self.queue.append((project, score_id, parsed, now or datetime.now(UTC)))
        return Response(200, {"id": score_id})

    # --- POST /api/public/ingestion (score-create events) -------------------------------------
    def post_ingestion(
        self, headers: dict[str, str], body: Any, now: datetime | None = None
    ) -> Response:
        """The batch route both eras take (web/src/pages/api/public/ingestion.ts): Basic auth
        only (no scores-only Bearer access), `{"batch": [event, ...]}` → 207 `{"successes":
        [{"id", "status": 201}], "errors": [{"id", "status": 400, "message", "error"}]}`; an
        input error is per event, never a 4xx for the request. Each event is `{"id", "timestamp",
        "type", "body"}`; a `score-create` body is parsed as the scores route parses it, then as
        the ingestion `ScoreBody` (id 1-800 chars without "\r", environment normalised), and
        queued for the same worker (so the same upsert by id and the same silent drops).
        Other event types are outside this model (errors, status 400)."""
        project = self._auth(headers, scores_bearer=False)
        if isinstance(project, Response):
            return project
        if isinstance(project, str) and headers.get("authorization", "").startswith("Bearer "):
            return Response(403, {"message": "Access denied"})
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            return Response(400, {"message": "Invalid request data", "error": ["batch"]})
        successes: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for event in body["batch"]:
            event_id = event.get("id") if isinstance(event, dict) else None
            if not isinstance(event, dict) or not isinstance(event_id, str) or not event_id:
                errors.append({"id": event_id, "status": 400, "message": "Invalid event"})
                continue
            timestamp = event.get("timestamp")
            if event.get("type") != "score-create" or not isinstance(timestamp, str):
                errors.append({"id": event_id, "status": 400, "message": "Invalid request data"})
                continue
            parsed, issues = validate_post_scores_body(event.get("body"))
            score_id = (parsed or {}).get("id") or ""
            if parsed is None or not score_id or len(score_id) > ID_MAX or "\r" in score_id:
                error = json.dumps([i.as_json() for i in issues] or [{"path": ["body", "id"]}])
                errors.append(
                    {
                        "id": event_id,
                        "status": 400,
                        "message": "Invalid request data",
                        "error": error,
                    }
                )
                continue
            parsed["environment"] = normalize_environment(parsed["environment"])
            self.queue.append((project, score_id, parsed, now or datetime.now(UTC)))
            successes.append({"id": event_id, "status": 201})
        return Response(207, {"successes": successes, "errors": errors})

    # --- the worker -------------------------------------------------------------------------
    def process(self) -> None:
        """Drain the queue: validate and inflate each score, then upsert it by (project, id)."""
        queue, self.queue = self.queue, []
        for project, score_id, body, at in queue:
            try:
                row = self._inflate(project, score_id, body, at)
            except ValueError as exc:
                self.dropped.append((score_id, str(exc)))
                continue
            previous = self.scores.get((project, score_id))
            if previous is not None:
                row.created_at = previous.created_at
            self.scores[(project, score_id)] = row

    def _inflate(
        self, project: str, score_id: str, body: dict[str, Any], at: datetime
    ) -> StoredScore:
        value = body["value"]
        data_type = body.get("dataType")
        name = body["name"]
        config = None
        if body.get("configId"):
            config = self.configs.get(body["configId"])
            if config is None:
                raise ValueError("configId does not match a valid config in this project")
            name = config.name  # the config's name wins over the body's
            if data_type and data_type != config.data_type:
                raise ValueError(f"Data type mismatch: expected {config.data_type}")
            if config.archived:
                raise ValueError("Config is archived")
            self._check_against_config(value, config)
            data_type = config.data_type
        elif data_type is None:
            data_type = "NUMERIC" if is_json_number(value) else "CATEGORICAL"
        string_value: str | None
        long_string = ""
        if is_json_number(value):
            if data_type == "BOOLEAN":
                string_value = "True" if value == 1 else "False"
            else:
                data_type, string_value = "NUMERIC", None
            number = float(value)
        elif data_type == "CORRECTION":
            if body.get("sessionId") or body.get("datasetRunId"):
                raise ValueError("CORRECTION scores cannot be associated with sessions/runs")
            name, number, string_value, long_string = "output", 0.0, None, value
        elif data_type == "TEXT":
            number, string_value = 0.0, value
        else:  # CATEGORICAL: a config maps the label to its number, else 0
            labels = dict(config.categories) if config else {}
            data_type, number, string_value = "CATEGORICAL", float(labels.get(value, 0)), value
        return StoredScore(
            id=score_id,
            project_id=project,
            name=name,
            value=number,
            string_value=string_value,
            long_string_value=long_string,
            data_type=data_type,
            source=body["source"],
            environment=body["environment"],
            trace_id=body.get("traceId"),
            observation_id=body.get("observationId"),
            session_id=body.get("sessionId"),
            dataset_run_id=body.get("datasetRunId"),
            comment=body.get("comment"),
            metadata=body.get("metadata") if body.get("metadata") is not None else {},
            config_id=body.get("configId"),
            queue_id=body.get("queueId"),
            timestamp=at,
            created_at=at,
            updated_at=at,
        )

    @staticmethod
    def _check_against_config(value: Any, config: ScoreConfig) -> None:
        if config.data_type == "NUMERIC":
            if not is_json_number(value):
                raise ValueError("NUMERIC config needs a number")
            if config.max_value is not None and value > config.max_value:
                raise ValueError(f"Value exceeds maximum value of {config.max_value}")
            if config.min_value is not None and value < config.min_value:
                raise ValueError(f"Value is below minimum value of {config.min_value}")
        elif config.data_type == "CATEGORICAL":
            if not isinstance(value, str) or value not in dict(config.categories):
                raise ValueError(f"Value {value} does not map to a valid category")
        elif config.data_type == "BOOLEAN":
            if not is_json_number(value) or value not in (0, 1):
                raise ValueError("Value must be either 0 or 1")
        elif not isinstance(value, str) or not 1 <= utf16_len(value) <= TEXT_MAX:
            raise ValueError("TEXT value must be 1-500 characters")

    # --- GET ----------------------------------------------------------------------------------
    def get_v1(self, headers: dict[str, str], query: dict[str, str]) -> Response:
        """GET /api/public/scores: trace scores only (no session/run scores), no CORRECTION, no
        traceId/sessionId/observationId parameters (unknown parameters are ignored, so
        `?traceId=x` filters NOTHING), offset pages; a score is listed only once its trace exists
        (the default fields join traces)."""
        return self._get_paged(headers, query, version=1)

    def get_v2(self, headers: dict[str, str], query: dict[str, str]) -> Response:
        """GET /api/public/v2/scores: v1's parameters plus traceId, sessionId, datasetRunId,
        observationId (comma-separated); every score kind and data type."""
        return self._get_paged(headers, query, version=2)

    def _get_paged(self, headers: dict[str, str], query: dict[str, str], version: int) -> Response:
        project = self._auth(headers, scores_bearer=False)
        if isinstance(project, Response):
            return project
        try:
            page = int(query.get("page") or 1)
            limit = int(query.get("limit") or 50)
        except ValueError:
            return Response(400, {"message": "Invalid request data", "error": []})
        if page < 1 or not 1 <= limit <= 100:
            return Response(400, {"message": "Invalid request data", "error": []})
        fields = (query.get("fields") or "score,trace").split(",")
        join = "trace" in fields or bool(query.get("userId") or query.get("traceTags"))
        rows = []
        for (p, _), s in self.scores.items():
            if p != project:
                continue
            if version == 1 and (
                s.data_type not in LISTABLE_V1 or s.session_id or s.dataset_run_id
            ):
                continue
            trace = self.traces.get((project, s.trace_id)) if s.trace_id else None
            if s.trace_id and join and trace is None:
                continue
            if version == 1 and not s.trace_id:
                continue
            if not self._match(s, trace, query, version):
                continue
            rows.append((s, trace))
        rows.sort(key=lambda r: r[0].timestamp, reverse=True)
        total = len(rows)
        chunk = rows[(page - 1) * limit : page * limit]
        data = [self._v1_shape(s, trace if "trace" in fields else None, join) for s, trace in chunk]
        meta = {
            "page": page,
            "limit": limit,
            "totalItems": total,
            "totalPages": math.ceil(total / limit),
        }
        return Response(200, {"data": data, "meta": meta})

    @staticmethod
    def _match(s: StoredScore, trace: Trace | None, q: dict[str, str], version: int) -> bool:
        simple = {
            "name": s.name,
            "source": s.source,
            "dataType": s.data_type,
            "configId": s.config_id,
            "queueId": s.queue_id,
        }
        if version == 2:
            simple |= {
                "traceId": s.trace_id,
                "sessionId": s.session_id,
                "datasetRunId": s.dataset_run_id,
            }
            if q.get("observationId") and s.observation_id not in q["observationId"].split(","):
                return False
        for key, actual in simple.items():
            if q.get(key) and actual != q[key]:
                return False
        if q.get("environment") and s.environment not in q["environment"].split(","):
            return False
        if q.get("scoreIds") and s.id not in [x.strip() for x in q["scoreIds"].split(",")]:
            return False
        return not (q.get("userId") and (trace is None or trace.user_id != q["userId"]))

    @staticmethod
    def _v1_shape(s: StoredScore, trace: Trace | None, joined: bool) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "id": s.id,
            "projectId": s.project_id,
            "traceId": s.trace_id,
            "sessionId": s.session_id,
            "observationId": s.observation_id,
            "datasetRunId": s.dataset_run_id,
            "name": s.name,
            "value": s.value,
            "stringValue": s.string_value,
            "dataType": s.data_type,
            "source": s.source,
            "comment": s.comment,
            "metadata": s.metadata,
            "configId": s.config_id,
            "queueId": s.queue_id,
            "environment": s.environment,
            "authorUserId": None,
            "timestamp": s.timestamp.isoformat(),
            "createdAt": s.created_at.isoformat(),
            "updatedAt": s.updated_at.isoformat(),
        }
        if s.data_type == "TEXT":
            shaped.pop("value")
        if s.data_type == "CORRECTION":
            shaped["stringValue"] = s.long_string_value
        if joined:
            shaped["trace"] = (
                {
                    "userId": trace.user_id,
                    "tags": list(trace.tags),
                    "environment": trace.environment,
                }
                if trace
                else None
            )
        return shaped

    def get_v3(self, headers: dict[str, str], query: dict[str, str]) -> Response:
        """GET /api/public/v3/scores: strict parameters (unknown → 400), comma-separated
        multi-values, no trace join (so a score is listed before its trace exists), cursor pages,
        one polymorphic `value` (BOOLEAN as true/false, CORRECTION as its text)."""
        project = self._auth(headers, scores_bearer=False)
        if isinstance(project, Response):
            return project
        allowed = {
            "limit",
            "fields",
            "id",
            "name",
            "source",
            "dataType",
            "environment",
            "configId",
            "queueId",
            "authorUserId",
            "value",
            "valueMin",
            "valueMax",
            "traceId",
            "sessionId",
            "observationId",
            "experimentId",
            "fromTimestamp",
            "toTimestamp",
            "userId",
            "traceTags",
            "cursor",
        }
        unknown = sorted(set(query) - allowed)
        problems = [f"Unrecognized key: {k}" for k in unknown]
        if query.get("userId") or query.get("traceTags"):
            problems.append("userId/traceTags are not supported in v3")
        if query.get("observationId") and not query.get("traceId"):
            problems.append("observationId filter requires traceId")
        if sum(bool(query.get(k)) for k in ("traceId", "sessionId", "experimentId")) > 1:
            problems.append("At most one of traceId, sessionId, experimentId may be specified")
        if problems:
            return Response(400, {"message": "Invalid request data", "error": problems})

        def many(key: str, upper: bool = False) -> list[str] | None:
            if not query.get(key):
                return None
            values = [v.strip() for v in query[key].split(",") if v.strip()]
            return [v.upper() for v in values] if upper else values

        limit = int(query.get("limit") or 50)
        filters = {
            "id": (many("id"), lambda s: s.id),
            "name": (many("name"), lambda s: s.name),
            "source": (many("source", True), lambda s: s.source),
            "dataType": (many("dataType", True), lambda s: s.data_type),
            "environment": (many("environment"), lambda s: s.environment),
            "configId": (many("configId"), lambda s: s.config_id),
            "queueId": (many("queueId"), lambda s: s.queue_id),
            "traceId": (many("traceId"), lambda s: s.trace_id),
            "sessionId": (many("sessionId"), lambda s: s.session_id),
            "observationId": (many("observationId"), lambda s: s.observation_id),
            "experimentId": (many("experimentId"), lambda s: s.dataset_run_id),
        }
        rows = [
            s
            for (p, _), s in self.scores.items()
            if p == project
            and all(want is None or get(s) in want for want, get in filters.values())
        ]
        rows.sort(key=lambda s: (s.timestamp, s.id), reverse=True)
        groups = set(many("fields") or ["core"]) | {"core"}
        return Response(
            200,
            {"data": [self._v3_shape(s, groups) for s in rows[:limit]], "meta": {"limit": limit}},
        )

    @staticmethod
    def _v3_shape(s: StoredScore, groups: set[str]) -> dict[str, Any]:
        value: Any = s.value
        if s.data_type == "BOOLEAN":
            value = s.value == 1
        elif s.data_type in ("CATEGORICAL", "TEXT"):
            value = s.string_value
        elif s.data_type == "CORRECTION":
            value = s.long_string_value
        shaped: dict[str, Any] = {
            "id": s.id,
            "projectId": s.project_id,
            "name": s.name,
            "source": s.source,
            "timestamp": s.timestamp.isoformat(),
            "environment": s.environment,
            "createdAt": s.created_at.isoformat(),
            "updatedAt": s.updated_at.isoformat(),
            "dataType": s.data_type,
            "value": value,
        }
        if "details" in groups:
            shaped |= {"comment": s.comment, "configId": s.config_id, "metadata": s.metadata}
        if "annotation" in groups:
            shaped |= {"authorUserId": None, "queueId": s.queue_id}
        if "subject" in groups:  # deriveSubjectForV3: run > observation > session > trace
            if s.dataset_run_id:
                shaped["subject"] = {"kind": "experiment", "id": s.dataset_run_id}
            elif s.observation_id:
                shaped["subject"] = {
                    "kind": "observation",
                    "id": s.observation_id,
                    "traceId": s.trace_id,
                }
            elif s.session_id:
                shaped["subject"] = {"kind": "session", "id": s.session_id}
            else:
                shaped["subject"] = {"kind": "trace", "id": s.trace_id}
        return shaped
