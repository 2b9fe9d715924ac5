"""The catalog, customer and subscription repositories on moto: a failed condition is a domain answer
(a taken external id names the holder; a lost race is ConcurrentUpdate, which the use cases retry),
and a refused write changes nothing."""

from dataclasses import replace

import pytest

from tollgate import wiring
from tollgate.adapters.dynamodb.keys import customer_external_id_key
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.clock import utcnow
from tollgate.domain.customers import Customer
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.usecases import catalog, customers


def _customer(tenant_id: str, customer_id: str, external_id: str) -> Customer:
    return Customer(customer_id=customer_id, tenant_id=tenant_id, external_id=external_id, created_at=utcnow())


def test_a_taken_customer_external_id_names_the_holder_and_writes_nothing(local_stack):
    tenant = local_stack.bootstrap_tenant("customer repository").tenant_id
    repo = wiring.customer_repository()
    with local_stack.exclusive():
        repo.create(_customer(tenant, "cus_first", "ext-1"), [])
        with pytest.raises(Conflict) as taken:
            repo.create(_customer(tenant, "cus_second", "ext-1"), [])
        assert taken.value.code == "CUSTOMER_EXTERNAL_ID_TAKEN" and "cus_first" in taken.value.detail
        assert repo.get(tenant, "cus_second") is None
        assert repo.get_by_external_id(tenant, "ext-1").customer_id == "cus_first"


def test_two_renames_of_one_customer_cannot_both_move_its_external_id(local_stack):
    tenant = local_stack.bootstrap_tenant("customer rename race").tenant_id
    repo = wiring.customer_repository()
    with local_stack.exclusive():
        read = _customer(tenant, "cus_race", "old")
        repo.create(read, [])
        repo.update(read, replace(read, external_id="first"), [])
        with pytest.raises(ConcurrentUpdate):  # written from the same stale read: refused whole
            repo.update(read, replace(read, external_id="second"), [])
        table = repo._table
        assert "Item" not in table.get_item(Key=customer_external_id_key(tenant, "second"))
        assert "Item" not in table.get_item(Key=customer_external_id_key(tenant, "old"))
        assert repo.get_by_external_id(tenant, "first").customer_id == "cus_race"


def test_the_customer_use_case_rereads_after_a_lost_race(local_stack, monkeypatch):
    tenant = local_stack.bootstrap_tenant("customer retry").tenant_id
    repo = wiring.customer_repository()
    with local_stack.exclusive():
        created = customers.create_customer(repo, tenant, {"external_id": "before"})
        real_update, calls = repo.update, []

        def racing_update(before, after, events):
            if not calls:  # another request renames the customer between our read and our write
                calls.append(1)
                real_update(before, replace(before, external_id="renamed-meanwhile"), [])
            real_update(before, after, events)

        monkeypatch.setattr(repo, "update", racing_update)  # one lost race, injected
        updated = customers.update_customer(repo, tenant, created.customer_id, {"name": "Ada"})
        assert updated.name == "Ada" and updated.external_id == "renamed-meanwhile"


def test_a_stale_product_save_is_a_concurrent_update_and_changes_nothing(local_stack):
    tenant = local_stack.bootstrap_tenant("catalog repository").tenant_id
    caller = Caller(tenant, KeyKind.OPERATOR, "key_x", Role.OWNER)
    repo = wiring.catalog_repository()
    with local_stack.exclusive():
        product = catalog.create_product(repo, caller, {"name": "Weather"})
        catalog.update_product(repo, caller, product.product_id, {"name": "Weather API"})
        stale = replace(product, name="Lost", revision=product.revision + 1)
        with pytest.raises(ConcurrentUpdate):
            repo.save_product(stale, [])
        assert repo.get_product(tenant, product.product_id).name == "Weather API"


def test_a_cancel_that_loses_a_race_with_another_save_is_read_again_and_applied_once(local_stack, monkeypatch):
    from tollgate.usecases import subscriptions

    tenant = local_stack.bootstrap_tenant("subscription race").tenant_id
    caller = Caller(tenant, KeyKind.OPERATOR, "key_x", Role.OWNER)
    with local_stack.exclusive():
        plan, _ = catalog.create_plan(
            wiring.catalog_repository(),
            caller,
            {"name": "Pro", "currency": "USD", "fees": [{"name": "Base", "amount": "10.00"}]},
        )
        catalog.publish_plan_version(wiring.catalog_repository(), caller, plan.plan_id, 1)
        c = customers.create_customer(wiring.customer_repository(), tenant, {"external_id": "race-1"})
        repos = wiring.subscription_repos()
        sub = subscriptions.create_subscription(repos, tenant, {"customer_id": c.customer_id, "plan_id": plan.plan_id})
        real_save, raced = repos.subscriptions.save, []

        def save_after_a_bill_run(after, *, expected_version, **rest):
            if not raced:  # a bill run saves the subscription between our read and our write
                raced.append(1)
                stored = repos.subscriptions.get(tenant, sub.subscription_id)
                bumped = replace(stored, version=stored.version + 1)
                real_save(bumped, expected_version=stored.version, events=[], history=[])
            return real_save(after, expected_version=expected_version, **rest)

        monkeypatch.setattr(repos.subscriptions, "save", save_after_a_bill_run)
        cancelled = subscriptions.cancel_subscription(repos, tenant, sub.subscription_id)
        assert cancelled.status.value == "CANCELLED" and raced == [1]
        history = repos.subscriptions.history(tenant, sub.subscription_id)
        assert [h.action for h in history].count("CANCEL") == 1
