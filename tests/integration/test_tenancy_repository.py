"""The DynamoDB tenancy repository on moto: an OWNER key's revocation lands only while the other OWNER
key it counted on is still active (a ConditionCheck in the same transaction), so two OWNER keys
revoking each other cannot leave a tenant without one; a failed condition is a ConcurrentUpdate."""

import pytest

from tollgate import wiring
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.keys import KeyStatus
from tollgate.usecases import tenancy


def test_a_revocation_guarded_by_a_revoked_owner_key_changes_nothing(local_stack):
    boot = local_stack.bootstrap_tenant("tenancy repository")
    repo = wiring.tenancy_repository()
    with local_stack.exclusive():
        first = repo.keys_with_role(boot.tenant_id, Role.OWNER)[0]
        caller = Caller(boot.tenant_id, KeyKind.OPERATOR, first.key_id, Role.OWNER)
        second = tenancy.create_api_key(repo, caller, kind=KeyKind.OPERATOR, role=Role.OWNER).key
        # Both revocations counted on the other key; the first lands, the second must not.
        repo.revoke_key(second, utcnow(), "test", [], still_active=first)
        with pytest.raises(ConcurrentUpdate):
            repo.revoke_key(first, utcnow(), "test", [], still_active=second)
        with pytest.raises(ConcurrentUpdate):  # revoking an already revoked key is a lost race too
            repo.revoke_key(second, utcnow(), "again", [])
        assert repo.get_key(boot.tenant_id, first.key_id).status is KeyStatus.ACTIVE
        assert repo.get_key(boot.tenant_id, second.key_id).status is KeyStatus.REVOKED
