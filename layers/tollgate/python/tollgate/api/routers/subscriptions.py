"""Subscriptions and bulk migrations."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field, StrictInt

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import ExternalId, Flag, Identifier, MetadataText, Name, Timestamp, TrialDays, VersionNumber
from tollgate.api.models import ApiModel
from tollgate.api.money_out import charges_money, shown_rounded
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.api.routers.api_keys import KeyOut, issued_out
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.subscriptions import Subscription
from tollgate.usecases import payments as payment_cases
from tollgate.usecases import plan_changes
from tollgate.usecases import subscriptions as cases

router = Router()


def _answer(status: int, model: ApiModel) -> Response:
    """A JSON response with a status other than 200 (the route's ``responses`` documents its model)."""
    return Response(status, "application/json", model.model_dump(mode="json"))


class SubscriptionIn(ApiModel):
    customer_id: Identifier | None = None
    external_customer_id: ExternalId | None = None
    plan_id: Identifier
    version: VersionNumber | None = Field(default=None, description="Default: the plan's current published version.")
    external_id: ExternalId | None = Field(
        default=None, description="Your id for this subscription (Lago's external_subscription_id)."
    )
    anchor: Literal["CALENDAR", "ANNIVERSARY"] = "ANNIVERSARY"
    trial_days: TrialDays | None = Field(default=None, description="Default: the plan's trial_days.")
    start_at: Timestamp | None = Field(
        default=None, description="Default: now. At most 365 days back (billed from then) and 365 days ahead."
    )
    end_at: Timestamp | None = Field(
        default=None, description="A fixed term: the subscription EXPIRES then (its last period is billed up to it)."
    )
    periods: Annotated[StrictInt, Field(ge=1, le=120)] | None = Field(
        default=None, description="A fixed term of this many billing periods (instead of end_at): then EXPIRED."
    )
    metadata: dict[Annotated[str, Field(max_length=40)], MetadataText] = Field(default_factory=dict)


class PlanChangeIn(ApiModel):
    plan_id: Identifier
    version: VersionNumber | None = None


class MigrateIn(ApiModel):
    plan_id: Identifier
    version: VersionNumber | None = None
    at_period_end: Flag = False


class KeyIn(ApiModel):
    name: Name = ""
    livemode: Flag = True


class PaymentOut(ApiModel):
    state: Literal["paid", "pending", "failed"]
    overdue_since: str | None
    grace_period_days: int
    grace_ends_at: str | None


class BoundKey(ApiModel):
    id: str
    display: str
    status: str
    livemode: bool


class PeriodOut(ApiModel):
    start: str
    end: str


class SubscriptionOut(ApiModel):
    id: str
    customer_id: str
    external_id: str | None
    status: str
    plan_id: str
    plan_version: int
    currency: str
    interval: str
    anchor: str
    timezone: str
    started_at: str
    trial_end: str | None
    end_at: str | None = None
    current_period: PeriodOut | None
    cancel_at_period_end: bool
    cancelled_at: str | None
    pending_plan: dict | None
    dunning_attempts: int = Field(description="Failed payment attempts of the overdue invoice (0 when paid up).")
    payment: PaymentOut | None = Field(
        default=None, description="paid / pending (overdue, within the grace period) / failed (GET by id only)."
    )
    pending_charges: list[dict]
    discount: dict | None = Field(
        default=None, description="The applied coupon: percent or amount off, periods left (null: forever)"
    )
    keys: list[BoundKey]


class DiscountIn(ApiModel):
    coupon_id: Identifier


class RetryOut(ApiModel):
    subscription: SubscriptionOut
    attempts: list[dict] = Field(
        description="One per unpaid invoice, oldest first: the attempt made and the invoice after it."
    )


class SubscriptionList(PageFields):
    data: list[SubscriptionOut]


class ChangeOut(ApiModel):
    subscription: SubscriptionOut
    proration: str = Field(
        description="Charged (positive) or credited (negative) on the next invoice; shown in the currency's minor "
        "units (the invoice rounds the exact amount)."
    )


class HistoryLine(ApiModel):
    at: str
    action: str
    from_status: str | None
    to_status: str
    detail: dict


class HistoryOut(PageFields):
    data: list[HistoryLine]


def subscription_out(s: Subscription, with_keys: bool = True) -> SubscriptionOut:
    period = s.period(utcnow()) if s.live else None
    keys = []
    if with_keys:
        keys = [
            BoundKey(id=k.key_id, display=k.display, status=k.status.value, livemode=k.livemode)
            for k in wiring.tenancy_repository().subscription_keys(s.tenant_id, s.subscription_id)
        ]
    return SubscriptionOut(
        id=s.subscription_id,
        customer_id=s.customer_id,
        external_id=s.external_id,
        status=s.status.value,
        plan_id=s.plan.plan_id,
        plan_version=s.plan.version,
        currency=s.currency,
        interval=s.interval.value,
        anchor=s.anchor.value,
        timezone=s.timezone,
        started_at=to_rfc3339(s.started_at),
        trial_end=to_rfc3339(s.trial_end) if s.trial_end else None,
        end_at=to_rfc3339(s.end_at) if s.end_at else None,
        current_period=PeriodOut(start=to_rfc3339(period.start), end=to_rfc3339(period.end)) if period else None,
        cancel_at_period_end=s.cancel_at_period_end,
        cancelled_at=to_rfc3339(s.cancelled_at) if s.cancelled_at else None,
        pending_plan={"plan_id": s.pending_plan.plan_id, "version": s.pending_plan.version} if s.pending_plan else None,
        dunning_attempts=s.dunning_attempts,
        payment=PaymentOut(**payment_cases.subscription_payment_status(wiring.payment_repos(), s).to_json())
        if with_keys
        else None,
        pending_charges=charges_money(
            [{"description": d, "amount": a, "at": at} for d, a, at in s.pending_charges], s.currency
        ),
        discount=s.discount.to_json() if s.discount else None,
        keys=keys,
    )


Caller_ = Annotated[Caller, Depends(current_caller)]


@router.post(
    "/v1/subscriptions",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions"],
    summary="Subscribe a customer to a published plan version (pinned to it)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": SubscriptionOut}}}},
)
def create_subscription(body: SubscriptionIn, caller: Caller_) -> Response[SubscriptionOut]:
    sub = cases.create_subscription(wiring.subscription_repos(), caller.tenant_id, body.model_dump())
    return _answer(201, subscription_out(sub))


@router.get(
    "/v1/subscriptions",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["subscriptions"],
    summary="List subscriptions",
)
def list_subscriptions(
    caller: Caller_,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> SubscriptionList:
    repo = wiring.subscription_repository()
    page = (
        repo.page_for_customer(caller.tenant_id, customer_id, limit=limit, cursor=starting_after)
        if customer_id
        else repo.page_for_tenant(caller.tenant_id, limit=limit, cursor=starting_after)
    )
    return SubscriptionList(data=[subscription_out(s, with_keys=False) for s in page.data], **page_fields(page))


@router.get(
    "/v1/subscriptions/<subscription_id>",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["subscriptions"],
    summary="Status, pinned plan version, current period, dunning attempts and keys (prefix only)",
)
def get_subscription(subscription_id: str, caller: Caller_) -> SubscriptionOut:
    return subscription_out(cases.get_subscription(wiring.subscription_repos(), caller.tenant_id, subscription_id))


@router.post(
    "/v1/subscriptions/<subscription_id>/retry-payment",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions", "payments"],
    summary="Retry the payment of the subscription's unpaid invoices now (seed 000: stuck in PAST_DUE)",
    description=(
        "Charges every FINALIZED or UNCOLLECTIBLE invoice of the subscription with the customer's current payment "
        "method. Success: the invoice is PAID and a PAST_DUE subscription is ACTIVE again. A decline counts as a "
        "dunning attempt. "
        "409 NOTHING_TO_RETRY when nothing is unpaid, 409 PAYMENT_METHOD_MISSING without a payment method, "
        "503 PAYMENT_PROVIDER_UNAVAILABLE when the provider cannot be reached (nothing charged)."
    ),
)
def retry_payment(subscription_id: str, caller: Caller_) -> RetryOut:
    repos = wiring.payment_repos()
    outcomes = payment_cases.retry_payment(repos, caller.tenant_id, subscription_id)
    sub = cases.get_subscription(wiring.subscription_repos(), caller.tenant_id, subscription_id)
    return RetryOut(subscription=subscription_out(sub), attempts=[o.to_json() for o in outcomes])


@router.post(
    "/v1/subscriptions/<subscription_id>/discount",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions", "coupons"],
    summary="Apply a coupon: its discount is on the next invoices (replaces any earlier discount)",
)
def apply_discount(subscription_id: str, body: DiscountIn, caller: Caller_) -> SubscriptionOut:
    sub = cases.apply_discount(
        wiring.subscription_repos(), wiring.coupon_repository(), caller.tenant_id, subscription_id, body.coupon_id
    )
    return subscription_out(sub)


@router.delete(
    "/v1/subscriptions/<subscription_id>/discount",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions", "coupons"],
    summary="Remove the subscription's discount",
)
def remove_discount(subscription_id: str, caller: Caller_) -> SubscriptionOut:
    return subscription_out(cases.remove_discount(wiring.subscription_repos(), caller.tenant_id, subscription_id))


@router.delete(
    "/v1/subscriptions/<subscription_id>",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions"],
    summary="Cancel (now, or at_period_end=true); revokes the subscription's keys",
)
def cancel_subscription(
    subscription_id: str, caller: Caller_, at_period_end: Annotated[bool, Query()] = False
) -> SubscriptionOut:
    sub = cases.cancel_subscription(
        wiring.subscription_repos(), caller.tenant_id, subscription_id, at_period_end=at_period_end
    )
    return subscription_out(sub)


@router.post(
    "/v1/subscriptions/<subscription_id>/upgrade",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions"],
    summary="Move to a dearer plan or version now, prorating recurring fees by the second",
)
def upgrade_subscription(subscription_id: str, body: PlanChangeIn, caller: Caller_) -> ChangeOut:
    return _change_plan(caller, subscription_id, body, "upgrade")


@router.post(
    "/v1/subscriptions/<subscription_id>/downgrade",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions"],
    summary="Move to a cheaper plan or version at the end of the current period (no proration)",
)
def downgrade_subscription(subscription_id: str, body: PlanChangeIn, caller: Caller_) -> ChangeOut:
    return _change_plan(caller, subscription_id, body, "downgrade")


def _change_plan(caller: Caller, subscription_id: str, body: PlanChangeIn, direction: str) -> ChangeOut:
    sub, amount = plan_changes.change_plan(
        wiring.subscription_repos(),
        caller.tenant_id,
        subscription_id,
        plan_id=body.plan_id,
        version=body.version,
        direction=direction,
    )
    return ChangeOut(subscription=subscription_out(sub), proration=shown_rounded(amount, sub.currency))


@router.post(
    "/v1/subscriptions/<subscription_id>/migrate",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["subscriptions"],
    summary="Move to another plan (409 if cancelled/expired, same plan, or a bulk migration runs)",
)
def migrate_subscription(subscription_id: str, body: MigrateIn, caller: Caller_) -> SubscriptionOut:
    sub = plan_changes.migrate_subscription(
        wiring.subscription_repos(),
        caller.tenant_id,
        subscription_id,
        plan_id=body.plan_id,
        version=body.version,
        at_period_end=body.at_period_end,
    )
    return subscription_out(sub)


@router.post(
    "/v1/subscriptions/<subscription_id>/keys",
    openapi_extensions=requires(Permission.KEYS_WRITE),
    tags=["subscriptions"],
    summary="Mint a customer API key bound to this subscription (revoked when it is cancelled)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": KeyOut}}}},
)
def mint_key(subscription_id: str, body: KeyIn, caller: Caller_) -> Response[KeyOut]:
    issued = cases.mint_subscription_key(
        wiring.subscription_repos(), caller, subscription_id, name=body.name, livemode=body.livemode
    )
    return _answer(201, issued_out(issued))


@router.get(
    "/v1/subscriptions/<subscription_id>/history",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["subscriptions"],
    summary="Every transition of the subscription, oldest first",
)
def subscription_history(
    subscription_id: str, caller: Caller_, limit: Limit = 100, starting_after: StartingAfter = None
) -> HistoryOut:
    cases.get_subscription(wiring.subscription_repos(), caller.tenant_id, subscription_id)
    page = wiring.subscription_repository().page_history(
        caller.tenant_id, subscription_id, limit=limit, cursor=starting_after
    )
    return HistoryOut(
        **page_fields(page),
        data=[
            HistoryLine(
                at=to_rfc3339(h.at),
                action=h.action,
                from_status=h.from_status.value if h.from_status else None,
                to_status=h.to_status.value,
                detail={k: str(v) for k, v in h.detail.items()},
            )
            for h in page.data
        ],
    )


@router.get(
    "/v1/subscriptions/<subscription_id>/upcoming-invoice",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["subscriptions"],
    summary="Preview the invoice of the current period so far (usage up to now; nothing is written)",
)
def upcoming_invoice(subscription_id: str, caller: Caller_):
    from tollgate.api.routers.invoices import invoice_out
    from tollgate.usecases.billing import preview_invoice

    invoice = preview_invoice(wiring.billing_repos(), caller.tenant_id, subscription_id)
    return invoice_out(invoice).model_dump(mode="json")
