"""Exact per-call prices from the maintained database; shares of a reported figure add up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.accounting.pricing import CallCost, canonical, model_price, price, share
from runner.accounting.usage import Usage


@pytest.mark.parametrize(
    ("model", "input_price", "window"),
    [
        ("claude-sonnet-4-5", 3.0, 200_000),
        ("claude-sonnet-4-5-20250929", 3.0, 200_000),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0, 200_000),
        ("claude-sonnet-4-5@20250929", 3.0, 200_000),
        ("claude-sonnet-4-5[1m]", 3.0, 200_000),
        ("claude-opus-4-1-20250805", 15.0, 200_000),
        ("claude-opus-4-5", 5.0, 200_000),
        ("claude-haiku-4-5", 1.0, 200_000),
    ],
)
def test_known_models_and_provider_spellings(model: str, input_price: float, window: int) -> None:
    found = model_price(model)
    assert found is not None and found.base.input == input_price
    assert found.context_window == window


def test_canonical_names() -> None:
    assert canonical("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == "claude-sonnet-4-5-20250929"
    assert canonical("anthropic/claude-opus-4-5") == "claude-opus-4-5"
    assert canonical("claude-sonnet-4-5[1m]") == "claude-sonnet-4-5"


def test_unknown_model_has_no_price() -> None:
    assert model_price("gpt-5") is None
    assert price("my-proxy-model", Usage(input_tokens=1, output_tokens=1)) is None
    assert price(None, Usage(input_tokens=1, output_tokens=1)) is None


def test_price_matches_what_claude_code_charges_for_5_minute_and_1_hour_writes() -> None:
    # Measured against CLI 2.1.330 (a local server answering these usages): $0.0645 for
    # 1000 in, 100 out and 10,000 one-hour cache writes; $0.00326025 for the three calls below.
    assert price(
        "claude-sonnet-4-5",
        Usage(
            input_tokens=1000,
            output_tokens=100,
            cache_read_input_tokens=0,
            cache_creation_input_tokens=10_000,
            cache_creation_1h_input_tokens=10_000,
        ),
    ).total == (  # type: ignore[union-attr]
        pytest.approx(0.0645, abs=1e-12)
    )
    calls = (
        Usage(
            input_tokens=100,
            output_tokens=20,
            cache_read_input_tokens=50,
            cache_creation_input_tokens=10,
        ),
        Usage(
            input_tokens=200,
            output_tokens=30,
            cache_read_input_tokens=60,
            cache_creation_input_tokens=0,
        ),
        Usage(
            input_tokens=300,
            output_tokens=40,
            cache_read_input_tokens=70,
            cache_creation_input_tokens=5,
        ),
    )
    total = sum(price("claude-sonnet-4-5", u).total for u in calls)  # type: ignore[union-attr]
    assert total == pytest.approx(0.00326025, abs=1e-12)


def test_one_hour_writes_cost_twice_the_input_price() -> None:
    five = price(
        "claude-haiku-4-5",
        Usage(
            input_tokens=0,
            output_tokens=0,
            cache_read_input_tokens=0,
            cache_creation_input_tokens=1_000_000,
        ),
    )
    hour = price(
        "claude-haiku-4-5",
        Usage(
            input_tokens=0,
            output_tokens=0,
            cache_read_input_tokens=0,
            cache_creation_input_tokens=1_000_000,
            cache_creation_1h_input_tokens=1_000_000,
        ),
    )
    assert five is not None and hour is not None
    assert (five.cache_write, hour.cache_write_1h) == (pytest.approx(1.25), pytest.approx(2.0))


def test_long_context_tier_applies_to_all_tokens_above_200k_input() -> None:
    """Anthropic bills the whole call at the long-context rate once input (cache included)
    passes 200k. Claude Code 2.1.330 does not (it reported $0.5925 for this call): the runner
    prices it exactly and records the difference on the query span."""
    usage = Usage(
        input_tokens=150_000,
        output_tokens=1000,
        cache_read_input_tokens=100_000,
        cache_creation_input_tokens=20_000,
        cache_creation_1h_input_tokens=10_000,
    )
    cost = price("claude-sonnet-4-5", usage)
    assert cost is not None
    assert cost.total == pytest.approx(
        (150_000 * 6 + 1000 * 22.5 + 100_000 * 0.6 + 10_000 * 7.5 + 10_000 * 12) / 1e6
    )
    below = price(
        "claude-sonnet-4-5",
        Usage(
            input_tokens=100_000,
            output_tokens=1000,
            cache_read_input_tokens=99_000,
            cache_creation_input_tokens=1000,
        ),
    )
    assert below is not None and below.input == pytest.approx(0.3)


def test_cost_details_use_langfuse_keys_and_sum_to_the_total() -> None:
    cost = price(
        "claude-sonnet-4-5",
        Usage(
            input_tokens=1000,
            output_tokens=100,
            cache_read_input_tokens=500,
            cache_creation_input_tokens=2000,
            cache_creation_1h_input_tokens=1000,
        ),
    )
    assert cost is not None
    details = cost.details()
    assert set(details) == {
        "input",
        "output",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "cache_creation_1h_input_tokens",
        "total",
    }
    assert sum(v for k, v in details.items() if k != "total") == pytest.approx(details["total"])
    assert CallCost(unsplit=0.25).details() == {"total": 0.25}


counts = st.integers(0, 10_000_000)
usages = st.builds(
    Usage,
    input_tokens=counts,
    output_tokens=counts,
    cache_read_input_tokens=counts,
    cache_creation_input_tokens=counts,
)


@given(st.floats(0, 100), st.lists(usages, min_size=1, max_size=20))
def test_shares_add_up_exactly(amount: float, calls: list[Usage]) -> None:
    parts = share(amount, calls)
    assert len(parts) == len(calls)
    assert all(p >= 0 for p in parts)
    assert sum(parts) == pytest.approx(amount, abs=1e-9)


def _genai_prices_model(name: str) -> str | None:
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    try:
        return calc_price(
            PriceUsage(input_tokens=1), model_ref=name, provider_id="anthropic"
        ).model.id
    except LookupError:
        return None


def test_the_price_snapshot_is_what_the_locked_genai_prices_says() -> None:
    """src/runner/accounting/price_data.json is a snapshot of genai-prices
    (scripts/update-prices): same model for every spelling, same total for calls below and above the
    long-context tier."""
    import json

    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    from runner.accounting import pricing

    snapshot = json.loads(pricing.SNAPSHOT.read_text())
    ids = [m["id"] for m in snapshot["models"]]
    assert len(ids) > 20 and "claude-sonnet-4-5" in ids
    names = [n for i in ids for n in (i, f"{i}-20250929", f"{i}@20250929", f"{i}-latest")]
    for name in names:
        ours = model_price(name)
        assert (ours.model_id if ours else None) == _genai_prices_model(canonical(name)), name
    for model_id in ids:
        for usage in (
            Usage(
                input_tokens=1000,
                output_tokens=100,
                cache_read_input_tokens=500,
                cache_creation_input_tokens=2000,
                cache_creation_1h_input_tokens=700,
            ),
            Usage(
                input_tokens=150_000,
                output_tokens=10,
                cache_read_input_tokens=60_000,
                cache_creation_input_tokens=1000,
            ),
        ):
            ours = price(model_id, usage)
            theirs = calc_price(
                PriceUsage(
                    input_tokens=usage.total_input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=usage.cache_read_input_tokens,
                    cache_write_5m_tokens=usage.cache_creation_5m_input_tokens,
                    cache_write_1h_tokens=usage.cache_creation_1h_input_tokens,
                    cache_write_tokens=usage.cache_creation_input_tokens,
                ),
                model_ref=model_id,
                provider_id="anthropic",
            )
            assert ours is not None, model_id
            assert ours.total == pytest.approx(float(theirs.total_price), rel=1e-9), model_id


def test_every_dollar_figure_is_rounded_once_where_it_is_made() -> None:
    """Langfuse showed a call's cache savings as 0.000065999999999999999: figures are rounded
    to 12 decimals where they are made, so every reader sees the same clean number."""
    from runner.accounting.figures import Figures, LedgerCall
    from runner.accounting.pricing import USD_DIGITS, price

    usage = Usage(
        input_tokens=3, output_tokens=7, cache_read_input_tokens=22, cache_creation_input_tokens=11
    )
    cost = price("claude-sonnet-4-5", usage)
    assert cost is not None
    for value in (*cost.by_kind().values(), cost.total, cost.cache_savings):
        assert value == round(value, USD_DIGITS) and len(repr(value)) <= 20, value
    calls = [
        LedgerCall(query=1, thread=None, message_id=f"m{i}", model="claude-sonnet-4-5",
                   usage=usage, cost=cost)
        for i in range(3)
    ]  # fmt: skip
    figures = Figures.of(calls)
    assert figures.cost_usd == round(3 * cost.total, USD_DIGITS)
    assert repr(figures.cache_savings_usd) == repr(round(3 * cost.cache_savings, USD_DIGITS))
