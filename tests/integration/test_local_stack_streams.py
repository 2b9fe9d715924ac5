"""The local stack's stream delivery survives moto's handling of cancelled transactions: a failed
conditional transaction emits nothing, and later writes are still delivered."""

from tollgate import wiring
from tollgate.domain.errors import Conflict
from tollgate.usecases import customers


def test_a_cancelled_transaction_emits_no_event_and_does_not_stall_the_stream(local_stack):
    tenant = local_stack.bootstrap_tenant("streams")
    repo = wiring.customer_repository()
    local_stack.drain()
    before = len(local_stack.delivered)
    with local_stack.exclusive():
        customers.create_customer(repo, tenant.tenant_id, {"external_id": "dup"})
        try:
            customers.create_customer(repo, tenant.tenant_id, {"external_id": "dup"})
            raise AssertionError("a duplicate external id must be refused")
        except Conflict:
            pass
        customers.create_customer(repo, tenant.tenant_id, {"external_id": "after"})
    local_stack.drain()
    mine = [
        d["body"]["detail"]
        for d in local_stack.delivered[before:]
        if d["rule"] == "event-log" and d["body"]["detail"]["tenant_id"] == tenant.tenant_id
    ]
    created = sorted(e["data"]["external_id"] for e in mine if e["type"] == "customer.created")
    assert created == ["after", "dup"]  # exactly once each; nothing for the refused duplicate
