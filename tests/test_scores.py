"""runner.scores: values held to Langfuse's rules (checked against the contract's model), feedback
lines whose errors name the field, outcome scores, deterministic ids."""

from __future__ import annotations

import math

import pytest

from runner.accounting.figures import Figures, LedgerFigures
from runner.scores import (
    ScoreError,
    ToolCounts,
    make_score,
    parse_feedback,
    query_scores,
    score_id,
    session_scores,
)
from runner.session.types import QueryOutcome, SessionOutcome
from tests.support.langfuse_scores import validate_post_scores_body


@pytest.mark.parametrize(
    ("value", "data_type", "expected", "kind"),
    [
        (True, None, 1.0, "BOOLEAN"),
        (False, "boolean", 0.0, "BOOLEAN"),
        (1, "BOOLEAN", 1.0, "BOOLEAN"),
        ("false", "BOOLEAN", 0.0, "BOOLEAN"),
        (3, None, 3.0, "NUMERIC"),
        ("4.5", "NUMERIC", 4.5, "NUMERIC"),
        ("good", None, "good", "CATEGORICAL"),
        ("", "CATEGORICAL", "", "CATEGORICAL"),
        ("x" * 500, "TEXT", "x" * 500, "TEXT"),
        ("the right answer", "CORRECTION", "the right answer", "CORRECTION"),
    ],
)
def test_a_valid_score_is_one_langfuse_accepts(
    value: object, data_type: str | None, expected: object, kind: str
) -> None:
    score = make_score("n", value, data_type)
    assert (score.value, score.data_type) == (expected, kind)
    body = {"traceId": "a" * 32, "name": "n", "value": score.value, "dataType": score.data_type}
    parsed, issues = validate_post_scores_body(body)
    assert parsed is not None, issues


@pytest.mark.parametrize(
    ("name", "value", "data_type", "field"),
    [
        ("", 1, None, "name"),
        ("n", 2, "BOOLEAN", "value"),
        ("n", "yes", "BOOLEAN", "value"),
        ("n", math.inf, None, "value"),
        ("n", "high", "NUMERIC", "value"),
        ("n", 3, "CATEGORICAL", "value"),
        ("n", "", "TEXT", "value"),
        ("n", "x" * 501, "TEXT", "value"),
        ("n", 1, "SCORE", "data_type"),
        ("n", None, None, "value"),
    ],
)
def test_an_invalid_score_names_its_field(
    name: str, value: object, data_type: str | None, field: str
) -> None:
    with pytest.raises(ScoreError) as error:
        make_score(name, value, data_type)
    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: ")


def test_feedback_line_defaults_to_user_feedback_and_names_bad_fields() -> None:
    score = parse_feedback({"type": "feedback", "value": 1, "comment": "ok", "query": 2})
    assert (score.name, score.value, score.data_type, score.query) == (
        "user-feedback",
        1.0,
        "NUMERIC",
        2,
    )
    assert score.source == "feedback" and score.comment == "ok"
    for payload, field in (
        ({"type": "feedback"}, "value"),
        ({"type": "feedback", "value": 1, "query": 0}, "query"),
        ({"type": "feedback", "value": 1, "query": "2"}, "query"),
        ({"type": "feedback", "value": 1, "comment": 5}, "comment"),
        ({"type": "feedback", "value": 1, "rating": 5}, "rating"),
    ):
        with pytest.raises(ScoreError) as error:
            parse_feedback(payload)
        assert error.value.field == field


def test_outcome_scores_say_status_success_cost_and_tool_counts() -> None:
    figures = LedgerFigures(total=Figures(calls=2, cost_usd=0.25))
    query = QueryOutcome(index=1, at_ns=1, is_error=False, figures=figures)
    failed = QueryOutcome(index=2, at_ns=2, is_error=True, error_type="budget_exceeded")
    values = {s.name: (s.value, s.data_type, s.query) for s in query_scores(query, ToolCounts(2))}
    assert values == {
        "query.status": ("success", "CATEGORICAL", 1),
        "query.success": (1.0, "BOOLEAN", 1),
        "query.tool_failures": (2.0, "NUMERIC", 1),
    }
    assert {s.name: s.value for s in query_scores(failed, ToolCounts())}["query.status"] == (
        "budget_exceeded"
    )
    session = SessionOutcome(
        status="budget_exceeded",
        exit_code=6,
        at_ns=3,
        queries=(query, failed),
        error_type="budget_exceeded",
        figures=figures,
    )
    values = {s.name: s.value for s in session_scores(session, ToolCounts(3, 1))}
    assert values == {
        "session.status": "budget_exceeded",
        "session.success": 0.0,
        "session.cost_usd": 0.25,
        "session.tool_failures": 3.0,
        "session.permission_denials": 1.0,
        "session.budget_exceeded": 1.0,
    }


def test_score_ids_are_deterministic_so_a_retry_updates() -> None:
    one = score_id("a" * 32, "b" * 16, "query.success")
    assert one == score_id("a" * 32, "b" * 16, "query.success")
    assert one != score_id("a" * 32, None, "query.success")
    assert len(one) == 32
