"""Coupons: reusable discounts applied to subscriptions (``POST /v1/subscriptions/{id}/discount``)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.usecases import discounts as cases

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]


class CouponIn(ApiModel):
    id: str | None = Field(default=None, description="Your code (LAUNCH20); generated when omitted")
    name: str = Field(default="", max_length=200)
    percent_off: str | None = Field(default=None, description="Decimal string, 0 < p <= 100 (or amount_off)")
    amount_off: str | None = Field(default=None, description="Decimal string in currency (or percent_off)")
    currency: str | None = Field(default=None, description="ISO 4217, with amount_off")
    duration: Literal["once", "repeating", "forever"] = "once"
    duration_in_periods: int | None = Field(default=None, description="Billing periods, for a repeating coupon")


class CouponOut(ApiModel):
    id: str
    name: str
    percent_off: str | None
    amount_off: str | None
    currency: str | None
    duration: str
    duration_in_periods: int | None
    created_at: str


class CouponList(PageFields):
    data: list[CouponOut]


@router.post(
    "/v1/coupons",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["coupons"],
    summary="Create a coupon (percent or amount off; once, repeating or forever)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CouponOut}}}},
)
def create_coupon(body: CouponIn, caller: Caller_) -> Response[CouponOut]:
    coupon = cases.create_coupon(wiring.coupon_repository(), caller.tenant_id, body.model_dump())
    return Response(201, "application/json", CouponOut(**coupon.to_json()))


@router.get(
    "/v1/coupons", openapi_extensions=requires(Permission.BILLING_READ), tags=["coupons"], summary="List coupons"
)
def list_coupons(caller: Caller_, limit: Limit = 100, starting_after: StartingAfter = None) -> CouponList:
    page = wiring.coupon_repository().page_coupons(caller.tenant_id, limit=limit, cursor=starting_after)
    return CouponList(data=[CouponOut(**c.to_json()) for c in page.data], **page_fields(page))


@router.get(
    "/v1/coupons/<coupon_id>",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["coupons"],
    summary="Get a coupon",
)
def get_coupon(coupon_id: str, caller: Caller_) -> CouponOut:
    return CouponOut(**cases.get_coupon(wiring.coupon_repository(), caller.tenant_id, coupon_id).to_json())
