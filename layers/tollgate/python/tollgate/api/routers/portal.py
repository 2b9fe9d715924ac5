"""The customer portal API: what a customer sees and does about itself.

Two principals reach these routes: a customer API key (``sk_live_…``/``sk_test_…``: ``/v1/portal/me`` and
the payment method) and a customer portal session (``portal_…``, from ``POST /v1/portal-sessions``: every
route here). A portal session is accepted nowhere else. Everything is scoped to the caller's customer:
another customer's subscription or key answers 404. The moves go through the API's own use cases, with
its rules (keys revoked on cancel, upgrades now with proration, downgrades at the period end).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring, wiring_portal
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.money_out import shown_rounded
from tollgate.api.routers.api_keys import KeyOut, issued_out, key_out
from tollgate.api.routers.subscriptions import ChangeOut, PlanChangeIn, SubscriptionOut, subscription_out
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.usecases import plan_changes
from tollgate.usecases import portal as cases
from tollgate.usecases import subscriptions as subscription_cases

router = Router()


def _created(model: ApiModel) -> Response:
    """201 with the model (the route's ``responses`` documents it)."""
    return Response(201, "application/json", model.model_dump(mode="json"))


Caller_ = Annotated[Caller, Depends(current_caller)]
SELF = requires(Permission.USAGE_READ, KeyKind.CUSTOMER, KeyKind.PORTAL)
PORTAL = requires(Permission.PORTAL_SELF, KeyKind.PORTAL)


class PortalMe(ApiModel):
    tenant_id: str
    customer_id: str | None
    subscription_id: str | None
    key_id: str = Field(description="The customer key's id, or the portal session's id")
    livemode: bool
    kind: str = Field(default="customer", description="customer (an API key) or portal (a portal session)")
    customer_name: str = ""
    customer_email: str | None = None
    payment_method: str | None = None
    return_url: str | None = Field(default=None, description="Portal sessions: where the 'Back' link leads")
    expires_at: str | None = Field(default=None, description="Portal sessions: when the session ends")


@router.get(
    "/v1/portal/me",
    openapi_extensions=SELF,
    tags=["portal"],
    summary="Who this customer key or portal session acts for, and the customer's payment method",
)
def portal_me(caller: Caller_) -> PortalMe:
    customer = wiring.customer_repository().get(caller.tenant_id, caller.customer_id or "")
    session = (
        wiring_portal.portal_session_repository().get(caller.tenant_id, caller.key_id)
        if caller.kind is KeyKind.PORTAL
        else None
    )
    return PortalMe(
        tenant_id=caller.tenant_id,
        customer_id=caller.customer_id,
        subscription_id=caller.subscription_id,
        key_id=caller.key_id,
        livemode=caller.livemode,
        kind=caller.kind.value,
        customer_name=customer.name if customer else "",
        customer_email=customer.email if customer else None,
        payment_method=customer.payment_method if customer else None,
        return_url=session.return_url if session else None,
        expires_at=to_rfc3339(session.expires_at) if session else None,
    )


class PortalPaymentMethodIn(ApiModel):
    payment_method: str = Field(min_length=4, max_length=255, description="A payment method id (pm_…).")


class PortalPaymentMethodOut(ApiModel):
    customer_id: str
    payment_method: str


@router.put(
    "/v1/portal/payment-method",
    openapi_extensions=SELF,
    tags=["portal", "payments"],
    summary=(
        "Update this customer's payment method (seed 000: an outdated payment method keeps a subscription PAST_DUE)"
    ),
)
def portal_payment_method(body: PortalPaymentMethodIn, caller: Caller_) -> PortalPaymentMethodOut:
    from tollgate.usecases import payments

    customer = payments.set_payment_method(
        wiring.payment_repos(), caller.tenant_id, caller.customer_id or "", body.model_dump()
    )
    return PortalPaymentMethodOut(customer_id=customer.customer_id, payment_method=customer.payment_method or "")


class PortalSubscription(SubscriptionOut):
    plan_name: str


class PortalSubscriptionList(ApiModel):
    data: list[PortalSubscription]


def _portal_sub(sub) -> PortalSubscription:
    plan = wiring.catalog_repository().get_plan(sub.tenant_id, sub.plan.plan_id)
    out = subscription_out(sub).model_dump()
    return PortalSubscription(**out, plan_name=plan.name if plan else sub.plan.plan_id)


@router.get(
    "/v1/portal/subscriptions",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="The customer's subscriptions (live first) with each one's keys (prefix and last four only)",
)
def portal_subscriptions(caller: Caller_) -> PortalSubscriptionList:
    subs = cases.customer_subscriptions(wiring.subscription_repos(), caller)
    return PortalSubscriptionList(data=[_portal_sub(s) for s in subs])


class RegeneratedOut(ApiModel):
    revoked: KeyOut = Field(description="The old key, now revoked")
    key: KeyOut = Field(description="The new key; its secret is shown in this answer only")


@router.post(
    "/v1/portal/subscriptions/<subscription_id>/keys/<key_id>/regenerate",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="Regenerate a subscription's key: a new key (secret shown once) and the old one revoked",
    responses={201: {"description": "Created", "content": {"application/json": {"model": RegeneratedOut}}}},
)
def portal_regenerate_key(subscription_id: str, key_id: str, caller: Caller_) -> Response[RegeneratedOut]:
    revoked, issued = cases.regenerate_key(wiring.subscription_repos(), caller, subscription_id, key_id)
    out = RegeneratedOut(revoked=key_out(revoked), key=issued_out(issued))
    return _created(out)


@router.post(
    "/v1/portal/subscriptions/<subscription_id>/keys",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="A key for a subscription that has none active (secret shown once; 409 KEY_EXISTS otherwise)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": KeyOut}}}},
)
def portal_create_key(subscription_id: str, caller: Caller_) -> Response[KeyOut]:
    issued = cases.create_key(wiring.subscription_repos(), caller, subscription_id)
    return _created(issued_out(issued))


class PlanChoiceOut(ApiModel):
    plan_id: str
    name: str
    description: str
    version: int
    currency: str
    interval: str
    recurring_fees: str = Field(description="The version's fees per period, in the currency")
    entitlements: list[dict]


class PlanChoiceList(ApiModel):
    data: list[PlanChoiceOut]


@router.get(
    "/v1/portal/subscriptions/<subscription_id>/plans",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="Published plans this subscription may move to (same currency and interval), cheapest first",
)
def portal_plan_choices(subscription_id: str, caller: Caller_) -> PlanChoiceList:
    choices = cases.plan_choices(wiring.subscription_repos(), caller, subscription_id)
    return PlanChoiceList(
        data=[
            PlanChoiceOut(
                plan_id=c.plan.plan_id,
                name=c.plan.name,
                description=c.plan.description,
                version=c.version.version,
                currency=c.plan.currency,
                interval=c.plan.billing_interval.value,
                recurring_fees=shown_rounded(cases.monthly_fees(c.version), c.plan.currency),
                entitlements=[e.to_json() for e in c.version.content.entitlements],
            )
            for c in choices
        ]
    )


def _change(caller: Caller, subscription_id: str, body: PlanChangeIn, direction: str) -> ChangeOut:
    repos = wiring.subscription_repos()
    cases.offered_target(repos, caller, subscription_id, body.plan_id, body.version)
    sub, amount = plan_changes.change_plan(
        repos, caller.tenant_id, subscription_id, plan_id=body.plan_id, version=body.version, direction=direction
    )
    return ChangeOut(subscription=subscription_out(sub), proration=shown_rounded(amount, sub.currency))


@router.post(
    "/v1/portal/subscriptions/<subscription_id>/upgrade",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="Upgrade now to a dearer plan (prorated), as POST /v1/subscriptions/{subscription_id}/upgrade",
)
def portal_upgrade(subscription_id: str, body: PlanChangeIn, caller: Caller_) -> ChangeOut:
    return _change(caller, subscription_id, body, "upgrade")


@router.post(
    "/v1/portal/subscriptions/<subscription_id>/downgrade",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="Downgrade at the period end, as POST /v1/subscriptions/{subscription_id}/downgrade",
)
def portal_downgrade(subscription_id: str, body: PlanChangeIn, caller: Caller_) -> ChangeOut:
    return _change(caller, subscription_id, body, "downgrade")


@router.delete(
    "/v1/portal/subscriptions/<subscription_id>",
    openapi_extensions=PORTAL,
    tags=["portal"],
    summary="Cancel (now, or at_period_end=true); revokes the subscription's keys, as DELETE /v1/subscriptions/{id}",
)
def portal_cancel(
    subscription_id: str, caller: Caller_, at_period_end: Annotated[bool, Query()] = False
) -> SubscriptionOut:
    repos = wiring.subscription_repos()
    cases.own_subscription(repos, caller, subscription_id)
    sub = subscription_cases.cancel_subscription(repos, caller.tenant_id, subscription_id, at_period_end=at_period_end)
    return subscription_out(sub)
