"""The public surface is what __all__ says, and nothing in it is missing."""

from __future__ import annotations

import pytest

import runner
import runner.offline


@pytest.mark.parametrize("module", [runner, runner.offline])
def test_all_names_exist(module: object) -> None:
    names = module.__all__
    assert names == sorted(names, key=str)
    for name in names:
        assert hasattr(module, name), name


def test_submit_score_rates_a_trace_in_langfuse_from_a_platform_backend() -> None:
    """A platform backend imports the package, takes a session's trace id from its stdout and
    attaches a rating: the score is one Langfuse's contract accepts and stores, on that trace."""
    from tests.support.langfuse_server import LangfuseServer

    langfuse = LangfuseServer()
    try:
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        reports = runner.submit_score(
            trace_id,
            "user-feedback",
            True,
            comment="helpful",
            environ={**langfuse.env(), "RUNNER_EXIT_BUDGET": "10"},
        )
        assert [(r.destination, r.delivered, r.not_delivered) for r in reports] == [
            ("langfuse", 1, 0)
        ]
        (row,) = langfuse.read_scores(trace_id, fields="core,details")
        assert (row["name"], row["value"], row["dataType"], row["comment"]) == (
            "user-feedback",
            True,
            "BOOLEAN",
            "helpful",
        )
        with pytest.raises(runner.ScoreError, match="trace_id"):
            runner.submit_score("not-a-trace", "x", 1, environ=langfuse.env())
    finally:
        langfuse.stop()
