"""Coupons (``POST/GET /v1/coupons``). Applying one to a subscription is a subscription move
(``tollgate.usecases.subscriptions.apply_discount``); the rules are in ``tollgate.domain.billing.discounts``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.billing.discounts import Coupon, parse_coupon
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CouponRepository(Protocol):
    def create(self, coupon: Coupon, events: list[DomainEvent]) -> None:
        """Conflict when the id is taken."""

    def get(self, tenant_id: str, coupon_id: str) -> Coupon | None: ...

    def list_coupons(self, tenant_id: str) -> list[Coupon]: ...


def create_coupon(
    coupons: CouponRepository, tenant_id: str, data: dict[str, Any], *, clock: Callable[[], datetime] = utcnow
) -> Coupon:
    """``{"id"?, "name"?, "percent_off" | "amount_off" + "currency", "duration", "duration_in_periods"?}``;
    ``id`` is yours (a code such as ``LAUNCH20``) or generated."""
    coupon_id = data.get("id") or new_id("coupon")
    if not _ID.match(str(coupon_id)):
        raise InvalidInput("id must be 1 to 64 letters, digits, '-' or '_' (e.g. LAUNCH20)", field="id")
    coupon = parse_coupon(str(coupon_id), tenant_id, data, clock())
    coupons.create(
        coupon,
        [
            DomainEvent("coupon.created", tenant_id, coupon.created_at, coupon.to_json()).with_id(
                coupon.coupon_id, "created"
            )
        ],
    )
    return coupon


def get_coupon(coupons: CouponRepository, tenant_id: str, coupon_id: str) -> Coupon:
    coupon = coupons.get(tenant_id, coupon_id)
    if coupon is None:
        raise NotFound(f"Coupon not found: {coupon_id}.")
    return coupon
