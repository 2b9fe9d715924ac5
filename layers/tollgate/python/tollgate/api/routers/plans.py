"""Plans and plan versions: fees, usage prices, minimum commitment and entitlements, per version
(DRAFT -> PUBLISHED, immutable -> ARCHIVED)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from pydantic import Field, WithJsonSchema

from tollgate import wiring
from tollgate.api.fields import Flag, TrialDays
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.api.routers.catalog_common import (
    READ,
    WRITE,
    CallerDep,
    Metadata,
    created,
    sent_fields,
    timestamp_or_none,
)
from tollgate.api.routers.prices import DECIMAL_SCHEMA, DecimalValue, PriceObject
from tollgate.domain.access import Caller
from tollgate.domain.catalog import BillingInterval, EntitlementReset, FeeTiming, Plan, PlanVersion
from tollgate.domain.catalog.plans import version_number
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import NotFound
from tollgate.usecases import catalog

router = Router()

OptionalDecimal = Annotated[
    Any, WithJsonSchema({**DECIMAL_SCHEMA, "anyOf": [*DECIMAL_SCHEMA["anyOf"], {"type": "null"}]})
]


class FeeIn(ApiModel):
    name: str
    amount: DecimalValue
    timing: FeeTiming = FeeTiming.IN_ADVANCE


class UsagePriceIn(ApiModel):
    meter_id: str
    price: PriceObject


class EntitlementIn(ApiModel):
    meter_id: str
    limit: DecimalValue
    hard: Flag = True
    reset: EntitlementReset = EntitlementReset.PERIODIC


class VersionContentIn(ApiModel):
    fees: list[FeeIn] = Field(default_factory=list, description="Recurring flat fees.")
    usage_prices: list[UsagePriceIn] = Field(
        default_factory=list, description="One price per meter, in the plan currency."
    )
    minimum_commitment: OptionalDecimal = Field(default=None, description="Minimum charge per billing period, if any.")
    entitlements: list[EntitlementIn] = Field(
        default_factory=list, description="Usage limits per meter (the gateway enforces them)."
    )


class PlanIn(VersionContentIn):
    name: str
    currency: str = Field(description="ISO 4217 code (USD, EUR, JPY ...): every price of the plan uses it.")
    billing_interval: BillingInterval = BillingInterval.MONTH
    code: str | None = None
    description: str = ""
    trial_days: TrialDays | None = None
    product_id: str | None = None
    metadata: Metadata = Field(
        default_factory=dict, description="max_payment_overdue_days: the payment grace period (3 days when absent)."
    )


class PlanPatch(ApiModel):
    name: str | None = None
    code: str | None = None
    description: str | None = None
    trial_days: TrialDays | None = None
    product_id: str | None = None
    metadata: Metadata | None = None


class FeeOut(ApiModel):
    name: str
    amount: str
    timing: FeeTiming


class UsagePriceOut(ApiModel):
    meter_id: str
    price: dict[str, Any]


class EntitlementOut(ApiModel):
    meter_id: str
    limit: str
    hard: bool
    reset: EntitlementReset


class VersionSummary(ApiModel):
    version: int
    status: str
    current: bool = Field(description="The version new subscriptions get.")
    superseded: bool = Field(description="PUBLISHED, but a later version is current (kept for existing subscriptions).")
    created_at: str
    published_at: str | None
    archived_at: str | None


class PlanVersionOut(VersionSummary):
    plan_id: str
    currency: str
    fees: list[FeeOut]
    usage_prices: list[UsagePriceOut]
    minimum_commitment: str | None
    entitlements: list[EntitlementOut]
    updated_at: str


class PlanOut(ApiModel):
    id: str
    name: str
    code: str | None
    description: str
    currency: str
    billing_interval: BillingInterval
    trial_days: int | None
    product_id: str | None
    metadata: dict[str, Any]
    current_version: int | None = Field(description="The latest published version: what new subscriptions get.")
    latest_version: int
    created_at: str
    updated_at: str


class PlanDetailOut(PlanOut):
    versions: list[VersionSummary] = Field(description="The first 100 versions (all: GET …/versions).")
    versions_has_more: bool = Field(default=False, description="More versions than shown: GET …/versions pages them.")


class VersionList(PageFields):
    data: list[VersionSummary]


class PlanList(PageFields):
    data: list[PlanOut]


def _plan_fields(p: Plan) -> dict[str, Any]:
    return {
        "id": p.plan_id,
        "name": p.name,
        "code": p.code,
        "description": p.description,
        "currency": p.currency,
        "billing_interval": p.billing_interval,
        "trial_days": p.trial_days,
        "product_id": p.product_id,
        "metadata": p.metadata,
        "current_version": p.current_version,
        "latest_version": p.latest_version,
        "created_at": to_rfc3339(p.created_at),
        "updated_at": to_rfc3339(p.updated_at),
    }


def _summary_fields(plan: Plan, v: PlanVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "status": v.status.value,
        "current": plan.current_version == v.version,
        "superseded": v.superseded(plan),
        "created_at": to_rfc3339(v.created_at),
        "published_at": timestamp_or_none(v.published_at),
        "archived_at": timestamp_or_none(v.archived_at),
    }


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(**_plan_fields(plan))


def plan_detail_out(plan: Plan, versions: list[PlanVersion], more: bool = False) -> PlanDetailOut:
    summaries = [VersionSummary(**_summary_fields(plan, v)) for v in versions]
    return PlanDetailOut(**_plan_fields(plan), versions=summaries, versions_has_more=more)


def _detail(caller: Caller, plan_id: str) -> PlanDetailOut:
    """The plan and its first page of versions (by version number)."""
    repo = wiring.catalog_repository()
    plan = catalog.get_plan(repo, caller, plan_id)
    page = repo.page_versions(caller.tenant_id, plan.plan_id, limit=100)
    return plan_detail_out(plan, page.data, page.has_more)


def version_out(plan: Plan, v: PlanVersion) -> PlanVersionOut:
    content = v.content.to_json()
    return PlanVersionOut(
        **_summary_fields(plan, v),
        plan_id=v.plan_id,
        currency=v.currency,
        fees=content["fees"],
        usage_prices=content["usage_prices"],
        minimum_commitment=content["minimum_commitment"],
        entitlements=content["entitlements"],
        updated_at=to_rfc3339(v.updated_at),
    )


def _version_number(plan_id: str, version: str) -> int:
    """The version path segment as a number (ASCII digits, 1 to MAX_VERSION); anything else names no
    version (404, echoing at most 20 characters of it)."""
    number = version_number(version)
    if number is None:
        raise NotFound(f"Plan version not found: {plan_id} version {version[:20]}")
    return number


@router.post(
    "/v1/plans",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Create a plan and its version 1 (DRAFT)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PlanDetailOut}}}},
)
def create_plan(body: PlanIn, caller: CallerDep) -> Response[PlanDetailOut]:
    plan, version = catalog.create_plan(wiring.catalog_repository(), caller, sent_fields(body))
    return created(plan_detail_out(plan, [version]))


@router.get("/v1/plans", openapi_extensions=READ, tags=["plans"], summary="List plans")
def list_plans(caller: CallerDep, limit: Limit = 100, starting_after: StartingAfter = None) -> PlanList:
    page = wiring.catalog_repository().page_plans(caller.tenant_id, limit=limit, cursor=starting_after)
    return PlanList(data=[plan_out(p) for p in page.data], **page_fields(page))


@router.get("/v1/plans/<plan_id>", openapi_extensions=READ, tags=["plans"], summary="Get a plan and its versions")
def get_plan(plan_id: str, caller: CallerDep) -> PlanDetailOut:
    return _detail(caller, plan_id)


@router.patch(
    "/v1/plans/<plan_id>",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Update a plan's descriptive fields (currency and billing interval are fixed)",
)
def update_plan(plan_id: str, body: PlanPatch, caller: CallerDep) -> PlanDetailOut:
    repo = wiring.catalog_repository()
    catalog.update_plan(repo, caller, plan_id, sent_fields(body))
    return _detail(caller, plan_id)


@router.post(
    "/v1/plans/<plan_id>/versions",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Create a new DRAFT version, copied from the latest version",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PlanVersionOut}}}},
)
def create_plan_version(plan_id: str, caller: CallerDep) -> Response[PlanVersionOut]:
    return created(version_out(*catalog.create_plan_version(wiring.catalog_repository(), caller, plan_id)))


@router.get("/v1/plans/<plan_id>/versions", openapi_extensions=READ, tags=["plans"], summary="List a plan's versions")
def list_plan_versions(
    plan_id: str, caller: CallerDep, limit: Limit = 100, starting_after: StartingAfter = None
) -> VersionList:
    repo = wiring.catalog_repository()
    plan = catalog.get_plan(repo, caller, plan_id)
    page = repo.page_versions(caller.tenant_id, plan.plan_id, limit=limit, cursor=starting_after)
    return VersionList(data=[VersionSummary(**_summary_fields(plan, v)) for v in page.data], **page_fields(page))


@router.get(
    "/v1/plans/<plan_id>/versions/<version>", openapi_extensions=READ, tags=["plans"], summary="Get a plan version"
)
def get_plan_version(plan_id: str, version: str, caller: CallerDep) -> PlanVersionOut:
    number = _version_number(plan_id, version)
    return version_out(*catalog.get_plan_version(wiring.catalog_repository(), caller, plan_id, number))


@router.put(
    "/v1/plans/<plan_id>/versions/<version>",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Replace the prices of a DRAFT version (published versions are immutable)",
)
def replace_plan_version(plan_id: str, version: str, body: VersionContentIn, caller: CallerDep) -> PlanVersionOut:
    number = _version_number(plan_id, version)
    return version_out(*catalog.replace_draft(wiring.catalog_repository(), caller, plan_id, number, sent_fields(body)))


@router.post(
    "/v1/plans/<plan_id>/versions/<version>/publish",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Publish a DRAFT version: it becomes the plan's current version and is immutable from now on",
)
def publish_plan_version(plan_id: str, version: str, caller: CallerDep) -> PlanVersionOut:
    number = _version_number(plan_id, version)
    return version_out(*catalog.publish_plan_version(wiring.catalog_repository(), caller, plan_id, number))


@router.post(
    "/v1/plans/<plan_id>/versions/<version>/archive",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Archive a DRAFT or PUBLISHED version",
)
def archive_plan_version(plan_id: str, version: str, caller: CallerDep) -> PlanVersionOut:
    number = _version_number(plan_id, version)
    return version_out(*catalog.archive_plan_version(wiring.catalog_repository(), caller, plan_id, number))
