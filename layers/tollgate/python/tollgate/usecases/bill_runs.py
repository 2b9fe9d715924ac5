"""Bill-run use cases: the Lambda tasks of the bill-run state machine (infra/definitions/statemachines).

open_bill_run -> rate_page (per page, in a Map) -> close_bill_run; fail_bill_run on a run-level error.
Every step is idempotent: a retried task or a re-started execution changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tollgate.domain.bill_runs import BillRun, BillRunStatus, closing_status
from tollgate.domain.clock import parse_rfc3339, to_rfc3339, utcnow
from tollgate.domain.errors import NotFound
from tollgate.domain.ids import deterministic_id, new_id
from tollgate.ports import BillRunRepository, TenancyRepository

# Subscriptions per page: one rate_page task rates one page (keeps the Map small at any scale).
PAGE_SIZE = 100


def scheduled_run_id(tenant_id: str, run_date: datetime) -> str:
    return deterministic_id("br", tenant_id, "schedule", run_date.date().isoformat())


def open_bill_run(runs: BillRunRepository, tenants: TenancyRepository, request: dict[str, Any], execution_id: str) -> dict:
    """Open the run(s) and list the pages to rate. ``request``: {tenant_id?, bill_run_id?, trigger}."""
    now = parse_rfc3339(request["as_of"]) if request.get("as_of") else utcnow()
    trigger = request.get("trigger", "api")
    if request.get("tenant_id"):
        targets = [(request["tenant_id"], request.get("bill_run_id") or new_id("br"))]
    else:  # the daily schedule bills every tenant
        targets = [(t, scheduled_run_id(t, now)) for t in tenants.list_tenant_ids()]
    pages: list[dict[str, Any]] = []
    bill_runs: list[dict[str, str]] = []
    for tenant_id, run_id in targets:
        run = runs.open(BillRun(run_id, tenant_id, trigger, BillRunStatus.RUNNING, now, execution_id=execution_id))
        bill_runs.append({"tenant_id": tenant_id, "bill_run_id": run.bill_run_id})
        # Subscriptions due for billing are paged here once subscriptions exist (billing issue);
        # a tenant with none still gets one (empty) page so its run is closed the same way.
        pages.append({"tenant_id": tenant_id, "bill_run_id": run.bill_run_id, "page": 0, "subscription_ids": []})
    return {"bill_runs": bill_runs, "pages": pages, "as_of": to_rfc3339(now)}


def rate_page(runs: BillRunRepository, page: dict[str, Any]) -> dict:
    rated, failed = len(page.get("subscription_ids", [])), 0
    runs.record_page(page["tenant_id"], page["bill_run_id"], int(page["page"]), rated, failed, None)
    return {"tenant_id": page["tenant_id"], "bill_run_id": page["bill_run_id"], "page": page["page"], "rated": rated}


def record_page_failure(runs: BillRunRepository, page: dict[str, Any], error: dict[str, Any]) -> dict:
    cause = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    count = len(page.get("subscription_ids", []))
    runs.record_page(page["tenant_id"], page["bill_run_id"], int(page["page"]), 0, count, cause)
    return {"tenant_id": page["tenant_id"], "bill_run_id": page["bill_run_id"], "page": page["page"], "error": cause}


def close_bill_run(runs: BillRunRepository, bill_runs: list[dict[str, str]]) -> dict:
    closed = []
    for ref in bill_runs:
        run = runs.get(ref["tenant_id"], ref["bill_run_id"])
        if run is None:
            raise NotFound(f"bill run {ref['bill_run_id']} vanished")
        closed_run = runs.close(run.tenant_id, run.bill_run_id, closing_status(run), utcnow())
        closed.append({"bill_run_id": closed_run.bill_run_id, "status": closed_run.status.value})
    return {"bill_runs": closed}


def fail_bill_run(runs: BillRunRepository, bill_runs: list[dict[str, str]], error: dict[str, Any]) -> dict:
    cause = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    for ref in bill_runs:
        runs.close(ref["tenant_id"], ref["bill_run_id"], BillRunStatus.FAILED, utcnow(), cause)
    return {"bill_runs": bill_runs, "error": cause}
