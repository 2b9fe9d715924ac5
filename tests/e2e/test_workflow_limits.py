"""Workflow limits (issue 16). A workflow's lock never outlives its execution: a bulk migration that fails
mid-way releases the tenant's migration lock through its Catch, and one whose execution ends with no Catch
running (aborted, timed out) is taken over by the next start; a bill run left RUNNING by an aborted
execution can be re-run. Each answer is 202, never the 409 that used to last forever. A dunning retry
schedule must fit in one execution (Step Functions ends an execution after a year)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.builders import customer, ok, plan, subscribe, wait_for
from tollgate import wiring

pytestmark = pytest.mark.e2e


@contextmanager
def tasks_of(function: str, module, fault) -> Iterator[None]:
    """Run ``fault(event)`` before each task of ``function``: it may raise, block, or answer instead (a value)."""
    from infra.local import lambda_dispatch
    from infra.local.stack import function_name

    def wrapped(event, context):
        answer = fault(event)  # outside the dispatch lock, so the API keeps answering while it blocks
        if answer is not None:
            return answer
        with lambda_dispatch.LOCK:
            return module.lambda_handler(event, context)

    lambda_dispatch.register(function_name(function), wrapped, serialize=False)
    try:
        yield
    finally:
        lambda_dispatch.register(function_name(function), module.lambda_handler)


def finished(c, path: str) -> dict:
    return wait_for(lambda: (r := ok(c.get(path)))["status"] != "RUNNING" and r, timeout=60)


def abort(server, machine: str, name: str, release: threading.Event) -> None:
    """Stop the execution while its task is stuck, then let the task return (moto ends the execution then)."""
    sfn = server.stack.client("stepfunctions")
    arn = server.stack.state_machine_arns[machine].replace(":stateMachine:", ":execution:") + f":{name}"
    sfn.stop_execution(executionArn=arn, error="Aborted", cause="stopped by the test")
    release.set()
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] == "ABORTED", timeout=30)


def migration_setup(owner) -> tuple[dict, dict, list[str]]:
    old, new = plan(owner), plan(owner)
    subs = [subscribe(owner, customer(owner)["id"], old["id"])["id"] for _ in range(2)]
    return old, new, subs


def test_a_migration_that_fails_mid_way_releases_the_lock_and_a_new_one_is_accepted(owner):
    from functions.migration_tasks import handler

    old, new, subs = migration_setup(owner)
    body = {"from_plan_id": old["id"], "to_plan_id": new["id"]}
    failing = {"migrate_page"}

    def broken(event):
        if event.get("task") in failing:
            raise RuntimeError(f"{event['task']} broke")

    with tasks_of("migration_tasks", handler, broken):
        # A page that fails as a whole: its subscriptions are FAILED with the cause, the others go on.
        partial = finished(owner, f"/v1/migrations/{ok(owner.post('/v1/migrations', json=body), 202)['id']}")
        assert partial["status"] == "PARTIALLY_FAILED" and partial["failed"] == len(subs)
        assert all("migrate_page broke" in r["detail"] for r in partial["results"])
        # The run itself fails (its Catch): the migration is FAILED and the lock released.
        failing.add("plan_bulk_migration")
        failed = finished(owner, f"/v1/migrations/{ok(owner.post('/v1/migrations', json=body), 202)['id']}")
    assert failed["status"] == "FAILED" and "plan_bulk_migration broke" in failed["error"]
    again = ok(owner.post("/v1/migrations", json=body), 202)  # not 409: the Catch released the lock
    done = finished(owner, f"/v1/migrations/{again['id']}")
    assert done["status"] == "COMPLETED" and {r["subscription_id"] for r in done["results"]} == set(subs)


def test_an_aborted_migration_no_catch_can_see_is_taken_over_by_the_next_start(server, owner):
    from functions.migration_tasks import handler

    old, new, subs = migration_setup(owner)
    body = {"from_plan_id": old["id"], "to_plan_id": new["id"]}
    entered, release = threading.Event(), threading.Event()

    def stuck(event):
        if event.get("task") == "migrate_page":
            entered.set()
            release.wait(timeout=30)
            return {}  # the aborted execution's page does nothing

    with tasks_of("migration_tasks", handler, stuck):
        first = ok(owner.post("/v1/migrations", json=body), 202)
        try:
            assert entered.wait(timeout=30)
            assert ok(owner.post("/v1/migrations", json=body), 409)["code"] == "BULK_MIGRATION_RUNNING"  # still running
            abort(server, "bulk_migration", first["id"], release)
            assert ok(owner.get(f"/v1/migrations/{first['id']}"))["status"] == "RUNNING"  # nothing released it
        finally:
            release.set()
    again = ok(owner.post("/v1/migrations", json=body), 202)  # the stale lock is taken over
    taken_over = ok(owner.get(f"/v1/migrations/{first['id']}"))
    assert taken_over["status"] == "FAILED" and "ABORTED" in taken_over["error"]
    done = finished(owner, f"/v1/migrations/{again['id']}")
    assert done["status"] == "COMPLETED" and {r["subscription_id"] for r in done["results"]} == set(subs)


def test_a_bill_run_whose_execution_was_aborted_can_be_rerun(server, owner, monkeypatch):
    from functions.bill_run_tasks import handler
    from tests.e2e.test_bill_runs_api import FlakyBilling

    p = plan(owner)
    start = datetime.now(UTC) - timedelta(days=40)
    subs = [subscribe(owner, customer(owner)["id"], p["id"], start_at=start)["id"] for _ in range(2)]
    monkeypatch.setattr(wiring, "biller", lambda: FlakyBilling(set()))
    entered, release = threading.Event(), threading.Event()

    def stuck(event):
        if event.get("task") == "rate_page" and not event["execution"].count("-rerun-") and not release.is_set():
            entered.set()
            release.wait(timeout=30)
            return {}

    with tasks_of("bill_run_tasks", handler, stuck):
        run = ok(owner.post("/v1/bill-runs", json={}), 202)
        try:
            assert entered.wait(timeout=30)
            abort(server, "bill_run", run["id"], release)
        finally:
            release.set()
        assert ok(owner.get(f"/v1/bill-runs/{run['id']}"))["status"] == "RUNNING"  # nothing closed it
        ok(owner.post(f"/v1/bill-runs/{run['id']}/rerun"), 202)  # not 409: its execution has ended
        done = wait_for(
            lambda: (
                (r := ok(owner.get(f"/v1/bill-runs/{run['id']}")))["status"] != "RUNNING" and r["attempts"] == 2 and r
            ),
            timeout=60,
        )
    mine = {r["subscription_id"]: r["status"] for r in done["results"] if r["subscription_id"] in subs}
    assert done["status"] == "COMPLETED" and mine == dict.fromkeys(subs, "INVOICED")


def test_a_retry_schedule_longer_than_an_execution_can_last_is_a_422_that_changes_nothing(owner):
    before = ok(owner.get("/v1/settings/payments"))
    r = owner.put("/v1/settings/payments", json={"retry_schedule": ["P200D", "P200D"]})
    body = r.json()
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "INVALID_INPUT" and "P400D" in body["detail"] and "360 days" in body["detail"]
    assert ok(owner.get("/v1/settings/payments"))["retry_schedule"] == before["retry_schedule"]


def test_one_poison_move_of_the_subscription_clock_fails_alone_and_the_others_apply(server, owner, monkeypatch):
    from tollgate.adapters.dynamodb.subscriptions import DynamoSubscriptionRepository

    p = plan(owner, trial_days=14)
    ended = datetime.now(UTC) - timedelta(days=14, seconds=5)
    poison, healthy = (subscribe(owner, customer(owner)["id"], p["id"], start_at=ended)["id"] for _ in range(2))
    real_get = DynamoSubscriptionRepository.get

    def get(self, tenant_id, subscription_id):
        if subscription_id == poison:
            raise ValueError("an item this code cannot read")
        return real_get(self, tenant_id, subscription_id)

    def tick() -> dict:
        execution = server.stack.wait_for_execution(server.stack.fire_schedule("subscription-clock"))
        assert execution["status"] == "SUCCEEDED", execution
        return execution

    monkeypatch.setattr(DynamoSubscriptionRepository, "get", get)
    assert '"failed":1' in tick()["output"].replace(" ", "")
    monkeypatch.setattr(DynamoSubscriptionRepository, "get", real_get)
    assert ok(owner.get(f"/v1/subscriptions/{healthy}"))["status"] == "ACTIVE"
    assert ok(owner.get(f"/v1/subscriptions/{poison}"))["status"] == "TRIALING"  # still due, not lost
    tick()
    assert ok(owner.get(f"/v1/subscriptions/{poison}"))["status"] == "ACTIVE"
