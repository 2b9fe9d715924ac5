"""Plans and their versions: what a subscription pays, in one currency, per billing interval.

A plan holds what does not change between versions: ``currency`` (ISO 4217), ``billing_interval``
(MONTH, QUARTER, YEAR), and descriptive fields (``name``, ``code``, ``description``,
``trial_days``, ``product_id``, ``metadata``; ``metadata.max_payment_overdue_days`` is the payment
grace period, 3 days when absent). Prices live on numbered versions
(``plan_prices``: fees, usage prices, minimum commitment, entitlements).

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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import (
    MAX_DESCRIPTION,
    metadata,
    non_negative_int,
    optional_text,
    text,
    transition,
)

# A version's prices are defined in plan_prices; the billing modules import these three from here.
from tollgate.domain.catalog.plan_prices import Fee as Fee
from tollgate.domain.catalog.plan_prices import FeeTiming as FeeTiming
from tollgate.domain.catalog.plan_prices import UsagePrice as UsagePrice
from tollgate.domain.catalog.plan_prices import VersionContent
from tollgate.domain.errors import Conflict, InvalidInput
from tollgate.domain.money import minor_units


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
MAX_VERSION = 100_000  # versions of one plan; a version number from a client is bounded by it
_VERSION_DIGITS = re.compile(r"[0-9]{1,6}")
MAX_GRACE_PERIOD_DAYS = 365


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
    sent = data.get("currency")
    currency = sent if isinstance(sent, str) else ""
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


def version_number(segment: str) -> int | None:
    """The version a URL path segment names: ASCII digits only (not an Arabic-Indic or a superscript
    one), 1 to ``MAX_VERSION``; None for anything else."""
    if not _VERSION_DIGITS.fullmatch(segment):
        return None
    number = int(segment)
    return number if 1 <= number <= MAX_VERSION else None


def next_version(plan: Plan, latest: PlanVersion, at: datetime) -> PlanVersion:
    """A new DRAFT numbered after the plan's latest, with a copy of ``latest``'s prices."""
    if plan.latest_version >= MAX_VERSION:
        raise Conflict(
            f"Plan {plan.plan_id} has {MAX_VERSION} versions, the most a plan can have: create a new plan.",
            code="TOO_MANY_VERSIONS",
        )
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
