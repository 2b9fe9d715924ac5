"""Meters (billable units): event name, aggregation, filters, usage reset; archive and activate."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.fields import Flag
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.api.routers.catalog_common import READ, WRITE, CallerDep, Filters, created, sent_fields, timestamp_or_none
from tollgate.domain.catalog import AggregationFunction, Meter, MeterStatus, UsageReset
from tollgate.domain.clock import to_rfc3339
from tollgate.usecases import catalog

router = Router()


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
    allow_negative: Flag = Field(default=False, description="SUM only: accept negative values (corrections).")


class MeterPatch(ApiModel):
    event_name: str | None = None
    aggregation: AggregationIn | None = None
    name: str | None = None
    code: str | None = None
    description: str | None = None
    filters: Filters | None = None
    usage_reset: UsageReset | None = None
    allow_negative: Flag | None = None


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


class MeterList(PageFields):
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
        archived_at=timestamp_or_none(m.archived_at),
    )


@router.post(
    "/v1/meters",
    openapi_extensions=WRITE,
    tags=["meters"],
    summary="Create a meter (billable unit): event name, aggregation, filters, usage reset",
    responses={201: {"description": "Created", "content": {"application/json": {"model": MeterOut}}}},
)
def create_meter(body: MeterIn, caller: CallerDep) -> Response[MeterOut]:
    return created(meter_out(catalog.create_meter(wiring.catalog_repository(), caller, sent_fields(body))))


@router.get("/v1/meters", openapi_extensions=READ, tags=["meters"], summary="List meters")
def list_meters(
    caller: CallerDep,
    status: Annotated[MeterStatus | None, Query()] = None,
    event_name: Annotated[
        str | None, Query(max_length=255, description="Only meters with exactly this event name.")
    ] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> MeterList:
    page = wiring.catalog_repository().page_meters(
        caller.tenant_id, status=status, event_name=event_name, limit=limit, cursor=starting_after
    )
    return MeterList(data=[meter_out(m) for m in page.data], **page_fields(page))


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
    return meter_out(catalog.update_meter(wiring.catalog_repository(), caller, meter_id, sent_fields(body)))


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
