"""Money in responses always has its currency's minor units (issue 18: never "0", never 32 decimals).

Applied at the edge to the documents that carry amounts (invoices, credit notes, a subscription's pending
charges): the stored values are untouched, their JSON shows ``tollgate.domain.money.money_text``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.domain.billing.invoices import TOTAL_FIELDS
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import money_text, round_money

INVOICE_TOTALS = TOTAL_FIELDS
LINE_AMOUNTS = ("amount",)
NOTE_AMOUNTS = ("amount", "applied_to_invoice", "balance")


def _fields(data: dict[str, Any], keys: tuple[str, ...], currency: str) -> None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                data[key] = money_text(value, currency)
            except ArithmeticError:  # not a number: shown as stored
                continue


def invoice_money(data: dict[str, Any]) -> dict[str, Any]:
    currency = str(data.get("currency") or "")
    _fields(data, ("amount_due",), currency)
    if isinstance(data.get("totals"), dict):
        _fields(data["totals"], INVOICE_TOTALS, currency)
    for line in data.get("lines") or ():
        if isinstance(line, dict):
            _fields(line, LINE_AMOUNTS, currency)
    return data


def note_money(data: dict[str, Any]) -> dict[str, Any]:
    currency = str(data.get("currency") or "")
    _fields(data, NOTE_AMOUNTS, currency)
    for consumed in data.get("consumed_by") or ():
        if isinstance(consumed, dict):
            _fields(consumed, ("amount",), currency)
    return data


def shown_rounded(amount: Decimal | str, currency: str) -> str:
    """An amount kept unrounded until it is invoiced (a proration), shown rounded to the minor units."""
    try:
        return money_text(round_money(Decimal(str(amount)), currency), currency)
    except (InvalidInput, ArithmeticError):
        return str(amount)


def charges_money(charges: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    for charge in charges:
        if isinstance(charge.get("amount"), str | Decimal):
            charge["amount"] = shown_rounded(charge["amount"], currency)
    return charges
