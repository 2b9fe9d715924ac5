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
