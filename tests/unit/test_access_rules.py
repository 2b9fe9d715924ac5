"""Seed 000, "403 Forbidden": MEMBER reads only; BILLING_ADMIN never touches the catalog; wrong key kind is 401."""

import pytest

from tollgate.domain.access import AccessDenied, AccessRule, Caller, KeyKind, Permission, Role, check_access


def operator(role: Role) -> Caller:
    return Caller(tenant_id="ten_a", kind=KeyKind.OPERATOR, key_id="key_1", role=role)


def customer() -> Caller:
    return Caller(tenant_id="ten_a", kind=KeyKind.CUSTOMER, key_id="key_2", customer_id="cus_1")


@pytest.mark.parametrize(
    "role, permission, allowed",
    [
        (Role.MEMBER, Permission.CATALOG_READ, True),
        (Role.MEMBER, Permission.CATALOG_WRITE, False),
        (Role.MEMBER, Permission.CUSTOMERS_WRITE, False),
        (Role.MEMBER, Permission.KEYS_WRITE, False),
        (Role.BILLING_ADMIN, Permission.CATALOG_READ, False),
        (Role.BILLING_ADMIN, Permission.CATALOG_WRITE, False),
        (Role.BILLING_ADMIN, Permission.BILLING_WRITE, True),
        (Role.ADMIN, Permission.CATALOG_WRITE, True),
        (Role.OWNER, Permission.KEYS_WRITE, True),
    ],
)
def test_role_permissions_follow_the_seed(role, permission, allowed):
    rule = AccessRule(permission=permission)
    if allowed:
        check_access(rule, operator(role))
    else:
        with pytest.raises(AccessDenied) as denied:
            check_access(rule, operator(role))
        assert denied.value.status == 403
        assert role.value in denied.value.detail and "use a key with role" in denied.value.detail


def test_forbidden_detail_names_the_roles_that_would_be_needed():
    with pytest.raises(AccessDenied) as denied:
        check_access(AccessRule(permission=Permission.CATALOG_WRITE), operator(Role.BILLING_ADMIN))
    assert "OWNER or ADMIN" in denied.value.detail


def test_a_customer_key_on_an_operator_api_is_401_wrong_key_kind():
    with pytest.raises(AccessDenied) as denied:
        check_access(AccessRule(permission=Permission.KEYS_READ), customer())
    assert denied.value.status == 401
    assert "afo_" in denied.value.detail and "sk_live_" in denied.value.detail


def test_an_operator_key_on_a_customer_only_api_is_401_wrong_key_kind():
    rule = AccessRule(permission=Permission.USAGE_INGEST, kinds=(KeyKind.CUSTOMER,))
    with pytest.raises(AccessDenied) as denied:
        check_access(rule, operator(Role.OWNER))
    assert denied.value.status == 401


def test_public_routes_need_no_caller():
    check_access(AccessRule(public=True, kinds=()), None)


def test_no_caller_on_a_protected_route_is_401():
    with pytest.raises(AccessDenied) as denied:
        check_access(AccessRule(permission=Permission.CATALOG_READ), None)
    assert denied.value.status == 401
