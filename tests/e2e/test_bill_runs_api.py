"""Bill runs over HTTP: start one, read its per-subscription results, re-run only what failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.builders import customer, ok, plan, subscribe, wait_for
from tollgate import wiring
from tollgate.usecases.bill_runs import BillOutcome

pytestmark = pytest.mark.e2e


class FlakyBilling:
    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.billed: set[str] = set()

    def __call__(self, tenant_id, subscription_id, period_start, period_end):
        if subscription_id in self.failing:
            return BillOutcome("FAILED", error_code="USAGE_DATA_UNAVAILABLE", detail="the usage store was unavailable")
        status = "ALREADY_INVOICED" if subscription_id in self.billed else "INVOICED"
        self.billed.add(subscription_id)
        return BillOutcome(status, f"inv_{subscription_id}")


def test_a_partially_failed_run_shows_error_codes_and_a_rerun_retries_only_those(owner, monkeypatch):
    p = plan(owner)
    start = datetime.now(UTC) - timedelta(days=40)
    subs = [subscribe(owner, customer(owner)["id"], p["id"], start_at=start)["id"] for _ in range(3)]
    fake = FlakyBilling({subs[0]})
    monkeypatch.setattr(wiring, "biller", lambda: fake)
    started = ok(owner.post("/v1/bill-runs", json={}), 202)
    done = wait_for(
        lambda: (r := ok(owner.get(f"/v1/bill-runs/{started['id']}")))["status"] != "RUNNING" and r, timeout=60
    )
    assert done["status"] == "PARTIALLY_FAILED", (done["totals"], done["results"][:3], subs)
    mine = {r["subscription_id"]: r for r in done["results"] if r["subscription_id"] in subs}
    assert mine[subs[0]]["status"] == "FAILED" and mine[subs[0]]["error_code"] == "USAGE_DATA_UNAVAILABLE"
    assert {mine[s]["status"] for s in subs[1:]} == {"INVOICED"}
    failed_only = ok(owner.get(f"/v1/bill-runs/{started['id']}", params={"status": "FAILED"}))["results"]
    assert [r["subscription_id"] for r in failed_only] == [subs[0]]
    # The usage store is back: re-run the bill run; only the failed subscription is billed again.
    fake.failing.clear()
    fake.billed_before = set(fake.billed)
    ok(owner.post(f"/v1/bill-runs/{started['id']}/rerun"), 202)
    rerun = wait_for(
        lambda: (
            (r := ok(owner.get(f"/v1/bill-runs/{started['id']}")))["status"] != "RUNNING" and r["attempts"] == 2 and r
        ),
        timeout=60,
    )
    assert rerun["status"] == "COMPLETED"
    assert fake.billed - fake.billed_before == {subs[0]}
    assert owner.post(f"/v1/bill-runs/{started['id']}/rerun").status_code == 409  # nothing left to retry
