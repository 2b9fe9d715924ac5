"""Issue 18 item 7: money in responses has its currency's minor units ("0.00", never "0" or 32 decimals)."""

from decimal import Decimal

import pytest

from tollgate.api.money_out import charges_money, invoice_money, shown_rounded
from tollgate.domain.money import money_text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("0", "USD", "0.00"),
        (Decimal("0E-32"), "USD", "0.00"),
        ("12.5", "USD", "12.50"),
        ("5", "JPY", "5"),
        ("1.2", "KWD", "1.200"),
        ("0.005", "USD", "0.005"),  # a unit price finer than a cent keeps its digits
        ("-3.10000", "USD", "-3.10"),
        ("1E+3", "USD", "1000.00"),
    ],
)
def test_money_text(amount, currency, shown):
    assert money_text(amount, currency) == shown


def test_an_invoice_shows_every_total_and_line_amount_in_minor_units():
    data = {
        "currency": "USD",
        "amount_due": "0",
        "totals": {"total": "0", "tax": "0E-32", "subtotal": "12.5"},
        "lines": [{"amount": "0", "unit_amount": "0.005"}],
    }
    out = invoice_money(data)
    assert out["amount_due"] == "0.00" and out["totals"] == {"total": "0.00", "tax": "0.00", "subtotal": "12.50"}
    assert out["lines"] == [{"amount": "0.00", "unit_amount": "0.005"}]


def test_a_proration_is_shown_rounded_not_with_32_decimals():
    assert shown_rounded(Decimal("0." + "0" * 32), "USD") == "0.00"
    assert shown_rounded(Decimal(30) / Decimal(7), "USD") == "4.29"
    assert charges_money([{"amount": "1.005"}], "USD") == [{"amount": "1.01"}]
