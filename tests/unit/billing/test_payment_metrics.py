"""Business metrics of collection (issue 12 item 5): PaymentDeclines by decline code and
DunningOutcomes by outcome, recorded through tollgate.observability.count."""

from __future__ import annotations

import pytest

from tests.unit.billing.billing_world import TENANT
from tests.unit.billing.test_payments_dunning import PayWorld
from tollgate.domain.payments import PaymentOutcome
from tollgate.usecases import payments
from tollgate.usecases.payments import attempts, repos


@pytest.fixture
def counted(monkeypatch) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []

    def record(name: str, value: float = 1, **dims: str) -> None:
        seen.append((name, dims))

    monkeypatch.setattr(attempts, "count", record)
    monkeypatch.setattr(repos, "count", record)
    return seen


def test_a_decline_then_a_success_counts_one_decline_and_one_recovered_collection(counted):
    pw = PayWorld([PaymentOutcome.DECLINED, PaymentOutcome.SUCCEEDED])
    invoice, _ = pw.invoice()
    pw.run_dunning(invoice)
    assert counted == [
        ("PaymentDeclines", {"decline_code": "card_declined"}),
        ("DunningOutcomes", {"outcome": "recovered"}),
    ]


def test_a_first_attempt_success_counts_paid_and_exhausted_dunning_counts_uncollectible(counted):
    pw = PayWorld([PaymentOutcome.SUCCEEDED])
    invoice, _ = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    assert counted == [("DunningOutcomes", {"outcome": "paid"})]
    counted.clear()
    declines = PayWorld([PaymentOutcome.DECLINED] * 4)
    unpaid, _ = declines.invoice()
    declines.run_dunning(unpaid)
    assert [n for n, _ in counted].count("PaymentDeclines") == 4
    assert counted[-1] == ("DunningOutcomes", {"outcome": "uncollectible"})
