"""Plans and their versions: what a subscription pays, in one currency, per billing interval.

A plan holds what does not change between versions: ``currency`` (ISO 4217), ``billing_interval``
(MONTH, QUARTER, YEAR), and descriptive fields (``name``, ``code``, ``description``,
``trial_days``, ``product_id``, ``metadata``; ``metadata.max_payment_overdue_days`` is the payment
grace period, 3 days when absent). Prices live on numbered versions:

- ``fees``: recurring flat fees ``{"name", "amount", "timing": "in_advance" | "in_arrears"}``;
- ``usage_prices``: one per meter, ``{"meter_id", "price": <price object of tollgate.domain.pricing>}``,
  the price in the plan's currency;
- ``minimum_commitment``: an optional amount per billing period;
- ``entitlements``: one per meter, ``{"meter_id", "limit", "hard", "reset": PERIODIC | CUMULATIVE |
  NEVER}``, enforced by the gateway.

Version lifecycle (``VERSION_TRANSITIONS``; anything else is a 409 Conflict)::

    DRAFT     --edit-->    DRAFT
    DRAFT     --publish--> PUBLISHED   (every referenced meter exists and is ACTIVE)
    DRAFT     --archive--> ARCHIVED
    PUBLISHED --archive--> ARCHIVED
    PUBLISHED and ARCHIVED versions are immutable: to change prices, create a new version.

Publishing a version makes it the plan's ``current_version`` (what new subscriptions get). Older
published versions stay PUBLISHED (superseded) so existing subscriptions keep the prices they
signed up for. A plan has at most one DRAFT version at a time; a new version copies the latest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import (
    MAX_DESCRIPTION,
    metadata,
    money_amount,
    non_negative_int,
    optional_text,
    prefixed,
    text,
    transition,
)
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import minor_units, plain, to_decimal
from tollgate.domain.pricing import Price, parse_price


class BillingInterval(StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


class VersionStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class VersionAction(StrEnum):
    EDIT = "edit"
    PUBLISH = "publish"
    ARCHIVE = "archive"


class FeeTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class EntitlementReset(StrEnum):
    PERIODIC = "PERIODIC"
    CUMULATIVE = "CUMULATIVE"
    NEVER = "NEVER"


VERSION_TRANSITIONS: dict[tuple[VersionStatus, VersionAction], VersionStatus] = {
    (VersionStatus.DRAFT, VersionAction.EDIT): VersionStatus.DRAFT,
    (VersionStatus.DRAFT, VersionAction.PUBLISH): VersionStatus.PUBLISHED,
    (VersionStatus.DRAFT, VersionAction.ARCHIVE): VersionStatus.ARCHIVED,
    (VersionStatus.PUBLISHED, VersionAction.ARCHIVE): VersionStatus.ARCHIVED,
}

IMMUTABLE = "published versions are immutable; create a new version"
_REFUSALS = {
    (VersionStatus.PUBLISHED, VersionAction.EDIT): IMMUTABLE,
    (VersionStatus.PUBLISHED, VersionAction.PUBLISH): "it is already published",
    (VersionStatus.ARCHIVED, VersionAction.EDIT): "archived versions are immutable; create a new version",
    (VersionStatus.ARCHIVED, VersionAction.PUBLISH): "archived versions cannot be published; create a new version",
    (VersionStatus.ARCHIVED, VersionAction.ARCHIVE): "it is already archived",
}

GRACE_PERIOD_KEY = "max_payment_overdue_days"
DEFAULT_GRACE_PERIOD_DAYS = 3
MAX_TRIAL_DAYS = 730
MAX_GRACE_PERIOD_DAYS = 365
MAX_FEES = 20
MAX_USAGE_PRICES = 50
MAX_ENTITLEMENTS = 50
MAX_METERS_PER_VERSION = 50  # keeps publishing within one DynamoDB transaction
MAX_TIERS = 100


@dataclass(frozen=True)
class Fee:
    name: str
    amount: Decimal
    timing: FeeTiming = FeeTiming.IN_ADVANCE

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "amount": plain(self.amount), "timing": self.timing.value}


@dataclass(frozen=True)
class UsagePrice:
    meter_id: str
    price: Price

    def to_json(self) -> dict[str, Any]:
        return {"meter_id": self.meter_id, "price": self.price.to_json()}


@dataclass(frozen=True)
class Entitlement:
    meter_id: str
    limit: Decimal
    hard: bool = True
    reset: EntitlementReset = EntitlementReset.PERIODIC

    def to_json(self) -> dict[str, Any]:
        return {"meter_id": self.meter_id, "limit": plain(self.limit), "hard": self.hard, "reset": self.reset.value}


@dataclass(frozen=True)
class VersionContent:
    """The priced part of a plan version (what PUT replaces and what publishing freezes)."""

    fees: tuple[Fee, ...] = ()
    usage_prices: tuple[UsagePrice, ...] = ()
    minimum_commitment: Decimal | None = None
    entitlements: tuple[Entitlement, ...] = ()

    def meter_ids(self) -> list[str]:
        """Every meter the version references (usage prices, then entitlements), without repeats."""
        seen: dict[str, None] = {}
        for item in (*self.usage_prices, *self.entitlements):
            seen.setdefault(item.meter_id)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "fees": [f.to_json() for f in self.fees],
            "usage_prices": [u.to_json() for u in self.usage_prices],
            "minimum_commitment": None if self.minimum_commitment is None else plain(self.minimum_commitment),
            "entitlements": [e.to_json() for e in self.entitlements],
        }


CONTENT_FIELDS = ("fees", "usage_prices", "minimum_commitment", "entitlements")


def parse_content(data: Mapping[str, Any], currency: str) -> VersionContent:
    """Validate a version's prices against the plan ``currency``; InvalidInput names the field path
    (``usage_prices[0].price.tiers[1].up_to``)."""
    unknown = set(data) - set(CONTENT_FIELDS)
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=name)
    fees = tuple(
        _fee(item, f"fees[{i}]", currency) for i, item in enumerate(_items(data.get("fees"), "fees", MAX_FEES))
    )
    usage_prices = tuple(
        _usage_price(item, f"usage_prices[{i}]", currency)
        for i, item in enumerate(_items(data.get("usage_prices"), "usage_prices", MAX_USAGE_PRICES))
    )
    _unique_meters(usage_prices, "usage_prices")
    entitlements = tuple(
        _entitlement(item, f"entitlements[{i}]")
        for i, item in enumerate(_items(data.get("entitlements"), "entitlements", MAX_ENTITLEMENTS))
    )
    _unique_meters(entitlements, "entitlements")
    raw_minimum = data.get("minimum_commitment")
    minimum = None if raw_minimum is None else money_amount(raw_minimum, "minimum_commitment", currency)
    content = VersionContent(fees, usage_prices, minimum, entitlements)
    if len(content.meter_ids()) > MAX_METERS_PER_VERSION:
        raise InvalidInput(
            f"a plan version may reference at most {MAX_METERS_PER_VERSION} meters", field="usage_prices"
        )
    return content


def _items(value: Any, field: str, maximum: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{field} must be a list", field=field)
    if len(value) > maximum:
        raise InvalidInput(f"{field} has more than {maximum} entries", field=field)
    return list(value)


def _object(value: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{path} must be an object", field=path)
    unknown = set(value) - allowed
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=f"{path}.{name}")
    return value


def _fee(value: Any, path: str, currency: str) -> Fee:
    item = _object(value, path, {"name", "amount", "timing"})
    if item.get("amount") is None:
        raise InvalidInput(f"{path}.amount is required", field=f"{path}.amount")
    try:
        timing = FeeTiming(item.get("timing") or FeeTiming.IN_ADVANCE)
    except ValueError:
        raise InvalidInput(f'{path}.timing must be "in_advance" or "in_arrears"', field=f"{path}.timing") from None
    return Fee(text(item.get("name"), f"{path}.name"), money_amount(item["amount"], f"{path}.amount", currency), timing)


def _usage_price(value: Any, path: str, currency: str) -> UsagePrice:
    item = _object(value, path, {"meter_id", "price"})
    meter_id = text(item.get("meter_id"), f"{path}.meter_id")
    raw = item.get("price")
    if raw is None:
        raise InvalidInput(f"{path}.price is required", field=f"{path}.price")
    if isinstance(raw, Mapping) and isinstance(raw.get("tiers"), list) and len(raw["tiers"]) > MAX_TIERS:
        raise InvalidInput(f"{path}.price.tiers has more than {MAX_TIERS} tiers", field=f"{path}.price.tiers")
    try:
        price = raw if isinstance(raw, Price) else parse_price(raw)
    except InvalidInput as error:
        raise prefixed(error, f"{path}.price") from None
    if price.currency != currency:
        raise InvalidInput(
            f"{path}.price.currency is {price.currency} but the plan is priced in {currency}; "
            "every price of a plan uses the plan's currency",
            field=f"{path}.price.currency",
        )
    return UsagePrice(meter_id, price)


def _entitlement(value: Any, path: str) -> Entitlement:
    item = _object(value, path, {"meter_id", "limit", "hard", "reset"})
    meter_id = text(item.get("meter_id"), f"{path}.meter_id")
    if item.get("limit") is None:
        raise InvalidInput(f"{path}.limit is required", field=f"{path}.limit")
    limit = to_decimal(item["limit"], f"{path}.limit")
    if limit < 0:
        raise InvalidInput(f"{path}.limit must not be negative", field=f"{path}.limit")
    hard = item.get("hard", True)
    if not isinstance(hard, bool):
        raise InvalidInput(f"{path}.hard must be true or false", field=f"{path}.hard")
    try:
        reset = EntitlementReset(item.get("reset") or EntitlementReset.PERIODIC)
    except ValueError:
        raise InvalidInput(f"{path}.reset must be PERIODIC, CUMULATIVE or NEVER", field=f"{path}.reset") from None
    return Entitlement(meter_id, limit, hard, reset)


def _unique_meters(items: tuple[UsagePrice, ...] | tuple[Entitlement, ...], field: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.meter_id in seen:
            raise InvalidInput(
                f"{field}[{index}].meter_id: meter {item.meter_id} appears twice; one entry per meter",
                field=f"{field}[{index}].meter_id",
            )
        seen.add(item.meter_id)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    tenant_id: str
    name: str
    currency: str
    billing_interval: BillingInterval
    created_at: datetime
    updated_at: datetime
    code: str | None = None
    description: str = ""
    trial_days: int | None = None
    product_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    current_version: int | None = None  # the latest PUBLISHED version: what new subscriptions get
    latest_version: int = 1
    revision: int = 1  # bumped by every save; a save is conditional on the revision it replaces

    @property
    def grace_period_days(self) -> int:
        """Days a payment may be overdue before access is blocked (``metadata.max_payment_overdue_days``)."""
        return int(self.metadata.get(GRACE_PERIOD_KEY, DEFAULT_GRACE_PERIOD_DAYS))

    def edited(self, changes: Mapping[str, Any], at: datetime) -> Plan:
        unknown = set(changes) - PLAN_EDITABLE
        if unknown:
            name = min(unknown)
            raise InvalidInput(
                f"{name} cannot be changed"
                + (
                    " (prices are denominated in it: create a new plan)"
                    if name in ("currency", "billing_interval")
                    else ""
                ),
                field=name,
            )
        values = _plan_fields({**_plan_editable(self), **changes})
        return replace(self, updated_at=at, **values)


PLAN_EDITABLE = frozenset({"name", "code", "description", "trial_days", "product_id", "metadata"})


def _plan_editable(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in PLAN_EDITABLE}


def _plan_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    meta = metadata(values.get("metadata"))
    if GRACE_PERIOD_KEY in meta:
        meta[GRACE_PERIOD_KEY] = non_negative_int(
            meta[GRACE_PERIOD_KEY], f"metadata.{GRACE_PERIOD_KEY}", maximum=MAX_GRACE_PERIOD_DAYS
        )
    trial = values.get("trial_days")
    return {
        "name": text(values.get("name"), "name"),
        "code": optional_text(values.get("code"), "code"),
        "description": text(values.get("description"), "description", required=False, max_length=MAX_DESCRIPTION),
        "trial_days": None if trial is None else non_negative_int(trial, "trial_days", maximum=MAX_TRIAL_DAYS),
        "product_id": optional_text(values.get("product_id"), "product_id"),
        "metadata": meta,
    }


def new_plan(*, plan_id: str, tenant_id: str, data: Mapping[str, Any], at: datetime) -> Plan:
    """A plan from its fixed and descriptive fields (not the version content)."""
    currency = data.get("currency")
    minor_units(currency)  # InvalidInput(field="currency") for anything but a known ISO 4217 code
    try:
        interval = BillingInterval(data.get("billing_interval") or BillingInterval.MONTH)
    except ValueError:
        raise InvalidInput("billing_interval must be MONTH, QUARTER or YEAR", field="billing_interval") from None
    unknown = set(data) - PLAN_EDITABLE - {"currency", "billing_interval"}
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=name)
    return Plan(
        plan_id=plan_id,
        tenant_id=tenant_id,
        currency=currency,
        billing_interval=interval,
        created_at=at,
        updated_at=at,
        **_plan_fields(data),
    )


@dataclass(frozen=True)
class PlanVersion:
    plan_id: str
    tenant_id: str
    version: int
    currency: str
    content: VersionContent
    created_at: datetime
    updated_at: datetime
    status: VersionStatus = VersionStatus.DRAFT
    published_at: datetime | None = None
    archived_at: datetime | None = None
    revision: int = 1  # bumped by every save; a save is conditional on the revision it replaces

    @property
    def subject(self) -> str:
        return f"Plan {self.plan_id} version {self.version}"

    def apply(self, action: VersionAction, at: datetime) -> PlanVersion:
        status = transition(VERSION_TRANSITIONS, self.status, action, subject=self.subject, refusals=_REFUSALS)
        return replace(
            self,
            status=status,
            updated_at=at,
            published_at=at if action is VersionAction.PUBLISH else self.published_at,
            archived_at=at if action is VersionAction.ARCHIVE else self.archived_at,
        )

    def with_content(self, content: VersionContent, at: datetime) -> PlanVersion:
        """Replace the prices of a DRAFT (a Conflict on a PUBLISHED or ARCHIVED version)."""
        return replace(self.apply(VersionAction.EDIT, at), content=content)

    def superseded(self, plan: Plan) -> bool:
        """PUBLISHED but no longer what new subscriptions get (kept for the subscriptions pinned to it)."""
        return self.status is VersionStatus.PUBLISHED and plan.current_version != self.version


def first_version(plan: Plan, content: VersionContent) -> PlanVersion:
    return PlanVersion(
        plan_id=plan.plan_id,
        tenant_id=plan.tenant_id,
        version=1,
        currency=plan.currency,
        content=content,
        created_at=plan.created_at,
        updated_at=plan.created_at,
    )


def next_version(plan: Plan, latest: PlanVersion, at: datetime) -> PlanVersion:
    """A new DRAFT numbered after the plan's latest, with a copy of ``latest``'s prices."""
    return PlanVersion(
        plan_id=plan.plan_id,
        tenant_id=plan.tenant_id,
        version=plan.latest_version + 1,
        currency=plan.currency,
        content=latest.content,
        created_at=at,
        updated_at=at,
    )


def current_after_archiving(plan: Plan, versions: list[PlanVersion], archived: int) -> int | None:
    """The plan's current version once version ``archived`` is archived: the highest other PUBLISHED one."""
    if plan.current_version != archived:
        return plan.current_version
    published = [v.version for v in versions if v.status is VersionStatus.PUBLISHED and v.version != archived]
    return max(published, default=None)
