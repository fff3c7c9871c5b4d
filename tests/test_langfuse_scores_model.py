"""The scores model (tests/support/langfuse_scores.py) keeps the rules notes/scores.md cites from
Langfuse's server (langfuse/langfuse @ 62751446, 2026-08-22)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.langfuse_scores import (
    ANNOTATION_MESSAGE,
    BOOLEAN_MESSAGE,
    REFERENCE_MESSAGE,
    ScoreConfig,
    ScoresServer,
    Trace,
    normalize_environment,
    validate_post_scores_body,
)

TRACE = "0af7651916cd43dd8448eb211c80319c"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"pk-lf-1:sk-lf-1").decode()}
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def server() -> ScoresServer:
    s = ScoresServer(keys={("pk-lf-1", "sk-lf-1"): "proj-1"})
    s.add_trace("proj-1", Trace(TRACE, user_id="u1", tags=("ci",)))
    return s


def body(**overrides: Any) -> dict[str, Any]:
    return {"name": "outcome", "traceId": TRACE, "value": 1, "dataType": "BOOLEAN"} | overrides


def issues_of(b: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    parsed, issues = validate_post_scores_body(b)
    assert (parsed is None) == bool(issues)
    return [(i.path, i.code) for i in issues]


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        ("NUMERIC", 0.5),
        ("NUMERIC", -3),
        ("BOOLEAN", 0),
        ("BOOLEAN", 1.0),
        ("CATEGORICAL", "pass"),
        ("CATEGORICAL", ""),  # no min length for CATEGORICAL
        ("TEXT", "x" * 500),
        ("CORRECTION", ""),
        (None, 3),
        (None, "label"),
    ],
)
def test_values_each_data_type_accepts(data_type: str | None, value: Any) -> None:
    b = body(value=value, dataType=data_type)
    if data_type is None:
        del b["dataType"]
    parsed, issues = validate_post_scores_body(b)
    assert issues == []
    assert parsed is not None and parsed["value"] == value


@pytest.mark.parametrize(
    ("data_type", "value", "code"),
    [
        ("NUMERIC", "0.5", "invalid_type"),
        ("NUMERIC", True, "invalid_type"),  # JSON true is not a number
        ("NUMERIC", float("nan"), "invalid_type"),
        ("BOOLEAN", True, "invalid_type"),  # BOOLEAN wants 0 or 1, never true/false
        ("BOOLEAN", 2, "custom"),
        ("BOOLEAN", 0.5, "custom"),
        ("CATEGORICAL", 1, "invalid_type"),
        ("TEXT", "", "too_small"),
        ("TEXT", "x" * 501, "too_big"),
        ("TEXT", "😀" * 251, "too_big"),  # 502 UTF-16 units: JavaScript's length
        ("CORRECTION", 1, "invalid_type"),
        (None, None, "invalid_union"),
        (None, [1], "invalid_union"),
    ],
)
def test_values_each_data_type_rejects(data_type: str | None, value: Any, code: str) -> None:
    b = body(value=value, dataType=data_type)
    if data_type is None:
        del b["dataType"]
    assert issues_of(b) == [(("value",), code)]


def test_boolean_message_is_the_servers() -> None:
    _, issues = validate_post_scores_body(body(value=2))
    assert issues[0].message == BOOLEAN_MESSAGE


def test_data_type_null_or_unknown_matches_no_arm() -> None:
    """The discriminator's arms are the five names and *absent*; null is neither."""
    assert issues_of(body(dataType=None)) == [(("dataType",), "invalid_union")]
    assert issues_of(body(dataType="numeric")) == [(("dataType",), "invalid_union")]


def test_name_is_required_and_non_empty() -> None:
    b = body()
    del b["name"]
    assert issues_of(b) == [(("name",), "invalid_type")]
    assert issues_of(body(name="")) == [(("name",), "too_small")]


@pytest.mark.parametrize(
    "refs",
    [
        {"traceId": TRACE},
        {"traceId": TRACE, "observationId": "b7ad6b7169203331"},
        {"traceId": None, "sessionId": "s1"},
        {"traceId": None, "datasetRunId": "run-1"},
    ],
)
def test_exactly_one_subject(refs: dict[str, Any]) -> None:
    assert issues_of(body(**refs)) == []


@pytest.mark.parametrize(
    "refs",
    [
        {"traceId": None},
        {"traceId": ""},  # truthiness: "" counts as absent
        {"traceId": TRACE, "sessionId": "s1"},
        {"traceId": None, "sessionId": "s1", "observationId": "b7ad6b7169203331"},
        {"traceId": None, "observationId": "b7ad6b7169203331"},
    ],
)
def test_subject_rule_rejects(refs: dict[str, Any]) -> None:
    _, issues = validate_post_scores_body(body(**refs))
    assert [i.message for i in issues] == [REFERENCE_MESSAGE]


def test_environment_defaults_but_null_is_rejected() -> None:
    parsed, _ = validate_post_scores_body(body())
    assert parsed is not None and parsed["environment"] == "default"
    assert issues_of(body(environment=None)) == [(("environment",), "invalid_type")]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("production", "production"),
        ("Prod", "prod"),
        ("langfuse-staging", "staging"),
        ("langfuselangfuse_x", "x"),
        ("langfuse", "default"),
        ("my env", "default"),
        ("ci.main", "default"),
        ("", "default"),
        ("a" * 50, "a" * 40),
    ],
)
def test_environment_is_normalised_never_rejected(given: str, stored: str) -> None:
    assert normalize_environment(given) == stored
    s = server()
    assert s.post(AUTH, body(environment=given)).status == 200
    s.process()
    assert next(iter(s.scores.values())).environment == stored


def test_source_eval_and_null_are_rejected() -> None:
    assert issues_of(body(source="EVAL")) == [(("source",), "invalid_value")]
    assert issues_of(body(source=None)) == [(("source",), "invalid_value")]


def test_annotation_needs_a_config_except_correction() -> None:
    _, issues = validate_post_scores_body(body(source="ANNOTATION"))
    assert [i.message for i in issues] == [ANNOTATION_MESSAGE]
    assert issues_of(body(source="ANNOTATION", dataType="CORRECTION", value="fixed")) == []


def test_correction_cannot_carry_a_config() -> None:
    b = body(dataType="CORRECTION", value="fixed", configId="cfg")
    assert issues_of(b) == [(("configId",), "invalid_type")]
    assert issues_of(body(dataType="CORRECTION", value="fixed", configId=None)) == []


def test_metadata_any_json_but_not_other_objects() -> None:
    for metadata in ({"a": {"b": [1, None]}}, "text", 3, [1], None):
        assert issues_of(body(metadata=metadata)) == []
    assert issues_of(body(metadata={"a": object()})) == [(("metadata",), "invalid_union")]


def test_unknown_keys_are_stripped() -> None:
    parsed, _ = validate_post_scores_body(body(timestamp="2026-12-06T00:00:00Z", stringValue="x"))
    assert parsed is not None
    assert "timestamp" not in parsed and "stringValue" not in parsed


def test_post_answers_200_with_the_id() -> None:
    s = server()
    given = s.post(AUTH, body(id="run-42-outcome"))
    assert (given.status, given.body) == (200, {"id": "run-42-outcome"})
    generated = s.post(AUTH, body(id=""))  # `||`: an empty id gets a new one
    assert generated.status == 200 and len(generated.body["id"]) == 36


def test_post_400_shape() -> None:
    r = server().post(AUTH, body(value=2))
    assert r.status == 400
    assert r.body["message"] == "Invalid request data"
    assert r.body["error"][0]["path"] == ["value"]


def test_id_longer_than_800_fails_the_second_parse() -> None:
    r = server().post(AUTH, body(id="x" * 801))
    assert r.status == 400 and "error" not in r.body


def test_auth() -> None:
    s = server()
    assert s.post({}, body()).status == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"pk-lf-1:nope").decode()}
    assert s.post(wrong, body()).status == 401
    bearer = {"Authorization": "Bearer pk-lf-1"}
    assert s.post(bearer, body()).status == 200  # POST allows scores-only (public key) access
    assert s.get_v1(bearer, {}).status == 403


def test_same_id_upserts() -> None:
    s = server()
    s.post(AUTH, body(id="sc-1", value=0), now=T0)
    s.process()
    s.post(AUTH, body(id="sc-1", value=1, comment="fixed"), now=T0 + timedelta(minutes=1))
    s.process()
    assert len(s.scores) == 1
    row = s.scores[("proj-1", "sc-1")]
    assert (row.value, row.string_value, row.comment, row.created_at) == (1.0, "True", "fixed", T0)


def test_worker_inflates_each_type() -> None:
    s = server()
    for i, (dt, value) in enumerate(
        [
            ("BOOLEAN", 0),
            ("NUMERIC", 2.5),
            ("CATEGORICAL", "pass"),
            ("TEXT", "why"),
            ("CORRECTION", "better"),
            (None, 7),
            (None, "ok"),
        ]
    ):
        b = body(id=f"s{i}", value=value, dataType=dt)
        if dt is None:
            del b["dataType"]
        assert s.post(AUTH, b).status == 200
    s.process()
    rows = {k[1]: (r.data_type, r.value, r.string_value, r.name) for k, r in s.scores.items()}
    assert rows == {
        "s0": ("BOOLEAN", 0.0, "False", "outcome"),
        "s1": ("NUMERIC", 2.5, None, "outcome"),
        "s2": ("CATEGORICAL", 0.0, "pass", "outcome"),
        "s3": ("TEXT", 0.0, "why", "outcome"),
        "s4": ("CORRECTION", 0.0, None, "output"),  # CORRECTION is always named "output"
        "s5": ("NUMERIC", 7.0, None, "outcome"),
        "s6": ("CATEGORICAL", 0.0, "ok", "outcome"),
    }
    assert s.scores[("proj-1", "s4")].long_string_value == "better"


def test_worker_drops_silently_after_200() -> None:
    s = server()
    s.configs["cfg-1"] = ScoreConfig("cfg-1", "quality", "NUMERIC", min_value=0, max_value=1)
    accepted = [
        s.post(AUTH, body(id="a", configId="missing", dataType="NUMERIC", value=1)),
        s.post(AUTH, body(id="b", configId="cfg-1", dataType="NUMERIC", value=5)),
        s.post(AUTH, body(id="c", traceId=None, sessionId="s", dataType="CORRECTION", value="x")),
        s.post(AUTH, body(id="d", configId="cfg-1", dataType="NUMERIC", value=0.5)),
    ]
    assert [r.status for r in accepted] == [200, 200, 200, 200]
    s.process()
    assert [d[0] for d in s.dropped] == ["a", "b", "c"]
    assert s.scores[("proj-1", "d")].name == "quality"  # the config's name replaces the body's


def test_get_v1_ignores_trace_id_and_hides_correction() -> None:
    s = server()
    other = "1" * 32
    s.add_trace("proj-1", Trace(other))
    s.post(AUTH, body(id="mine"), now=T0)
    s.post(AUTH, body(id="theirs", traceId=other), now=T0 + timedelta(seconds=1))
    s.post(AUTH, body(id="corr", dataType="CORRECTION", value="x"), now=T0)
    s.post(AUTH, body(id="sess", traceId=None, sessionId="s1"), now=T0)
    s.process()
    v1 = s.get_v1(AUTH, {"traceId": TRACE})
    assert [d["id"] for d in v1.body["data"]] == ["theirs", "mine"]  # traceId filters nothing
    assert v1.body["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}
    v2 = s.get_v2(AUTH, {"traceId": TRACE})
    assert sorted(d["id"] for d in v2.body["data"]) == ["corr", "mine"]


def test_get_v1_v2_list_a_trace_score_only_once_its_trace_exists() -> None:
    s = server()
    late = "2" * 32
    s.post(AUTH, body(id="early", traceId=late))
    s.process()
    assert s.get_v2(AUTH, {"traceId": late}).body["data"] == []
    assert [d["id"] for d in s.get_v3(AUTH, {"traceId": late}).body["data"]] == ["early"]
    s.add_trace("proj-1", Trace(late))
    assert [d["id"] for d in s.get_v2(AUTH, {"traceId": late}).body["data"]] == ["early"]


def test_get_v3() -> None:
    s = server()
    s.post(AUTH, body(id="b", value=1), now=T0)
    s.post(AUTH, body(id="c", dataType="CORRECTION", value="fixed"), now=T0)
    s.process()
    r = s.get_v3(AUTH, {"traceId": TRACE, "dataType": "boolean,correction", "fields": "subject"})
    assert r.status == 200
    values = {d["id"]: (d["value"], d["subject"]) for d in r.body["data"]}
    assert values == {
        "b": (True, {"kind": "trace", "id": TRACE}),
        "c": ("fixed", {"kind": "trace", "id": TRACE}),
    }
    assert s.get_v3(AUTH, {"page": "1"}).status == 400  # strict: unknown parameters fail
    assert s.get_v3(AUTH, {"traceId": TRACE, "sessionId": "s"}).status == 400
    assert s.get_v3(AUTH, {"userId": "u1"}).status == 400
