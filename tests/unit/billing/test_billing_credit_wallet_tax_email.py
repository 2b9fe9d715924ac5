"""Issue 6: credit notes, prepaid wallets, tax (exclusive, inclusive), voiding, and the invoice email."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.unit.billing.billing_world import FEB, JAN, TENANT, World
from tollgate.domain.billing.invoices import InvoiceStatus, LineKind
from tollgate.domain.errors import Conflict, InvalidInput
from tollgate.usecases.billing import bill_subscription, send_invoice
from tollgate.usecases.invoicing import (
    create_credit_note,
    create_wallet,
    mark_paid,
    mark_uncollectible,
    put_billing_settings,
    top_up_wallet,
    void_invoice,
)

D = Decimal


def billed(world: World, amount: str = "100", customer=None, **sub_fields):
    version = world.plan(fees=[{"name": "Seat", "amount": amount, "timing": "in_arrears"}])
    sub = world.subscribe(version, customer, **sub_fields)
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.status == "INVOICED", result
    return sub, result.invoice


# -- credit notes ---------------------------------------------------------------------------------------


def test_a_credit_note_reduces_the_amount_due_and_one_bringing_it_to_zero_pays_the_invoice(world: World):
    _, invoice = billed(world)
    create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "30", "reason": "outage"})
    after = world.billing.get_invoice(TENANT, invoice.invoice_id)
    assert after.status is InvoiceStatus.FINALIZED and after.amount_due == D("70")
    note = create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "70"})
    paid = world.billing.get_invoice(TENANT, invoice.invoice_id)
    assert paid.status is InvoiceStatus.PAID and paid.amount_due == 0 and paid.totals.credited == D("100")
    assert note.balance == 0 and [e.data["paid_by"] for e in world.billing.events_of("invoice.paid")] == ["credit_note"]


def test_a_credit_note_is_limited_to_what_the_invoice_can_still_be_credited(world: World):
    _, invoice = billed(world)
    create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "60"})
    with pytest.raises(InvalidInput) as err:
        create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "40.01"})
    assert "40.00" in err.value.detail
    with pytest.raises(InvalidInput):
        create_credit_note(
            world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "1.001"}
        )  # USD has 2 decimals


def test_credit_notes_need_an_issued_invoice(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_arrears"}])
    sub = world.subscribe(version)
    draft = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN, finalize=False).invoice
    with pytest.raises(Conflict) as conflict:
        create_credit_note(world.repos, TENANT, {"invoice_id": draft.invoice_id, "amount": "1"})
    assert "DRAFT" in conflict.value.detail


def test_credit_left_on_a_note_of_a_paid_invoice_is_applied_to_the_next_invoice_before_tax(world: World):
    put_billing_settings(
        world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "rates": [{"name": "VAT", "rate_percent": "20"}]}}
    )
    sub, invoice = billed(world)
    mark_paid(world.repos, TENANT, invoice.invoice_id)
    note = create_credit_note(
        world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "30", "reason": "goodwill"}
    )
    assert note.applied_to_invoice == 0 and note.balance == D("30")
    world.now = FEB[1] + timedelta(hours=1)
    nxt = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    (credit,) = [ln for ln in nxt.lines if ln.kind is LineKind.CREDIT_NOTE]
    assert credit.amount == D("-30") and credit.details["credit_note_id"] == note.credit_note_id
    # subtotal 100 - credit 30 = 70 taxable; VAT 20% = 14; total 84
    assert (nxt.totals.subtotal, nxt.totals.credit_notes, nxt.totals.tax, nxt.totals.total) == (
        D("100.00"),
        D("30"),
        D("14.00"),
        D("84.00"),
    )
    assert world.billing.get_credit_note(TENANT, note.credit_note_id).balance == 0


def test_150_credit_notes_are_consumed_50_per_invoice_and_the_rest_carry_over(world: World):
    """The finalize transaction holds one item per consumed note and takes at most 100 items."""
    from tests.unit.billing.billing_world import MAR
    from tollgate.domain.billing.credit_notes import MAX_NOTES_PER_INVOICE

    sub, invoice = billed(world)
    mark_paid(world.repos, TENANT, invoice.invoice_id)
    notes = [
        create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "0.5"}) for _ in range(150)
    ]
    for period, consumed, left in ((FEB, 50, 100), (MAR, 100, 50)):
        world.now = period[1] + timedelta(hours=1)
        nxt = bill_subscription(world.repos, TENANT, sub.subscription_id, *period).invoice
        credits = [ln for ln in nxt.lines if ln.kind is LineKind.CREDIT_NOTE]
        assert len(credits) == MAX_NOTES_PER_INVOICE and nxt.totals.credit_notes == D("25")
        oldest_first = sorted(notes, key=lambda n: (n.created_at, n.credit_note_id))
        balances = [world.billing.get_credit_note(TENANT, n.credit_note_id).balance for n in oldest_first]
        assert balances == [D("0")] * consumed + [D("0.5")] * left  # oldest first; the rest keep their balance


# -- wallets ---------------------------------------------------------------------------------------------


def test_a_wallet_covers_what_it_can_for_a_customer_who_is_not_prepaid(world: World):
    customer = world.customer()
    wallet = create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id, "initial_balance": "40"})
    _, invoice = billed(world, customer=customer)
    assert (
        invoice.totals.wallet == D("40")
        and invoice.amount_due == D("60.00")
        and invoice.status is InvoiceStatus.FINALIZED
    )
    assert world.billing.get_wallet(TENANT, wallet.wallet_id).balance == 0
    (line,) = [ln for ln in invoice.lines if ln.kind is LineKind.WALLET]
    assert line.amount == D("-40") and invoice.attribution["stages"][8] == {"stage": "wallet", "amount": "-40"}


def test_a_prepaid_customer_covered_by_the_wallet_gets_a_paid_invoice(world: World):
    customer = world.customer(billing_mode="prepaid")
    wallet = create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id})
    top_up_wallet(world.repos, TENANT, wallet.wallet_id, "250")
    _, invoice = billed(world, customer=customer)
    assert invoice.status is InvoiceStatus.PAID and world.billing.get_wallet(TENANT, wallet.wallet_id).balance == D(
        "150.00"
    )


def test_one_wallet_per_customer_and_currency_and_top_ups_are_positive_amounts(world: World):
    customer = world.customer()
    create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id})
    with pytest.raises(Conflict):
        create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id})
    eur = create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id, "currency": "EUR"})
    for bad in ("0", "-5", "1.001", 2.5):
        with pytest.raises(InvalidInput):
            top_up_wallet(world.repos, TENANT, eur.wallet_id, bad)


def test_voiding_gives_back_the_wallet_burn(world: World):
    customer = world.customer()
    wallet = create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id, "initial_balance": "25"})
    sub, invoice = billed(world, customer=customer)
    voided = void_invoice(world.repos, TENANT, invoice.invoice_id)
    assert voided.status is InvoiceStatus.VOID and world.billing.get_wallet(TENANT, wallet.wallet_id).balance == D("25")
    with pytest.raises(Conflict) as conflict:
        void_invoice(world.repos, TENANT, invoice.invoice_id)
    assert "VOID" in conflict.value.detail
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).status == "ALREADY_INVOICED"


def test_mark_uncollectible_then_paid(world: World):
    _, invoice = billed(world)
    assert mark_uncollectible(world.repos, TENANT, invoice.invoice_id).status is InvoiceStatus.UNCOLLECTIBLE
    paid = mark_paid(world.repos, TENANT, invoice.invoice_id)
    assert paid.status is InvoiceStatus.PAID and paid.totals.paid == D("100.00") and paid.amount_due == 0


# -- tax -----------------------------------------------------------------------------------------------


def test_exclusive_tax_is_added_on_top_one_rounded_line_per_rate(world: World):
    put_billing_settings(
        world.repos,
        TENANT,
        {
            "tax": {
                "mode": "EXCLUSIVE",
                "rates": [{"name": "State", "rate_percent": "6.25"}, {"name": "City", "rate_percent": "2"}],
            }
        },
    )
    _, invoice = billed(world, "99.99")
    taxes = {ln.description: ln.amount for ln in invoice.lines if ln.kind is LineKind.TAX}
    assert taxes == {"State 6.25%": D("6.25"), "City 2%": D("2.00")}  # 6.249375 -> 6.25; 1.9998 -> 2.00
    assert invoice.totals.total == D("108.24")


def test_inclusive_tax_is_extracted_from_the_line_totals_and_not_added(world: World):
    put_billing_settings(
        world.repos, TENANT, {"tax": {"mode": "INCLUSIVE", "rates": [{"name": "VAT", "rate_percent": "20"}]}}
    )
    _, invoice = billed(world, "120")
    (tax,) = [ln for ln in invoice.lines if ln.kind is LineKind.TAX]
    assert tax.amount == D("20.00") and tax.details["inclusive"] is True and "included" in tax.description
    assert invoice.totals.total == D("120.00") and invoice.totals.tax_inclusive


def test_tax_settings_are_validated(world: World):
    with pytest.raises(InvalidInput):
        put_billing_settings(world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE"}})  # builtin needs a rate
    with pytest.raises(InvalidInput) as err:
        put_billing_settings(world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": "avalara"}})
    assert "builtin" in err.value.detail
    with pytest.raises(InvalidInput):
        put_billing_settings(world.repos, TENANT, {"sender_email": "not an email"})


# -- email ---------------------------------------------------------------------------------------------


def test_finalization_emails_the_invoice_from_the_tenant_sender_to_the_customer(world: World):
    put_billing_settings(world.repos, TENANT, {"sender_email": "billing@vendor.test", "sender_name": "Vendor"})
    assert world.mailer.verified == ["billing@vendor.test"]
    _, invoice = billed(world)
    (mail,) = world.mailer.sent
    assert (mail["sender"], mail["to"]) == ("billing@vendor.test", "ada@example.com")
    assert invoice.invoice_id in mail["subject"] and "100.00 USD" in mail["text"]
    assert len(world.billing.events_of("invoice.sent")) == 1


@pytest.mark.parametrize("problem", ["no customer email", "no sender", "rejected"])
def test_a_failed_send_publishes_invoice_send_failed_with_the_reason_and_a_resend_works_once_fixed(
    world: World, problem
):
    customer = world.customer(email=None if problem == "no customer email" else "ada@example.com")
    if problem != "no sender":
        put_billing_settings(world.repos, TENANT, {"sender_email": "billing@vendor.test"})
    if problem == "rejected":
        world.mailer.reject.add("billing@vendor.test")
    _, invoice = billed(world, customer=customer)  # the bill itself succeeds
    assert invoice.status is InvoiceStatus.FINALIZED and world.mailer.sent == []
    (failed,) = world.billing.events_of("invoice.send_failed")
    code = {
        "no customer email": "CUSTOMER_EMAIL_MISSING",
        "no sender": "SENDER_NOT_CONFIGURED",
        "rejected": "EMAIL_REJECTED",
    }[problem]
    assert failed.data["reason_code"] == code and failed.data["invoice_id"] == invoice.invoice_id
    # the fix, then a resend
    if problem == "no customer email":
        world.customers.items[(TENANT, customer.customer_id)] = customer.__class__(
            **{**customer.__dict__, "email": "ada@example.com"}
        )
    elif problem == "no sender":
        put_billing_settings(world.repos, TENANT, {"sender_email": "billing@vendor.test"})
    else:
        world.mailer.reject.clear()
    result = send_invoice(world.repos, TENANT, invoice.invoice_id)
    assert result.sent and result.delivery.attempts == 2 and len(world.mailer.sent) == 1


def test_the_settings_read_back_can_be_sent_back_unchanged():
    """GET /v1/settings/billing answers what PUT takes: a read-modify-write (the console's Finance screen)
    must not fail on the shape of a field it did not touch (the tax timeout is a decimal string both ways)."""
    from datetime import UTC, datetime

    from tollgate.domain.billing.settings import parse_settings

    at = datetime(2026, 11, 30, tzinfo=UTC)
    tax = {"mode": "EXCLUSIVE", "rates": [{"name": "VAT", "rate_percent": "20"}], "timeout_seconds": "2.5"}
    body = {"sender_email": "billing@example.com", "tax": tax}
    first = parse_settings("ten_1", body, providers=["builtin"], at=at, revision=1)
    shown = first.to_json()
    assert shown["tax"]["timeout_seconds"] == "2.5"
    sent_back = {k: v for k, v in shown.items() if k not in ("updated_at", "revision")}
    again = parse_settings("ten_1", sent_back, providers=["builtin"], at=at, revision=2)
    assert again.to_json() | {"revision": 1} == shown
    default = parse_settings("ten_1", {}, providers=["builtin"], at=at, revision=1).to_json()["tax"]
    assert default["timeout_seconds"] == "5"
