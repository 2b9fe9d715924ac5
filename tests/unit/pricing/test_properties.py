"""Properties that hold for every valid price, checked with generated prices and quantities."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tollgate.domain.pricing import parse_price, quote

quantities = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
amounts = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def tier_lists(draw):
    """1-5 tiers with strictly ascending bounds (possibly fractional) and a final open tier."""
    bounds = sorted(
        draw(
            st.sets(
                st.decimals(min_value="0.001", max_value=10**5, places=3, allow_nan=False, allow_infinity=False),
                max_size=4,
            )
        )
    )
    return [
        {
            "up_to": str(up_to) if up_to is not None else None,
            "unit_amount": str(draw(amounts)),
            "flat_amount": str(draw(amounts)),
        }
        for up_to in [*bounds, None]
    ]


@st.composite
def packages(draw):
    return {
        "model": "package",
        "currency": "USD",
        "package_size": str(draw(st.decimals(min_value="0.5", max_value=5000, places=1, allow_nan=False))),
        "package_amount": str(draw(amounts)),
        "package_rounding": draw(st.sampled_from(["up", "down"])),
    }


@st.composite
def usage_prices(draw):
    """A price of any usage model (everything but flat, which ignores quantity)."""
    model = draw(st.sampled_from(["per_unit", "graduated", "volume", "package", "percentage"]))
    if model == "per_unit":
        return {"model": model, "currency": "USD", "unit_amount": str(draw(amounts))}
    if model in ("graduated", "volume"):
        return {"model": model, "currency": "USD", "tiers": draw(tier_lists())}
    if model == "package":
        return draw(packages())
    return {"model": model, "currency": "USD", "rate_percent": str(draw(amounts)), "min_amount": str(draw(amounts))}


@settings(deadline=None, database=None)
@given(tier_rows=tier_lists(), a=quantities, b=quantities)
def test_graduated_amount_never_decreases_as_quantity_grows(tier_rows, a, b):
    price = parse_price({"model": "graduated", "currency": "USD", "tiers": tier_rows})
    low, high = sorted((a, b))
    assert quote(price, low).unrounded <= quote(price, high).unrounded
    assert quote(price, low).amount <= quote(price, high).amount


@settings(deadline=None, database=None)
@given(data=packages(), a=quantities, b=quantities)
def test_package_amount_never_decreases_as_quantity_grows(data, a, b):
    price = parse_price(data)
    low, high = sorted((a, b))
    assert quote(price, low).amount <= quote(price, high).amount


@settings(deadline=None, database=None)
@given(tier_rows=tier_lists(), quantity=quantities)
def test_volume_amount_is_the_reached_tiers_rate_times_quantity_plus_its_flat(tier_rows, quantity):
    price = parse_price({"model": "volume", "currency": "USD", "tiers": tier_rows})
    reached = next(tier for tier in tier_rows if tier["up_to"] is None or quantity <= Decimal(tier["up_to"]))
    expected = quantity * Decimal(reached["unit_amount"]) + Decimal(reached["flat_amount"])
    assert quote(price, quantity).unrounded == expected


@settings(deadline=None, database=None)
@given(data=usage_prices(), included=quantities, quantity=quantities)
def test_included_units_price_like_the_same_price_at_the_reduced_quantity(data, included, quantity):
    with_included = parse_price({**data, "included_units": str(included)})
    without = parse_price(data)
    reduced = max(Decimal(0), quantity - included)
    assert quote(with_included, quantity).unrounded == quote(without, reduced).unrounded
    assert quote(with_included, quantity).amount == quote(without, reduced).amount


@settings(deadline=None, database=None)
@given(data=usage_prices(), quantity=quantities)
def test_the_total_is_the_exact_sum_of_the_lines_rounded_once(data, quantity):
    result = quote(parse_price(data), quantity)
    assert result.unrounded == sum(line.amount for line in result.breakdown)
    assert abs(result.amount - result.unrounded) <= Decimal("0.005")
