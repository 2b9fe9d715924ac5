"""The product catalog: products, meters (billable units), plans and plan versions.

Reads need ``catalog:read`` (OWNER, ADMIN, MEMBER), writes ``catalog:write`` (OWNER, ADMIN); BILLING_ADMIN
has neither (seed 000). Another tenant's id answers the same 404 as an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field, WithJsonSchema

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.routers.prices import DECIMAL_SCHEMA, DecimalValue, PriceObject
from tollgate.domain.access import Caller, Permission
from tollgate.domain.catalog import (
    AggregationFunction,
    BillingInterval,
    EntitlementReset,
    FeeTiming,
    Meter,
    MeterStatus,
    Plan,
    PlanVersion,
    Product,
    ProductStatus,
    UsageReset,
)
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import NotFound
from tollgate.usecases import catalog

router = Router()

CallerDep = Annotated[Caller, Depends(current_caller)]
READ = requires(Permission.CATALOG_READ)
WRITE = requires(Permission.CATALOG_WRITE)

_SCALAR = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
Metadata = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": _SCALAR,
            "description": "Up to 50 keys; string, integer or boolean values.",
        }
    ),
]
Filters = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": _SCALAR,
            "description": 'Exact-match conditions on event properties, e.g. {"model": "gpt-4"}.',
        }
    ),
]

OptionalDecimal = Annotated[
    Any, WithJsonSchema({**DECIMAL_SCHEMA, "anyOf": [*DECIMAL_SCHEMA["anyOf"], {"type": "null"}]})
]


def _ts(value) -> str | None:
    return to_rfc3339(value) if value else None


def _created(model: ApiModel) -> Response:
    return Response(201, "application/json", model.model_dump(mode="json"))


def _fields(body: ApiModel) -> dict[str, Any]:
    """What the client sent (a PATCH changes only those), as plain JSON values."""
    return body.model_dump(mode="json", exclude_unset=True)


# -- products ---------------------------------------------------------------------------------------


class ProductIn(ApiModel):
    name: str
    description: str = ""
    metadata: Metadata = Field(default_factory=dict)


class ProductPatch(ApiModel):
    name: str | None = None
    description: str | None = None
    metadata: Metadata | None = None
    status: ProductStatus | None = Field(default=None, description="PUBLISHED to publish, ARCHIVED to archive.")


class ProductOut(ApiModel):
    id: str
    name: str
    description: str
    status: ProductStatus
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    published_at: str | None
    archived_at: str | None


class ProductList(ApiModel):
    data: list[ProductOut]


def product_out(p: Product) -> ProductOut:
    return ProductOut(
        id=p.product_id,
        name=p.name,
        description=p.description,
        status=p.status,
        metadata=p.metadata,
        created_at=to_rfc3339(p.created_at),
        updated_at=to_rfc3339(p.updated_at),
        published_at=_ts(p.published_at),
        archived_at=_ts(p.archived_at),
    )


@router.post(
    "/v1/products",
    openapi_extensions=WRITE,
    tags=["products"],
    summary="Create a product (DRAFT)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": ProductOut}}}},
)
def create_product(body: ProductIn, caller: CallerDep) -> Response[ProductOut]:
    return _created(product_out(catalog.create_product(wiring.catalog_repository(), caller, _fields(body))))


@router.get("/v1/products", openapi_extensions=READ, tags=["products"], summary="List products")
def list_products(caller: CallerDep, status: Annotated[ProductStatus | None, Query()] = None) -> ProductList:
    return ProductList(
        data=[product_out(p) for p in catalog.list_products(wiring.catalog_repository(), caller, status=status)]
    )


@router.get("/v1/products/<product_id>", openapi_extensions=READ, tags=["products"], summary="Get a product")
def get_product(product_id: str, caller: CallerDep) -> ProductOut:
    return product_out(catalog.get_product(wiring.catalog_repository(), caller, product_id))


@router.patch(
    "/v1/products/<product_id>",
    openapi_extensions=WRITE,
    tags=["products"],
    summary="Update a product (name, description, metadata; status PUBLISHED or ARCHIVED)",
)
def update_product(product_id: str, body: ProductPatch, caller: CallerDep) -> ProductOut:
    return product_out(catalog.update_product(wiring.catalog_repository(), caller, product_id, _fields(body)))


@router.delete("/v1/products/<product_id>", openapi_extensions=WRITE, tags=["products"], summary="Archive a product")
def archive_product(product_id: str, caller: CallerDep) -> ProductOut:
    return product_out(catalog.archive_product(wiring.catalog_repository(), caller, product_id))


# -- meters -----------------------------------------------------------------------------------------


class AggregationIn(ApiModel):
    function: AggregationFunction
    field: str | None = Field(
        default=None,
        description='"quantity" or a property path such as "properties.tokens"; none for COUNT, required otherwise.',
    )


class MeterIn(ApiModel):
    event_name: str = Field(description="Matched exactly and case-sensitively; unique among active meters.")
    aggregation: AggregationIn
    name: str | None = Field(default=None, description="Defaults to the event name.")
    code: str | None = None
    description: str = ""
    filters: Filters = Field(default_factory=dict)
    usage_reset: UsageReset = UsageReset.PERIODIC
    allow_negative: bool = Field(default=False, description="SUM only: accept negative values (corrections).")


class MeterPatch(ApiModel):
    event_name: str | None = None
    aggregation: AggregationIn | None = None
    name: str | None = None
    code: str | None = None
    description: str | None = None
    filters: Filters | None = None
    usage_reset: UsageReset | None = None
    allow_negative: bool | None = None


class AggregationOut(ApiModel):
    function: AggregationFunction
    field: str | None


class VersionRefOut(ApiModel):
    plan_id: str
    version: int


class MeterOut(ApiModel):
    id: str
    name: str
    event_name: str
    code: str | None
    description: str
    aggregation: AggregationOut
    filters: dict[str, Any]
    usage_reset: UsageReset
    allow_negative: bool = Field(description="SUM only: negative values (corrections) are accepted.")
    status: MeterStatus
    published_in: list[VersionRefOut] = Field(
        description="Published plan versions using the meter: while any does, its definition cannot change."
    )
    created_at: str
    updated_at: str
    archived_at: str | None


class MeterList(ApiModel):
    data: list[MeterOut]


def meter_out(m: Meter) -> MeterOut:
    return MeterOut(
        id=m.meter_id,
        name=m.name,
        event_name=m.event_name,
        code=m.code,
        description=m.description,
        aggregation=AggregationOut(function=m.aggregation.function, field=m.aggregation.field),
        filters=m.filters,
        usage_reset=m.usage_reset,
        allow_negative=m.allow_negative,
        status=m.status,
        published_in=[
            VersionRefOut(plan_id=r.plan_id, version=r.version)
            for r in sorted(m.published_in, key=lambda r: (r.plan_id, r.version))
        ],
        created_at=to_rfc3339(m.created_at),
        updated_at=to_rfc3339(m.updated_at),
        archived_at=_ts(m.archived_at),
    )


@router.post(
    "/v1/meters",
    openapi_extensions=WRITE,
    tags=["meters"],
    summary="Create a meter (billable unit): event name, aggregation, filters, usage reset",
    responses={201: {"description": "Created", "content": {"application/json": {"model": MeterOut}}}},
)
def create_meter(body: MeterIn, caller: CallerDep) -> Response[MeterOut]:
    return _created(meter_out(catalog.create_meter(wiring.catalog_repository(), caller, _fields(body))))


@router.get("/v1/meters", openapi_extensions=READ, tags=["meters"], summary="List meters")
def list_meters(
    caller: CallerDep,
    status: Annotated[MeterStatus | None, Query()] = None,
    event_name: Annotated[str | None, Query(description="Only meters with exactly this event name.")] = None,
) -> MeterList:
    meters = catalog.list_meters(wiring.catalog_repository(), caller, status=status, event_name=event_name)
    return MeterList(data=[meter_out(m) for m in meters])


@router.get("/v1/meters/<meter_id>", openapi_extensions=READ, tags=["meters"], summary="Get a meter")
def get_meter(meter_id: str, caller: CallerDep) -> MeterOut:
    return meter_out(catalog.get_meter(wiring.catalog_repository(), caller, meter_id))


@router.patch(
    "/v1/meters/<meter_id>",
    openapi_extensions=WRITE,
    tags=["meters"],
    summary="Update a meter (its definition is locked while a published plan version uses it)",
)
def update_meter(meter_id: str, body: MeterPatch, caller: CallerDep) -> MeterOut:
    return meter_out(catalog.update_meter(wiring.catalog_repository(), caller, meter_id, _fields(body)))


@router.post("/v1/meters/<meter_id>/archive", openapi_extensions=WRITE, tags=["meters"], summary="Archive a meter")
def archive_meter(meter_id: str, caller: CallerDep) -> MeterOut:
    return meter_out(catalog.archive_meter(wiring.catalog_repository(), caller, meter_id))


@router.post(
    "/v1/meters/<meter_id>/activate",
    openapi_extensions=WRITE,
    tags=["meters"],
    summary="Make an archived meter active again",
)
def activate_meter(meter_id: str, caller: CallerDep) -> MeterOut:
    return meter_out(catalog.activate_meter(wiring.catalog_repository(), caller, meter_id))


# -- plans ------------------------------------------------------------------------------------------


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
    hard: bool = True
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
    trial_days: int | None = None
    product_id: str | None = None
    metadata: Metadata = Field(
        default_factory=dict, description="max_payment_overdue_days: the payment grace period (3 days when absent)."
    )


class PlanPatch(ApiModel):
    name: str | None = None
    code: str | None = None
    description: str | None = None
    trial_days: int | None = None
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
    versions: list[VersionSummary]


class PlanList(ApiModel):
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
        "published_at": _ts(v.published_at),
        "archived_at": _ts(v.archived_at),
    }


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(**_plan_fields(plan))


def plan_detail_out(plan: Plan, versions: list[PlanVersion]) -> PlanDetailOut:
    return PlanDetailOut(**_plan_fields(plan), versions=[VersionSummary(**_summary_fields(plan, v)) for v in versions])


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
    """The version path segment as a number; anything else names no version (404)."""
    if not version.isdigit() or int(version) < 1:
        raise NotFound(f"Plan version not found: {plan_id} version {version}")
    return int(version)


@router.post(
    "/v1/plans",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Create a plan and its version 1 (DRAFT)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PlanDetailOut}}}},
)
def create_plan(body: PlanIn, caller: CallerDep) -> Response[PlanDetailOut]:
    plan, version = catalog.create_plan(wiring.catalog_repository(), caller, _fields(body))
    return _created(plan_detail_out(plan, [version]))


@router.get("/v1/plans", openapi_extensions=READ, tags=["plans"], summary="List plans")
def list_plans(caller: CallerDep) -> PlanList:
    return PlanList(data=[plan_out(p) for p in catalog.list_plans(wiring.catalog_repository(), caller)])


@router.get("/v1/plans/<plan_id>", openapi_extensions=READ, tags=["plans"], summary="Get a plan and its versions")
def get_plan(plan_id: str, caller: CallerDep) -> PlanDetailOut:
    return plan_detail_out(*catalog.get_plan_with_versions(wiring.catalog_repository(), caller, plan_id))


@router.patch(
    "/v1/plans/<plan_id>",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Update a plan's descriptive fields (currency and billing interval are fixed)",
)
def update_plan(plan_id: str, body: PlanPatch, caller: CallerDep) -> PlanDetailOut:
    repo = wiring.catalog_repository()
    catalog.update_plan(repo, caller, plan_id, _fields(body))
    return plan_detail_out(*catalog.get_plan_with_versions(repo, caller, plan_id))


@router.post(
    "/v1/plans/<plan_id>/versions",
    openapi_extensions=WRITE,
    tags=["plans"],
    summary="Create a new DRAFT version, copied from the latest version",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PlanVersionOut}}}},
)
def create_plan_version(plan_id: str, caller: CallerDep) -> Response[PlanVersionOut]:
    return _created(version_out(*catalog.create_plan_version(wiring.catalog_repository(), caller, plan_id)))


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
    return version_out(*catalog.replace_draft(wiring.catalog_repository(), caller, plan_id, number, _fields(body)))


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
