"""Reconciliation: every invoiced period's usage against the raw events behind it (issue 14)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.usecases.reconciliation import reconciliation_report

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]


class PeriodOut(ApiModel):
    start: str
    end: str


class DifferenceOut(ApiModel):
    subscription_id: str
    customer_id: str
    meter_id: str
    invoice_id: str
    period: PeriodOut
    raw_quantity: str = Field(description="The meter's aggregation recomputed from the raw events.")
    aggregated_quantity: str = Field(description="What the hourly usage buckets hold (what billing reads).")
    billed_quantity: str = Field(description="What the invoices carry, late-usage lines included.")
    difference: str = Field(description="raw_quantity - billed_quantity")
    kind: str = Field(description="AGGREGATION_MISMATCH | UNBILLED_LATE_USAGE | BILLED_MORE_THAN_USED")


class ReconciliationOut(ApiModel):
    from_: str = Field(alias="from")
    to: str
    checked: int = Field(description="Meters of invoiced periods compared")
    differences: list[DifferenceOut] = Field(description="Empty when every event was billed exactly once")


def _time(value: str, name: str):
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise InvalidInput(f"{name} must be RFC 3339 with an offset, e.g. 2026-10-01T00:00:00Z.", field=name) from None


@router.get(
    "/v1/reconciliation",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["billing"],
    summary="Usage billed vs raw events, per subscription, meter and invoiced period: every difference",
)
def get_reconciliation(
    caller: Caller_,
    from_: Annotated[str, Query(alias="from", description="Invoiced periods ending after (RFC 3339)")],
    to: Annotated[str, Query(description="Invoiced periods starting before (RFC 3339); at most 400 days later")],
) -> ReconciliationOut:
    body = reconciliation_report(wiring.reconciliation_repos(), caller.tenant_id, _time(from_, "from"), _time(to, "to"))
    return ReconciliationOut.model_validate(body)
