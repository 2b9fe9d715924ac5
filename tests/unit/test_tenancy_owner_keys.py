"""Issue 13 class 7 (lock-out): a tenant always keeps an OWNER key. Its last active OWNER key cannot
be revoked (409 LAST_OWNER_KEY, saying what to do instead), two OWNER keys revoking each other at
once cannot both succeed, and the platform admin can mint a new OWNER key for a locked-out tenant."""

from __future__ import annotations

import threading

import pytest

from tests.fakes.tenancy import InMemoryTenancyRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.errors import Conflict, NotFound
from tollgate.domain.keys import KeyStatus
from tollgate.usecases import tenancy
from tollgate.usecases.authorize import authorize


def setup():
    repo = InMemoryTenancyRepository()
    tenant, owner = tenancy.create_tenant(repo, name="Acme")
    caller = Caller(tenant.tenant_id, KeyKind.OPERATOR, owner.key.key_id, Role.OWNER)
    return repo, tenant, owner, caller


def test_the_only_owner_key_cannot_revoke_itself():
    repo, _, owner, caller = setup()
    with pytest.raises(Conflict) as exc:
        tenancy.revoke_api_key(repo, caller, owner.key.key_id)
    assert exc.value.status == 409 and exc.value.code == "LAST_OWNER_KEY"
    assert "last active OWNER key" in exc.value.detail and "Create another OWNER key first" in exc.value.detail
    assert repo.get_key(caller.tenant_id, owner.key.key_id).status is KeyStatus.ACTIVE


def test_with_a_second_owner_key_the_first_can_be_revoked_and_then_the_second_is_the_last():
    repo, _, owner, caller = setup()
    second = tenancy.create_api_key(repo, caller, kind=KeyKind.OPERATOR, role=Role.OWNER, name="backup owner")
    assert tenancy.revoke_api_key(repo, caller, owner.key.key_id).status is KeyStatus.REVOKED
    as_second = Caller(caller.tenant_id, KeyKind.OPERATOR, second.key.key_id, Role.OWNER)
    with pytest.raises(Conflict) as exc:
        tenancy.revoke_api_key(repo, as_second, second.key.key_id)
    assert exc.value.code == "LAST_OWNER_KEY"


def test_revoking_keys_of_other_roles_is_unaffected_and_revoking_twice_changes_nothing():
    repo, _, _, caller = setup()
    admin = tenancy.create_api_key(repo, caller, kind=KeyKind.OPERATOR, role=Role.ADMIN)
    first = tenancy.revoke_api_key(repo, caller, admin.key.key_id)
    assert first.status is KeyStatus.REVOKED and tenancy.revoke_api_key(repo, caller, admin.key.key_id) == first


def test_two_owner_keys_revoking_each_other_at_once_leave_one_active():
    repo, _, owner, caller = setup()
    second = tenancy.create_api_key(repo, caller, kind=KeyKind.OPERATOR, role=Role.OWNER)
    as_second = Caller(caller.tenant_id, KeyKind.OPERATOR, second.key.key_id, Role.OWNER)
    barrier, outcomes = threading.Barrier(2), []
    real_revoke = repo.revoke_key

    def both_read_before_either_writes(*args, **kwargs):
        barrier.wait(timeout=5)  # both have counted the other OWNER key as active
        return real_revoke(*args, **kwargs)

    repo.revoke_key = both_read_before_either_writes  # the fake's check-and-write stands for DynamoDB's

    def revoke(who: Caller, key_id: str) -> None:
        try:
            tenancy.revoke_api_key(repo, who, key_id)
            outcomes.append("revoked")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [
        threading.Thread(target=revoke, args=(caller, second.key.key_id)),
        threading.Thread(target=revoke, args=(as_second, owner.key.key_id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    repo.revoke_key = real_revoke
    active = [k for k in repo.keys_with_role(caller.tenant_id, Role.OWNER) if k.status is KeyStatus.ACTIVE]
    assert len(active) == 1 and sorted(outcomes) == ["LAST_OWNER_KEY", "revoked"]


def test_the_platform_admin_mints_a_new_owner_key_for_a_locked_out_tenant():
    repo, tenant, _owner, _ = setup()
    repo.keys = {h: k.revoked(k.created_at, "lost") for h, k in repo.keys.items()}  # e.g. revoked before the guard
    issued = tenancy.recover_owner_key(repo, tenant.tenant_id)
    assert issued.key.role is Role.OWNER and issued.key.tenant_id == tenant.tenant_id
    decision = authorize(repo, {"Authorization": f"Bearer {issued.secret}"}, platform_key_sha256=lambda: None)
    assert decision.caller is not None and decision.caller.role is Role.OWNER
    created = [e for e in repo.events if e.type == "api_key.created" and e.data["key_id"] == issued.key.key_id]
    assert created[0].data["issued_by"] == "platform_admin"


def test_recovering_an_unknown_tenant_is_404():
    repo, *_ = setup()
    with pytest.raises(NotFound):
        tenancy.recover_owner_key(repo, "ten_nope")
