"""The quote as a whole: JSON shape, included units, rounding once, and the price round trip."""

from decimal import Decimal

from tollgate.domain.pricing import parse_price, quote

CONTRACT_TIERS = [
    {"up_to": 1000, "unit_amount": "0.10", "flat_amount": "0"},
    {"up_to": 10000, "unit_amount": "0.05", "flat_amount": "0"},
    {"up_to": None, "unit_amount": "0.04", "flat_amount": "0"},
]


def test_quote_to_json_gives_decimal_strings_and_per_tier_lines():
    # The contract's example price: 1000 x 0.10 + 9000 x 0.05 + 5000 x 0.04 = 750.
    result = quote({"model": "graduated", "currency": "USD", "tiers": CONTRACT_TIERS}, Decimal(15000))
    body = result.to_json()
    assert body["amount"] == "750.00"
    assert body["currency"] == "USD"
    assert body["breakdown"] == [
        {"tier": 1, "units": "1000", "unit_amount": "0.10", "flat_amount": "0", "amount": "100.00"},
        {"tier": 2, "units": "9000", "unit_amount": "0.05", "flat_amount": "0", "amount": "450.00"},
        {"tier": 3, "units": "5000", "unit_amount": "0.04", "flat_amount": "0", "amount": "200.00"},
    ]


def test_included_units_are_subtracted_before_the_model_and_reported():
    price = {"model": "graduated", "currency": "USD", "tiers": CONTRACT_TIERS, "included_units": "1000"}
    result = quote(price, Decimal(1500))
    assert (result.quantity, result.included_units, result.billable_quantity) == (
        Decimal(1500),
        Decimal(1000),
        Decimal(500),
    )
    assert result.amount == Decimal("50.00")  # 500 units, all in the first tier
    assert quote(price, Decimal(400)).billable_quantity == Decimal(0)  # floored at 0


def test_the_total_is_rounded_once_from_the_exact_sum_not_from_rounded_lines():
    # Two tiers of 0.005 each: each line shows 0.01, but the exact total 0.010 rounds to 0.01.
    price = {
        "model": "graduated",
        "currency": "USD",
        "tiers": [{"up_to": 1, "unit_amount": "0.005"}, {"up_to": None, "unit_amount": "0.005"}],
    }
    body = quote(price, Decimal(2)).to_json()
    assert [line["amount"] for line in body["breakdown"]] == ["0.01", "0.01"]
    assert body["unrounded"] == "0.010"
    assert body["amount"] == "0.01"


def test_amounts_round_to_the_currencys_minor_units():
    assert quote({"model": "per_unit", "currency": "JPY", "unit_amount": "0.5"}, 3).to_json()["amount"] == "2"
    assert quote({"model": "per_unit", "currency": "KWD", "unit_amount": "0.0005"}, 1).to_json()["amount"] == "0.001"


def test_a_price_survives_a_json_round_trip():
    for data in (
        {"model": "graduated", "currency": "USD", "tiers": CONTRACT_TIERS, "included_units": "1000"},
        {"model": "volume", "currency": "EUR", "tiers": [{"up_to": "0.5", "flat_amount": "1"}, {"up_to": None}]},
        {
            "model": "package",
            "currency": "USD",
            "package_size": 1000,
            "package_amount": "10",
            "package_rounding": "down",
        },
        {"model": "percentage", "currency": "USD", "rate_percent": "2.9", "min_amount": "0.30"},
        {"model": "flat", "currency": "JPY", "flat_amount": "980"},
        {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"},
    ):
        price = parse_price(data)
        assert parse_price(price.to_json()) == price


def test_pricing_code_is_pure_no_io_imports_and_no_float_literals():
    import ast
    from pathlib import Path

    import tollgate.domain.money as money
    import tollgate.domain.pricing as pricing

    files = [Path(money.__file__), *Path(pricing.__file__).parent.rglob("*.py")]
    forbidden = {"boto3", "botocore", "os", "io", "socket", "urllib", "requests", "httpx"}
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                assert not {alias.name.split(".")[0] for alias in node.names} & forbidden, file
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in forbidden, file
            if isinstance(node, ast.Constant):
                assert not isinstance(node.value, float), f"float literal in {file}"
