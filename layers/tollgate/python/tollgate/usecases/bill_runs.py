"""Bill runs: the Lambda tasks of the bill-run state machine (infra/definitions/statemachines/bill_run.asl.json)
and the API's start / re-run.

open_bill_run -> (Distributed Map over an S3 manifest of pages) rate_page | record_page_failure
-> close_bill_run; fail_bill_run on a run-level error. Every step is idempotent.

No state grows with the number of tenants or subscriptions (Step Functions refuses a state over 256 KB with
an uncatchable States.DataLimitExceeded): the pages and, for the daily run over every tenant, the list of
runs opened are written to S3; the states carry their locations and counts only. A run whose execution
ended without closing it (aborted, timed out) is closed as FAILED by the next re-run instead of a 409.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.bill_runs import BillRun, BillRunStatus, ResultStatus, SubscriptionResult
from tollgate.domain.billing.errors import BillingErrorCode
from tollgate.domain.clock import parse_rfc3339, to_rfc3339, utcnow
from tollgate.domain.errors import ConcurrentUpdate, Conflict, InvalidInput, NotFound
from tollgate.domain.ids import deterministic_id, new_id
from tollgate.domain.periods import Period
from tollgate.domain.retry import retry_on_conflict
from tollgate.observability import count
from tollgate.ports import BillRunRepository, ManifestStore, TenancyRepository
from tollgate.ports.customers import SubscriptionRepository

_log = logging.getLogger(__name__)


# Subscriptions per page: one child execution rates one page. 1,000,000 subscriptions = 10,000 pages.
PAGE_SIZE = 100


@dataclass(frozen=True)
class BillOutcome:
    """What billing one subscription for one period gave (see tollgate.usecases.billing)."""

    status: ResultStatus  # INVOICED | ALREADY_INVOICED | FAILED
    invoice_id: str | None = None
    error_code: str | None = None
    detail: str = ""


# (tenant_id, subscription_id, period_start, period_end) -> BillOutcome
# Bills one subscription for one period. INVOICED means the invoice and the subscription's billed_through
# were written together; for ALREADY_INVOICED the bill run moves billed_through itself.
Biller = Callable[[str, str, datetime, datetime], BillOutcome]


class Starter(Protocol):
    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str: ...

    def status(self, machine: str, name: str) -> str | None: ...


@dataclass(frozen=True)
class Deps:
    runs: BillRunRepository
    tenants: TenancyRepository
    subscriptions: SubscriptionRepository
    manifests: ManifestStore
    clock: Callable[[], datetime] = utcnow


def scheduled_run_id(tenant_id: str, run_date: datetime) -> str:
    return deterministic_id("br", tenant_id, "schedule", run_date.date().isoformat())


# -- the API --------------------------------------------------------------------------------------------


def start_bill_run(
    deps: Deps,
    starter: Starter,
    tenant_id: str,
    *,
    as_of: datetime | None = None,
    customer_ids: list[str] | None = None,
) -> BillRun:
    """POST /v1/bill-runs: bill the tenant's subscriptions whose period ended by ``as_of`` (default now).
    An ``as_of`` in the future is refused before anything runs: no period can be billed before it ends."""
    now = deps.clock()
    if as_of is not None and as_of > now:
        raise InvalidInput(
            f"as_of {to_rfc3339(as_of)} is in the future (server time {to_rfc3339(now)}): a period is billed "
            "once it has ended. Leave as_of out to bill every period ended by now"
            " (on the local stack, move time with POST /local/clock/advance).",
            field="as_of",
            code="AS_OF_IN_FUTURE",
        )
    run = BillRun(
        new_id("br"),
        tenant_id,
        "api",
        BillRunStatus.RUNNING,
        now,
        as_of=as_of or now,
        customer_ids=tuple(customer_ids or ()),
    )
    deps.runs.open(run)
    starter.start("bill_run", run.bill_run_id, {"tenant_id": tenant_id, "bill_run_id": run.bill_run_id})
    return run


def rerun_bill_run(deps: Deps, starter: Starter, tenant_id: str, bill_run_id: str) -> BillRun:
    """POST /v1/bill-runs/{id}/rerun: retry only what is still PENDING or FAILED."""
    run = get_bill_run(deps, tenant_id, bill_run_id)
    if run.status is BillRunStatus.RUNNING and (ended := _ended(starter, run)):
        run = deps.runs.close(
            tenant_id, bill_run_id, deps.clock(), error=f"Its execution ended ({ended}) without closing the run."
        )
    if run.status is BillRunStatus.RUNNING:
        raise Conflict(
            f"Bill run {bill_run_id} is still running; re-run it once it has finished.", code="BILL_RUN_RUNNING"
        )
    if run.status is BillRunStatus.COMPLETED:
        raise Conflict(f"Bill run {bill_run_id} completed: nothing failed, nothing to re-run.", code="NOTHING_TO_RERUN")
    attempt = run.attempts + 1
    starter.start(
        "bill_run",
        f"{bill_run_id}-rerun-{attempt}",
        {"tenant_id": tenant_id, "bill_run_id": bill_run_id, "rerun": True},
    )
    return run


def _ended(starter: Starter, run: BillRun) -> str | None:
    """How the execution of the run's latest attempt ended, or None while it runs (or is about to start)."""
    name = run.execution or (run.bill_run_id if run.trigger == "api" else None)
    status = starter.status("bill_run", name) if name else None
    return status if status not in (None, "RUNNING") else None


def get_bill_run(deps: Deps, tenant_id: str, bill_run_id: str) -> BillRun:
    run = deps.runs.get(tenant_id, bill_run_id)
    if run is None:
        raise NotFound(f"Bill run not found: {bill_run_id}.")
    return run


# -- the state machine's tasks -------------------------------------------------------------------------------


def _due(deps: Deps, run: BillRun) -> list[str]:
    ids = deps.subscriptions.list_due(run.tenant_id, run.as_of or run.created_at)
    if run.customer_ids:
        wanted = set(run.customer_ids)
        ids = [i for i in ids if (s := deps.subscriptions.get(run.tenant_id, i)) and s.customer_id in wanted]
    return ids


def open_bill_run(deps: Deps, request: dict[str, Any], execution_name: str) -> dict[str, Any]:
    """Open the run(s), record their targets as PENDING and write the pages to a manifest."""
    now = deps.clock()
    as_of = parse_rfc3339(request["as_of"]) if request.get("as_of") else now
    if request.get("tenant_id"):
        run_id = request.get("bill_run_id") or new_id("br")
        runs = [
            deps.runs.open(
                BillRun(
                    run_id,
                    request["tenant_id"],
                    request.get("trigger", "api"),
                    BillRunStatus.RUNNING,
                    now,
                    as_of=as_of,
                    execution=execution_name,
                )
            )
        ]
    else:  # the daily schedule bills every tenant
        runs = [
            deps.runs.open(
                BillRun(
                    scheduled_run_id(t, as_of),
                    t,
                    "schedule",
                    BillRunStatus.RUNNING,
                    now,
                    as_of=as_of,
                    execution=execution_name,
                )
            )
            for t in deps.tenants.list_tenant_ids()
        ]
    pages: list[dict[str, Any]] = []
    refs: list[dict[str, str]] = []
    for run, _created in runs:
        # The first attempt (the API may have opened the run already) bills what is due; any later one
        # (a re-run, or the schedule firing again) retries what is still PENDING or FAILED.
        if request.get("rerun") or run.attempts > 0:
            targets = deps.runs.unfinished(run.tenant_id, run.bill_run_id)
        else:
            targets = _due(deps, run)
            deps.runs.record_results(
                run.tenant_id, run.bill_run_id, [SubscriptionResult(s, ResultStatus.PENDING) for s in targets]
            )
        run = deps.runs.start_attempt(run.tenant_id, run.bill_run_id, execution_name)
        refs.append({"tenant_id": run.tenant_id, "bill_run_id": run.bill_run_id})
        run_as_of = to_rfc3339(run.as_of or as_of)
        for n, start in enumerate(range(0, len(targets), PAGE_SIZE)):
            pages.append(
                {
                    "tenant_id": run.tenant_id,
                    "bill_run_id": run.bill_run_id,
                    "attempt": run.attempts,
                    "page": n,
                    "as_of": run_as_of,
                    "subscription_ids": targets[start : start + PAGE_SIZE],
                }
            )
    manifest = deps.manifests.put(f"bill-runs/{execution_name}.json", pages)
    counted = {"page_count": len(pages)}
    if request.get("tenant_id"):
        return {"bill_runs": refs, "manifest": manifest, **counted}
    # The daily run opened one run per tenant: their references go to S3 (100,000 tenants = 8 MB), not the state.
    opened = deps.manifests.put(f"bill-runs/{execution_name}-runs.json", refs)
    return {
        "bill_runs": [],
        "runs_manifest": opened,
        "run_count": len(refs),
        "manifest": manifest,
        "page_count": len(pages),
    }


def rate_page(deps: Deps, bill: Biller, page: dict[str, Any]) -> dict[str, Any]:
    """Bill each subscription of the page for its due period; record one result each."""
    tenant_id, as_of = page["tenant_id"], parse_rfc3339(page["as_of"])
    results: list[SubscriptionResult] = []
    ids = page["subscription_ids"]
    subs = deps.subscriptions.get_many(tenant_id, ids)
    due: dict[str, Period] = {}
    for subscription_id, sub in subs.items():
        period = sub.next_bill_period()
        if period is not None and period.end <= as_of:
            due[subscription_id] = period
    await_usage = getattr(bill, "await_usage", None)  # the bill run waits for the usage data (issue 14)
    if await_usage is not None and due:
        await_usage(tenant_id, as_of)
    prefetch = getattr(bill, "prefetch", None)  # the biller may read the page's items in bulk
    if prefetch is not None and due:
        try:
            prefetch(tenant_id, [subs[i] for i in due], due)
        except Exception:  # e.g. one unreadable item: bill each subscription from its own reads instead
            _log.exception("reading page %s of bill run %s in bulk failed", page["page"], page["bill_run_id"])
    for subscription_id in ids:
        period = due.get(subscription_id)
        if period is None:
            results.append(SubscriptionResult(subscription_id, ResultStatus.SKIPPED, detail="nothing due for billing"))
            continue
        outcome = _bill_one(deps, bill, tenant_id, subscription_id, period)
        results.append(
            SubscriptionResult(
                subscription_id,
                ResultStatus(outcome.status),
                outcome.error_code,
                outcome.detail,
                outcome.invoice_id,
                period.start,
                period.end,
            )
        )
    deps.runs.record_results(tenant_id, page["bill_run_id"], results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    return {"bill_run_id": page["bill_run_id"], "page": page["page"], **counts}


def _bill_one(deps: Deps, bill: Biller, tenant_id: str, subscription_id: str, period: Period) -> BillOutcome:
    """Bill one subscription of a page; whatever it raises fails that subscription only."""
    try:
        outcome = bill(tenant_id, subscription_id, period.start, period.end)
        if ResultStatus(outcome.status) is ResultStatus.ALREADY_INVOICED:
            _mark_billed(deps, tenant_id, subscription_id, period.end)  # a fresh invoice moved it in its own write
        return outcome
    except Exception as exc:
        _log.exception("billing subscription %s failed unexpectedly", subscription_id)
        count("BillFailures", code=BillingErrorCode.INTERNAL_ERROR.value)
        detail = f"Billing failed unexpectedly ({type(exc).__name__}); it was logged. Re-run the bill run."
        return BillOutcome(ResultStatus.FAILED, error_code=BillingErrorCode.INTERNAL_ERROR.value, detail=detail)


def _mark_billed(deps: Deps, tenant_id: str, subscription_id: str, period_end: datetime) -> None:
    """Move the subscription's billed_through to ``period_end`` (it may change meanwhile, e.g. an upgrade:
    read again and retry; a subscription that keeps changing is left for the next run)."""

    def mark() -> None:
        sub = deps.subscriptions.get(tenant_id, subscription_id)
        if sub is None or (sub.billed_through and sub.billed_through >= period_end):
            return
        try:
            deps.subscriptions.save(
                replace(sub, billed_through=period_end, version=sub.version + 1),
                expected_version=sub.version,
                events=[],
                history=[],
            )
        except ConcurrentUpdate:
            raise
        except Conflict as exc:
            if exc.code != ConcurrentUpdate.code:
                raise
            raise ConcurrentUpdate(exc.detail) from exc

    try:
        retry_on_conflict(mark, exhausted=f"Subscription {subscription_id} kept changing.")
    except ConcurrentUpdate:
        _log.warning("billed_through of subscription %s not moved: it kept changing", subscription_id)


def record_page_failure(deps: Deps, page: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """A page that failed as a whole: its subscriptions not yet billed are FAILED (a re-run retries them)."""
    cause = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    done = {
        r.subscription_id
        for r in deps.runs.results_for(page["tenant_id"], page["bill_run_id"], list(page["subscription_ids"]))
        if r.status is not ResultStatus.PENDING
    }
    failed = [
        SubscriptionResult(s, ResultStatus.FAILED, "PAGE_FAILED", cause)
        for s in page["subscription_ids"]
        if s not in done
    ]
    deps.runs.record_results(page["tenant_id"], page["bill_run_id"], failed)
    return {"bill_run_id": page["bill_run_id"], "page": page["page"], "FAILED": len(failed)}


# At most this many closed runs are named in the execution's output (the rest are counted by status).
OUTPUT_RUNS = 10


def _refs(deps: Deps, state: dict[str, Any]) -> list[dict[str, str]]:
    refs: list[dict[str, str]] = list(state.get("bill_runs") or [])
    if state.get("runs_manifest"):
        refs += deps.manifests.get(state["runs_manifest"]["key"])
    return refs


def close_bill_run(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    closed: list[dict[str, Any]] = []
    statuses: dict[str, int] = {}
    for ref in _refs(deps, state):
        run = deps.runs.close(ref["tenant_id"], ref["bill_run_id"], deps.clock())
        statuses[run.status.value] = statuses.get(run.status.value, 0) + 1
        if len(closed) < OUTPUT_RUNS:
            closed.append({"bill_run_id": run.bill_run_id, "status": run.status.value, "totals": run.totals})
    return {"bill_runs": closed, "closed": sum(statuses.values()), "statuses": statuses}


def fail_bill_run(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    error = state.get("error") or {}
    cause = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    bill_runs = _refs(deps, state) or (
        [{"tenant_id": state["tenant_id"], "bill_run_id": state["bill_run_id"]}] if state.get("bill_run_id") else []
    )
    for ref in bill_runs:
        deps.runs.close(ref["tenant_id"], ref["bill_run_id"], deps.clock(), error=cause)
    return {"bill_runs": bill_runs[:OUTPUT_RUNS], "failed": len(bill_runs), "error": cause}
