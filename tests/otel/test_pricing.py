"""One price table, then reconciliation: per-call costs add up to the reported query cost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.otel.pricing import Price, price_for, reconcile
from runner.types import Usage


@pytest.mark.parametrize(
    ("model", "input_price"),
    [
        ("claude-sonnet-4-5", 3.0),
        ("claude-sonnet-4-5-20250929", 3.0),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0),
        ("claude-opus-4-1-20250805", 15.0),
        ("claude-opus-4-5", 5.0),
        ("claude-haiku-4-5", 1.0),
        ("claude-3-5-haiku-20241022", 0.8),
    ],
)
def test_price_for_known_models(model: str, input_price: float) -> None:
    price = price_for(model)
    assert price is not None and price.input == input_price


def test_unknown_model_has_no_price() -> None:
    assert price_for("gpt-5") is None
    assert price_for(None) is None


def test_price_matches_what_claude_code_charges() -> None:
    # Measured: CLI 2.1.330 reported 0.00326025 for these three calls of claude-sonnet-4-5.
    price = Price(3.0, 15.0, 3.75, 0.30)
    total = sum(
        price.cost(u)
        for u in (Usage(100, 20, 50, 10), Usage(200, 30, 60, 0), Usage(300, 40, 70, 5))
    )
    assert total == pytest.approx(0.00326025, abs=1e-12)


def test_reconcile_scales_table_costs_to_the_reported_figure() -> None:
    calls = [("claude-sonnet-4-5", Usage(1000, 100)), ("claude-sonnet-4-5", Usage(2000, 0))]
    costs = reconcile(calls, reported=0.02)
    assert sum(c.cost_usd for c in costs) == pytest.approx(0.02, abs=1e-15)
    assert costs[0].cost_usd / costs[1].cost_usd == pytest.approx(4500 / 6000)
    assert {c.source for c in costs} == {"reconciled"}


def test_unknown_model_shares_the_reported_cost_by_token_weight() -> None:
    calls = [("mystery-model", Usage(1000, 0)), ("mystery-model", Usage(0, 200))]
    costs = reconcile(calls, reported=0.5)
    assert [c.cost_usd for c in costs] == pytest.approx([0.25, 0.25])
    assert {c.source for c in costs} == {"reported_share"}


def test_without_a_reported_cost_the_table_is_used() -> None:
    costs = reconcile([("claude-sonnet-4-5", Usage(1_000_000, 0))], reported=None)
    assert costs[0].cost_usd == pytest.approx(3.0) and costs[0].source == "price_table"


usages = st.builds(
    Usage,
    st.integers(0, 10**6),
    st.integers(0, 10**5),
    st.integers(0, 10**6),
    st.integers(0, 10**5),
)
models = st.sampled_from(["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "odd"])


@given(st.lists(st.tuples(models, usages), min_size=1, max_size=30), st.floats(0, 100))
def test_reconciled_costs_always_sum_to_the_reported_cost(
    calls: list[tuple[str, Usage]], reported: float
) -> None:
    costs = reconcile(calls, reported)
    assert len(costs) == len(calls)
    assert all(isinstance(c.cost_usd, float) and c.cost_usd >= 0 for c in costs)
    assert sum(c.cost_usd for c in costs) == pytest.approx(reported, abs=1e-9)
