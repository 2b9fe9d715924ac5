"""The daily-reconciliation schedule invokes the reconciliation function (issue 14): on the local stack the
clock fires it as EventBridge Scheduler would on AWS, from the same declaration (infra/definitions)."""

from __future__ import annotations

from infra import definitions


def test_the_daily_reconciliation_schedule_targets_the_reconciliation_function() -> None:
    schedule = next(s for s in definitions.schedules() if s.name == "daily-reconciliation")
    assert schedule.target.function == "reconciliation" and schedule.target.state_machine is None
    assert "reconciliation" in definitions.functions()


def test_firing_the_schedule_reconciles_every_tenant_in_process(stack) -> None:
    stack.bootstrap_tenant("Reconciled")
    with stack.exclusive():
        assert stack.fire_schedule("daily-reconciliation") == "reconciliation"
    with stack.exclusive():
        result = stack.invoke("reconciliation", {})
    # Every tenant of this local stack is reconciled (other workflow tests bill with stubbed usage, so the
    # count of differences across tenants is theirs); the new tenant is among them.
    assert result["tenants"] >= 1 and isinstance(result["differences"], int)
