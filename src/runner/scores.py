"""Scores: what the runner knows of a session's outcome, and the feedback others give it.

A `Score` is one judgement of one trace (or one query's observation in it): a name, a value and
Langfuse's data type for it. The types and their rules are Langfuse's (`PostScoresBody` in its
server; docs/langfuse.md, "Scores"): NUMERIC (a finite number), CATEGORICAL (a string), BOOLEAN
(0 or 1), TEXT (1-500 characters), CORRECTION (a corrected output, a string). `make_score` holds
a value to them, so nothing the runner sends is refused for its shape; MLflow takes each as an
assessment's feedback value (BOOLEAN as true/false).

Outcome scores (`query_scores`, `session_scores`) are derived from the driver's outcomes and the
tree's tool counts; their names live with every other name in runner.otel.attributes.semconv.
Feedback arrives as a stdin line (`parse_feedback`), from `claude-runner score`, or from
`runner.submit_score` (runner.otel.export.score_delivery).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from runner.otel.attributes import semconv as sc
from runner.session.types import QueryOutcome, SessionOutcome

DataType = Literal["NUMERIC", "CATEGORICAL", "BOOLEAN", "TEXT", "CORRECTION"]
DATA_TYPES: tuple[str, ...] = get_args(DataType)
TEXT_MAX_CHARS = 500
"""Langfuse's TEXT limit (JavaScript length: UTF-16 code units)."""
NAME_MAX_CHARS = 200
Source = Literal["runner", "feedback"]


class ScoreError(ValueError):
    """A score that Langfuse would refuse; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Score:
    name: str
    value: float | str
    """NUMERIC and BOOLEAN (0.0/1.0): a float; the other types: a string."""
    data_type: DataType
    comment: str | None = None
    """Content when it comes from a person: sent only as content capture allows."""
    query: int | None = None
    """The query (1-based) it judges; None: the session (the trace)."""
    source: Source = "runner"

    @property
    def label(self) -> str | None:
        """The OTel event's `score.label`: the string value, or pass/fail for a BOOLEAN."""
        if self.data_type == "BOOLEAN":
            return "pass" if self.value == 1 else "fail"
        return self.value if isinstance(self.value, str) else None

    @property
    def number(self) -> float | None:
        """The OTel event's `score.value` (a double), for NUMERIC and BOOLEAN."""
        return float(self.value) if not isinstance(self.value, str) else None

    def assessment_value(self) -> bool | float | str:
        """The value as an MLflow assessment's feedback holds it."""
        if self.data_type == "BOOLEAN":
            return self.value == 1
        return self.value


def make_score(
    name: object,
    value: object,
    data_type: object = None,
    *,
    comment: object = None,
    query: object = None,
    source: Source = "runner",
) -> Score:
    """A score held to Langfuse's rules; ScoreError names the field that breaks one.
    Without a data type it is inferred: true/false → BOOLEAN, a number → NUMERIC, a string →
    CATEGORICAL. BOOLEAN takes true/false, 0/1 (also "true"/"false", "0"/"1")."""
    if not isinstance(name, str) or not name.strip():
        raise ScoreError("name", "must be a non-empty string")
    if len(name) > NAME_MAX_CHARS:
        raise ScoreError("name", f"must be at most {NAME_MAX_CHARS} characters")
    kind = _data_type(data_type, value)
    if comment is not None and not isinstance(comment, str):
        raise ScoreError("comment", "must be a string")
    if query is not None and (isinstance(query, bool) or not isinstance(query, int) or query < 1):
        raise ScoreError("query", "must be a query's number (1, 2, ...)")
    return Score(
        name=name.strip(),
        value=_value(kind, value),
        data_type=kind,
        comment=comment or None,
        query=query,
        source=source,
    )


def _data_type(raw: object, value: object) -> DataType:
    if raw is None or raw == "":
        if isinstance(value, bool):
            return "BOOLEAN"
        if isinstance(value, int | float):
            return "NUMERIC"
        if isinstance(value, str):
            return "CATEGORICAL"
        raise ScoreError("value", "must be a number, a string, true or false")
    if not isinstance(raw, str) or raw.upper() not in DATA_TYPES:
        raise ScoreError("data_type", f"must be one of {', '.join(DATA_TYPES)}")
    return raw.upper()  # type: ignore[return-value]


def _value(kind: DataType, value: object) -> float | str:
    if kind == "BOOLEAN":
        text = value.strip().lower() if isinstance(value, str) else None
        if value is True or text in ("true", "1") or (_is_number(value) and value == 1):
            return 1.0
        if value is False or text in ("false", "0") or (_is_number(value) and value == 0):
            return 0.0
        raise ScoreError("value", "a BOOLEAN score is true/false or 1/0")
    if kind == "NUMERIC":
        number = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ScoreError("value", "a NUMERIC score is a number") from None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ScoreError("value", "a NUMERIC score is a number")
        if not math.isfinite(number):
            raise ScoreError("value", "a NUMERIC score is a finite number")
        return float(number)
    if not isinstance(value, str):
        raise ScoreError("value", f"a {kind} score is a string")
    if kind == "TEXT" and not 1 <= len(value.encode("utf-16-le")) // 2 <= TEXT_MAX_CHARS:
        raise ScoreError("value", f"a TEXT score is 1 to {TEXT_MAX_CHARS} characters")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_feedback(payload: Mapping[str, Any]) -> Score:
    """A stdin line `{"type": "feedback", "name": "user-feedback", "value": 1,
    "data_type": "BOOLEAN", "comment": "...", "query": 2}` → a score (name defaults to
    user-feedback; query to the last query). ScoreError names the bad field."""
    if "value" not in payload:
        raise ScoreError("value", "feedback needs a value")
    unknown = set(payload) - {"type", "name", "value", "data_type", "dataType", "comment", "query"}
    if unknown:
        raise ScoreError(sorted(unknown)[0], "unknown field")
    return make_score(
        payload.get("name", sc.SCORE_USER_FEEDBACK),
        payload["value"],
        payload.get("data_type", payload.get("dataType")),
        comment=payload.get("comment"),
        query=payload.get("query"),
        source="feedback",
    )


def score_id(trace_id: str, observation_id: str | None, name: str) -> str:
    """A deterministic id: the same score again (a retry, a second delivery) updates it."""
    digest = hashlib.sha256(f"{trace_id}/{observation_id or ''}/{name}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class ToolCounts:
    """What the tree saw of a query's (or the session's) tool calls."""

    failures: int = 0
    permission_denials: int = 0


def query_scores(outcome: QueryOutcome, tools: ToolCounts) -> list[Score]:
    """A query's outcome: status, success, tool failures; on its observation."""
    status = "success" if not outcome.is_error else (outcome.error_type or "error")
    why = None if not outcome.is_error else (outcome.subtype or outcome.error_type)
    return [
        Score(
            name=sc.SCORE_QUERY_STATUS,
            value=status,
            data_type="CATEGORICAL",
            comment=why,
            query=outcome.index,
        ),
        Score(
            name=sc.SCORE_QUERY_SUCCESS,
            value=0.0 if outcome.is_error else 1.0,
            data_type="BOOLEAN",
            comment=why,
            query=outcome.index,
        ),
        Score(
            name=sc.SCORE_QUERY_TOOL_FAILURES,
            value=float(tools.failures),
            data_type="NUMERIC",
            query=outcome.index,
        ),
    ]


def session_scores(outcome: SessionOutcome, tools: ToolCounts) -> list[Score]:
    """The session's outcome, on the trace: what a team charts and filters sessions by."""
    why = outcome.error_type
    return [
        Score(name=sc.SCORE_SESSION_STATUS, value=outcome.status, data_type="CATEGORICAL"),
        Score(
            name=sc.SCORE_SESSION_SUCCESS,
            value=1.0 if outcome.ok else 0.0,
            data_type="BOOLEAN",
            comment=why,
        ),
        Score(
            name=sc.SCORE_SESSION_COST_USD,
            value=round(outcome.cost_usd, 12),
            data_type="NUMERIC",
        ),
        Score(
            name=sc.SCORE_SESSION_TOOL_FAILURES,
            value=float(tools.failures),
            data_type="NUMERIC",
        ),
        Score(
            name=sc.SCORE_SESSION_PERMISSION_DENIALS,
            value=float(tools.permission_denials),
            data_type="NUMERIC",
        ),
        Score(
            name=sc.SCORE_SESSION_BUDGET_EXCEEDED,
            value=1.0 if outcome.status == "budget_exceeded" else 0.0,
            data_type="BOOLEAN",
        ),
    ]
