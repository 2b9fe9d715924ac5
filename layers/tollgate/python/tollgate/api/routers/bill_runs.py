"""Bill runs: start one now, see its per-subscription results, re-run what failed."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.bill_runs import BillRun, ResultStatus, SubscriptionResult
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.paging import Page
from tollgate.usecases import bill_runs as cases

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]


class BillRunIn(ApiModel):
    as_of: AwareDatetime | None = Field(default=None, description="Bill periods that ended by then (default: now).")
    customer_ids: list[str] = Field(default_factory=list, description="Only these customers (default: all).")


class ResultOut(ApiModel):
    subscription_id: str
    status: str
    error_code: str | None
    detail: str
    invoice_id: str | None
    period_start: str | None
    period_end: str | None


class BillRunOut(ApiModel):
    id: str
    status: str
    trigger: str
    created_at: str
    as_of: str | None
    closed_at: str | None
    attempts: int
    totals: dict[str, int]
    error: str | None
    results: list[ResultOut] = Field(
        default_factory=list,
        description="Per subscription, filtered by ?status=: the first 100 (GET …/results pages them all)",
    )
    results_has_more: bool = Field(default=False, description="More results than shown: GET …/results pages them.")


class ResultList(PageFields):
    data: list[ResultOut]


class BillRunList(PageFields):
    data: list[BillRunOut]


def result_out(r: SubscriptionResult) -> ResultOut:
    return ResultOut(
        subscription_id=r.subscription_id,
        status=r.status.value,
        error_code=r.error_code,
        detail=r.detail,
        invoice_id=r.invoice_id,
        period_start=to_rfc3339(r.period_start) if r.period_start else None,
        period_end=to_rfc3339(r.period_end) if r.period_end else None,
    )


def run_out(run: BillRun, results: Page[SubscriptionResult] | None = None) -> BillRunOut:
    return BillRunOut(
        id=run.bill_run_id,
        status=run.status.value,
        trigger=run.trigger,
        created_at=to_rfc3339(run.created_at),
        as_of=to_rfc3339(run.as_of) if run.as_of else None,
        closed_at=to_rfc3339(run.closed_at) if run.closed_at else None,
        attempts=run.attempts,
        totals=run.totals,
        error=run.error,
        results=[result_out(r) for r in results.data] if results else [],
        results_has_more=results.has_more if results else False,
    )


@router.post(
    "/v1/bill-runs",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["bill-runs"],
    summary="Bill now every subscription whose period ended (asynchronous, 202)",
    responses={202: {"description": "Started", "content": {"application/json": {"model": BillRunOut}}}},
)
def start_bill_run(body: BillRunIn, caller: Caller_) -> Response[BillRunOut]:
    run = cases.start_bill_run(
        wiring.bill_run_deps(),
        wiring.workflow_starter(),
        caller.tenant_id,
        as_of=body.as_of,
        customer_ids=body.customer_ids,
    )
    return Response(202, "application/json", run_out(run))


@router.get(
    "/v1/bill-runs",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["bill-runs"],
    summary="Recent bill runs",
)
def list_bill_runs(caller: Caller_, limit: Limit = 100, starting_after: StartingAfter = None) -> BillRunList:
    page = wiring.bill_run_repository().page_runs(caller.tenant_id, limit=limit, cursor=starting_after)
    return BillRunList(data=[run_out(r) for r in page.data], **page_fields(page))


@router.get(
    "/v1/bill-runs/<bill_run_id>",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["bill-runs"],
    summary="A bill run: status, totals and per-subscription results with error codes",
)
def get_bill_run(
    bill_run_id: str,
    caller: Caller_,
    status: Annotated[ResultStatus | None, Query(description="Only results with this status, e.g. FAILED")] = None,
) -> BillRunOut:
    run = cases.get_bill_run(wiring.bill_run_deps(), caller.tenant_id, bill_run_id)
    return run_out(
        run, wiring.bill_run_repository().page_results(caller.tenant_id, bill_run_id, status=status, limit=100)
    )


@router.get(
    "/v1/bill-runs/<bill_run_id>/results",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["bill-runs"],
    summary="A bill run's per-subscription results, by subscription id",
)
def list_bill_run_results(
    bill_run_id: str,
    caller: Caller_,
    status: Annotated[ResultStatus | None, Query(description="Only results with this status, e.g. FAILED")] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> ResultList:
    cases.get_bill_run(wiring.bill_run_deps(), caller.tenant_id, bill_run_id)  # 404 unless this tenant's
    page = wiring.bill_run_repository().page_results(
        caller.tenant_id, bill_run_id, status=status, limit=limit, cursor=starting_after
    )
    return ResultList(data=[result_out(r) for r in page.data], **page_fields(page))


@router.post(
    "/v1/bill-runs/<bill_run_id>/rerun",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["bill-runs"],
    summary="Re-run a finished bill run: only its PENDING and FAILED subscriptions are billed again (202)",
    responses={202: {"description": "Started", "content": {"application/json": {"model": BillRunOut}}}},
)
def rerun_bill_run(bill_run_id: str, caller: Caller_) -> Response[BillRunOut]:
    run = cases.rerun_bill_run(wiring.bill_run_deps(), wiring.workflow_starter(), caller.tenant_id, bill_run_id)
    return Response(202, "application/json", run_out(run))
