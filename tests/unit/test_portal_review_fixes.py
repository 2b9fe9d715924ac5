"""Issue 21 review fixes: the portal offers, and accepts, only its own plan choices; long ids are 404."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from tests.fakes.tenancy import InMemoryTenancyRepository
from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.catalog.plans import VersionStatus
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.keys import KeyStatus
from tollgate.usecases import gateway_sync, portal_sessions
from tollgate.usecases import portal as cases
from tollgate.usecases.invoicing.documents import invoice_pdf
from tollgate.usecases.subscriptions import mint_subscription_key

MONTH = NS(value="month")


def version(n: int, fee: str, status: VersionStatus = VersionStatus.PUBLISHED) -> NS:
    return NS(version=n, status=status, content=NS(fees=[NS(amount=Decimal(fee))]))


class Catalog:
    """pro: v1 ($50, superseded) and v2 ($80, current); basic v1 ($20, current)."""

    def __init__(self) -> None:
        self.plans = [
            NS(plan_id="pro", name="Pro", current_version=2, currency="USD", billing_interval=MONTH),
            NS(plan_id="basic", name="Basic", current_version=1, currency="USD", billing_interval=MONTH),
        ]
        self.versions = {("pro", 1): version(1, "50"), ("pro", 2): version(2, "80"), ("basic", 1): version(1, "20")}

    def list_plans(self, tenant_id):
        return self.plans

    def get_version(self, tenant_id, plan_id, n):
        return self.versions.get((plan_id, n))


class Subscriptions:
    sub = NS(
        subscription_id="sub_1", customer_id="cus_1", currency="USD", interval=MONTH, plan=NS(plan_id="pro", version=2)
    )

    def get(self, tenant_id, subscription_id):
        return self.sub if subscription_id == "sub_1" else None


CALLER = Caller(tenant_id="ten_a", kind=KeyKind.PORTAL, key_id="ps_1", customer_id="cus_1")


def test_a_portal_plan_change_may_not_pick_a_superseded_cheaper_version():
    repos = NS(subscriptions=Subscriptions(), catalog=Catalog())
    with pytest.raises(InvalidInput) as bad:
        cases.offered_target(repos, CALLER, "sub_1", "pro", 1)  # type: ignore[arg-type]
    assert bad.value.status == 422 and bad.value.extra["field"] == "version"
    assert "version 2" in bad.value.detail
    with pytest.raises(InvalidInput) as old_basic:  # another plan's superseded version
        repos.catalog.plans[1].current_version = 2
        repos.catalog.versions[("basic", 2)] = version(2, "30")
        cases.offered_target(repos, CALLER, "sub_1", "basic", 1)  # type: ignore[arg-type]
    assert old_basic.value.extra["field"] == "version" and "current version 2" in old_basic.value.detail
    with pytest.raises(InvalidInput) as unknown:
        cases.offered_target(repos, CALLER, "sub_1", "gold", None)  # type: ignore[arg-type]
    assert unknown.value.extra["field"] == "plan_id" and "/v1/portal/subscriptions/sub_1/plans" in unknown.value.detail
    cases.offered_target(repos, CALLER, "sub_1", "basic", None)  # type: ignore[arg-type]  # an offered choice
    cases.offered_target(repos, CALLER, "sub_1", "basic", 2)  # type: ignore[arg-type]


LONG = "x" * 2000


class DynamoLike:
    """A repository that, like real DynamoDB, refuses a key attribute over 1,024 bytes (ValidationException: a 500)."""

    def __init__(self, found: object = None) -> None:
        self.found = found

    def __getattr__(self, name: str):
        def lookup(tenant_id: str, *ids: str):
            if any(len(i.encode()) > 1024 for i in ids):
                raise RuntimeError("ValidationException: key attribute value exceeds 1024 bytes")
            return self.found

        return lookup


def test_an_id_too_long_to_be_a_key_is_404_before_any_lookup():
    sub = Subscriptions.sub
    for call in (
        lambda: cases.own_subscription(NS(subscriptions=DynamoLike()), CALLER, LONG),  # type: ignore[arg-type]
        lambda: cases.regenerate_key(NS(subscriptions=DynamoLike(sub), tenancy=DynamoLike()), CALLER, "sub_1", LONG),  # type: ignore[arg-type]
        lambda: portal_sessions.revoke_session(DynamoLike(), "ten_a", LONG),  # type: ignore[arg-type]
        lambda: gateway_sync.get_link(NS(catalog=DynamoLike()), "ten_a", LONG),  # type: ignore[arg-type]
        lambda: invoice_pdf(NS(invoices=DynamoLike()), None, None, "ten_a", LONG, customer_id="cus_1"),  # type: ignore[arg-type]
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.status == 404 and len(missing.value.detail) < 400


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.FAILED])
def test_the_portal_shows_no_draft_or_failed_invoice_by_id(status):
    invoices = NS(get_invoice=lambda t, i: NS(invoice_id=i, customer_id="cus_1", status=status))
    with pytest.raises(NotFound) as missing:
        cases.billed_invoice(NS(invoices=invoices), CALLER, "inv_1")  # type: ignore[arg-type]
    assert missing.value.status == 404 and "GET /v1/portal/invoices" in missing.value.detail
    issued = NS(get_invoice=lambda t, i: NS(invoice_id=i, customer_id="cus_1", status=InvoiceStatus.FINALIZED))
    assert cases.billed_invoice(NS(invoices=issued), CALLER, "inv_1").invoice_id == "inv_1"  # type: ignore[arg-type]


class StaleReads(InMemoryTenancyRepository):
    """Every get_key answers the key as first read: two regenerates that both read it ACTIVE at once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, object] = {}

    def get_key(self, tenant_id, key_id):
        return self.seen.setdefault(key_id, super().get_key(tenant_id, key_id))


def test_two_regenerates_at_once_leave_one_live_key_and_the_loser_gets_409():
    sub = NS(**vars(Subscriptions.sub), live=True, status=NS(value="ACTIVE"))
    subs = NS(get=lambda t, i: sub if i == "sub_1" else None)
    repos = NS(subscriptions=subs, tenancy=StaleReads(), clock=lambda: datetime(2026, 4, 17, tzinfo=UTC))
    first = mint_subscription_key(repos, CALLER, "sub_1", name="portal")  # type: ignore[arg-type]
    old, new = cases.regenerate_key(repos, CALLER, "sub_1", first.key.key_id)  # type: ignore[arg-type]
    assert old.status is KeyStatus.REVOKED and new.key.status is KeyStatus.ACTIVE
    with pytest.raises(Conflict) as lost:  # read the old key ACTIVE, but the first regenerate revoked it
        cases.regenerate_key(repos, CALLER, "sub_1", first.key.key_id)  # type: ignore[arg-type]
    assert lost.value.code == "KEY_ALREADY_REVOKED"
    live = [k for k in repos.tenancy.keys.values() if k.status is KeyStatus.ACTIVE]
    assert [k.key_id for k in live] == [new.key.key_id]
