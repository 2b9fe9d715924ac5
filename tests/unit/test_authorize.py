"""Seed 000, "401 Unauthorized on every request": each cause has its own answer."""

import hashlib

from tests.fakes.tenancy import InMemoryTenancyRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.usecases import tenancy
from tollgate.usecases.authorize import authorize


def setup():
    repo = InMemoryTenancyRepository()
    tenant, owner = tenancy.create_tenant(repo, name="Acme")
    return repo, tenant, owner


def call(repo, headers, platform=None):
    return authorize(repo, headers, platform_key_sha256=lambda: platform)


def test_a_valid_key_and_matching_tenant_resolve_to_the_caller():
    repo, tenant, owner = setup()
    decision = call(repo, {"Authorization": f"Bearer {owner.secret}", "X-Tenant-Id": tenant.tenant_id})
    assert decision.caller.tenant_id == tenant.tenant_id
    assert decision.caller.role is Role.OWNER
    assert decision.context()["kind"] == "operator"


def test_missing_authorization_header_says_which_headers_to_send():
    repo, tenant, _ = setup()
    decision = call(repo, {"X-Tenant-Id": tenant.tenant_id})
    assert decision.caller is None
    assert "Authorization: Bearer" in decision.error and "X-Tenant-Id" in decision.error


def test_unknown_prefix_explains_the_two_key_families():
    repo, tenant, _ = setup()
    decision = call(repo, {"Authorization": "Bearer pk_live_abc", "X-Tenant-Id": tenant.tenant_id})
    assert "afo_" in decision.error and "sk_live_" in decision.error


def test_unknown_key_is_refused_without_echoing_the_whole_key():
    repo, tenant, _owner = setup()
    fake = "afo_" + "x" * 43
    decision = call(repo, {"Authorization": f"Bearer {fake}", "X-Tenant-Id": tenant.tenant_id})
    assert decision.caller is None and "Unknown API key" in decision.error
    assert fake not in decision.error


def test_revoked_key_says_to_create_a_new_key():
    repo, tenant, owner = setup()
    caller = Caller(tenant.tenant_id, KeyKind.OPERATOR, owner.key.key_id, Role.OWNER)
    other = tenancy.create_api_key(repo, caller, kind=KeyKind.OPERATOR, role=Role.ADMIN)
    tenancy.revoke_api_key(repo, caller, other.key.key_id)
    decision = call(repo, {"Authorization": f"Bearer {other.secret}", "X-Tenant-Id": tenant.tenant_id})
    assert "revoked" in decision.error and "POST /v1/api-keys" in decision.error


def test_the_decision_depends_on_the_key_alone_so_it_can_be_cached_on_it():
    repo, tenant, owner = setup()
    with_header = call(repo, {"Authorization": f"Bearer {owner.secret}", "X-Tenant-Id": "ten_someone_else"})
    without = call(repo, {"Authorization": f"Bearer {owner.secret}"})
    assert with_header.context() == without.context() and with_header.caller.tenant_id == tenant.tenant_id


def test_tenant_mismatch_does_not_reveal_the_keys_real_tenant():
    from tollgate.usecases.authorize import tenant_mismatch

    repo, tenant, owner = setup()
    decision = call(repo, {"Authorization": f"Bearer {owner.secret}"})
    detail = tenant_mismatch(decision.caller, decision.key_display, "ten_someone_else")
    assert "ten_someone_else" in detail and tenant.tenant_id not in detail and owner.key.display in detail
    assert tenant_mismatch(decision.caller, decision.key_display, tenant.tenant_id) is None
    assert tenant_mismatch(decision.caller, decision.key_display, None) is None


def test_platform_credential_is_checked_by_hash():
    repo, _, _ = setup()
    secret = "tgp_" + "p" * 43
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert call(repo, {"Authorization": f"Bearer {secret}"}, platform=digest).caller.kind is KeyKind.PLATFORM
    assert call(repo, {"Authorization": "Bearer tgp_wrong"}, platform=digest).caller is None


def test_keys_are_stored_as_hashes_and_shown_by_prefix_and_last_four():
    repo, _tenant, owner = setup()
    assert owner.secret.startswith("afo_") and len(owner.secret) >= 4 + 43
    assert owner.key.display == f"afo_…{owner.secret[-4:]}"
    assert hashlib.sha256(owner.secret.encode()).hexdigest() in repo.keys
    assert all(owner.secret not in repr(k) for k in repo.keys.values())


def test_an_echoed_tenant_header_is_bounded_and_printable():
    """Issue 13 class 8: a 100 KB X-Tenant-Id must not come back in the 401 detail."""
    from tollgate.usecases.authorize import tenant_mismatch

    repo, _tenant, owner = setup()
    decision = call(repo, {"Authorization": f"Bearer {owner.secret}"})
    huge = "t" * 100_000
    detail = tenant_mismatch(decision.caller, decision.key_display, huge)
    assert len(detail) < 400 and huge not in detail and "100000 characters" in detail
    control = tenant_mismatch(decision.caller, decision.key_display, "ten_\x00\x1b[31mred\n")
    assert "\x00" not in control and "\x1b" not in control and "\n" not in control and "ten_?" in control


def test_echo_keeps_short_printable_values_as_they_are():
    from tollgate.domain.access import echo

    assert echo("ten_acme") == "ten_acme" and len(echo("x" * 65)) < 100 and echo("a\tb") == "a?b"
