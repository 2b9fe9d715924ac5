"""Step Functions refuses a state input or output over 256 KB with States.DataLimitExceeded, which no Catch
can handle. The largest states of the bulk migration (1,000,000 subscriptions) and of the daily bill run
(100,000 tenants, 1,000,000 subscriptions) are computed here from the tasks' real output builders, fed
synthetic ids of the real length (nothing is written anywhere: the stores below only keep what they get)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from infra import definitions
from tollgate.domain.bill_runs import BillRun, BillRunStatus
from tollgate.domain.migrations import BulkMigration, MigrationStatus
from tollgate.usecases import bill_runs, migrations

LIMIT = 256 * 1024
NOW = datetime(2026, 11, 29, tzinfo=UTC)
# Step Functions' own error cause can be 32,768 characters; the execution name up to 80.
ERROR = {"Error": "States.TaskFailed", "Cause": "x" * 32_768}
EXECUTION = "e" * 80


def size(value: Any) -> int:
    return len(json.dumps(value).encode())


def lambda_payload(task: str, state: dict[str, Any]) -> dict[str, Any]:
    """What the definitions send to a task: {"task", "input.$": "$", "execution.$": "$$.Execution.Name"}."""
    return {"task": task, "input": state, "execution": EXECUTION}


def map_output(prefix: str) -> dict[str, Any]:
    """A Distributed Map with a ResultWriter outputs where it wrote its children's results, not the results."""
    run = f"arn:aws:states:eu-west-1:123456789012:mapRun:tollgate-prod-bill-run/{'m' * 80}:{'u' * 36}"
    bucket = "tollgate-prod-manifests-123456789012-eu-west-1"
    return {"MapRunArn": run, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{prefix}/{'u' * 36}/manifest.json"}}


def definition(name: str) -> dict[str, Any]:
    return json.loads((definitions.HERE / definitions.state_machines()[name].file).read_text())


def sub_id(n: int) -> str:
    return f"sub_{n:016d}"  # new_id("sub"): prefix + 16 characters


class Manifests:
    def __init__(self) -> None:
        self.objects: dict[str, list[dict]] = {}

    def put(self, key: str, items: list[dict]) -> dict[str, str]:
        self.objects[key] = items
        return {"bucket": "tollgate-prod-manifests-123456789012-eu-west-1", "key": key}

    def get(self, key: str) -> list[dict]:
        return self.objects[key]


def test_a_bulk_migration_of_1_000_000_subscriptions_keeps_every_state_under_256_kb():
    n, tenant, migration_id = 1_000_000, "ten_" + "t" * 16, "mig_" + "m" * 16
    m = BulkMigration(migration_id, tenant, "plan_old", None, "plan_new", None, False, MigrationStatus.RUNNING, NOW)
    on_plan = SimpleNamespace(plan_id="plan_old", version=1)
    subscriptions = SimpleNamespace(
        list_for_tenant=lambda _t: (
            SimpleNamespace(subscription_id=sub_id(i), live=True, plan=on_plan) for i in range(n)
        )
    )
    store = SimpleNamespace(get=lambda *_: m, set_total=lambda *_: None)
    manifests = Manifests()
    start = {"tenant_id": tenant, "migration_id": migration_id}  # what the API starts the execution with

    planned = migrations.plan_bulk_migration(
        SimpleNamespace(subscriptions=subscriptions), store, manifests, *start.values()
    )

    (pages,) = manifests.objects.values()
    assert planned["page_count"] == len(pages) == n // migrations.PAGE_SIZE
    assert sum(len(p["subscription_ids"]) for p in pages) == n
    assert size(pages) > 100 * LIMIT  # what used to travel in the state: ~44 MB
    largest_page = max(pages, key=size)
    states = {
        "PlanMigration in": lambda_payload("plan_bulk_migration", start),
        "PlanMigration out / MigratePages in and out (ResultPath null)": planned,
        "MigratePage in (one Distributed Map item)": lambda_payload("migrate_page", largest_page),
        "MigratePage out": {"MIGRATED": 50, "SKIPPED": 0, "FAILED": 0},
        "MigratePages result (ResultWriter)": map_output(
            definition("bulk_migration")["States"]["MigratePages"]["ResultWriter"]["Parameters"]["Prefix"]
        ),
        "MigrationFailed in": lambda_payload("fail_bulk_migration", {**planned, "error": ERROR}),
        "CloseMigration in": lambda_payload("close_bulk_migration", planned),
    }
    sizes = {name: size(state) for name, state in states.items()}
    assert max(sizes.values()) < LIMIT / 2, sizes


class Runs:
    """The bill-run store's surface open/close use, holding runs only (results are not kept)."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str], BillRun] = {}

    def open(self, run: BillRun) -> tuple[BillRun, bool]:
        self.runs[(run.tenant_id, run.bill_run_id)] = run
        return run, True

    def record_results(self, *_: Any) -> None:
        return None

    def start_attempt(self, tenant_id: str, bill_run_id: str, execution: str = "") -> BillRun:
        run = self.runs[(tenant_id, bill_run_id)]
        return replace(run, attempts=run.attempts + 1, execution=execution)

    def close(self, tenant_id: str, bill_run_id: str, at: datetime, error: str | None = None) -> BillRun:
        run = self.runs[(tenant_id, bill_run_id)]
        totals = {"INVOICED": 9, "FAILED": 1}
        return replace(run, status=BillRunStatus.PARTIALLY_FAILED, closed_at=at, totals=totals, error=error)


def test_the_daily_bill_run_over_100_000_tenants_and_1_000_000_subscriptions_keeps_every_state_under_256_kb():
    tenants, per_tenant = 100_000, 10
    tenant_ids = [f"ten_{t:016d}" for t in range(tenants)]
    due = {t: [sub_id(i * per_tenant + k) for k in range(per_tenant)] for i, t in enumerate(tenant_ids)}
    manifests = Manifests()
    deps = bill_runs.Deps(
        runs=Runs(),  # type: ignore[arg-type]
        tenants=SimpleNamespace(list_tenant_ids=lambda: tenant_ids),  # type: ignore[arg-type]
        subscriptions=SimpleNamespace(list_due=lambda t, _until: due[t]),  # type: ignore[arg-type]
        manifests=manifests,
        clock=lambda: NOW,
    )
    start = {"trigger": "schedule"}  # infra/definitions/schedules.json: the daily run names no tenant

    opened = bill_runs.open_bill_run(deps, start, EXECUTION)

    pages = manifests.get(opened["manifest"]["key"])
    assert opened["run_count"] == tenants and opened["page_count"] == len(pages) == tenants
    assert sum(len(p["subscription_ids"]) for p in pages) == tenants * per_tenant
    assert size(manifests.get(opened["runs_manifest"]["key"])) > 20 * LIMIT  # ~8 MB of references: not in a state
    closed = bill_runs.close_bill_run(deps, opened)
    assert closed["closed"] == tenants and closed["statuses"] == {"PARTIALLY_FAILED": tenants}
    failed = bill_runs.fail_bill_run(deps, {**opened, "error": ERROR})
    assert failed["failed"] == tenants
    # Even one empty result per child is over the limit: the Map writes them to S3 (ResultWriter) instead.
    assert size([{}] * len(pages)) > LIMIT
    largest_page = max(pages, key=size)
    states = {
        "OpenBillRun in": lambda_payload("open_bill_run", start),
        "OpenBillRun out / RateSubscriptionPages in and out (ResultPath null)": opened,
        "RatePage in (one Distributed Map item)": lambda_payload("rate_page", largest_page),
        "RecordPageFailure in": lambda_payload("record_page_failure", {**largest_page, "error": ERROR}),
        "RateSubscriptionPages result (ResultWriter)": map_output(
            definition("bill_run")["States"]["RateSubscriptionPages"]["ResultWriter"]["Parameters"]["Prefix"]
        ),
        "CloseBillRun in": lambda_payload("close_bill_run", opened),
        "CloseBillRun out": closed,
        "BillRunFailed in": lambda_payload("fail_bill_run", {**opened, "error": ERROR}),
        "BillRunFailed out": failed,
    }
    sizes = {name: size(state) for name, state in states.items()}
    assert max(sizes.values()) < LIMIT / 2, sizes


def test_one_tenant_with_1_000_000_due_subscriptions_fans_out_over_pages_of_100():
    manifests = Manifests()
    ids = [sub_id(i) for i in range(1_000_000)]
    deps = bill_runs.Deps(
        runs=Runs(),  # type: ignore[arg-type]
        tenants=SimpleNamespace(),  # type: ignore[arg-type]
        subscriptions=SimpleNamespace(list_due=lambda _t, _until: ids),  # type: ignore[arg-type]
        manifests=manifests,
        clock=lambda: NOW,
    )
    opened = bill_runs.open_bill_run(deps, {"tenant_id": "ten_" + "t" * 16, "bill_run_id": "br_" + "b" * 16}, EXECUTION)
    pages = manifests.get(opened["manifest"]["key"])
    assert opened["page_count"] == 10_000 and len(opened["bill_runs"]) == 1
    assert size(opened) < 1024 and size(lambda_payload("rate_page", max(pages, key=size))) < 8 * 1024
