"""Issue 21: a customer portal session as a principal. The token opens its customer for one hour, on the
portal routes only; an expired, revoked or unknown one gets a 401 detail that says what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.portal import InMemoryPortalSessionRepository
from tests.fakes.tenancy import InMemoryTenancyRepository
from tollgate.api.access import caller_from_event
from tollgate.domain.access import AccessDenied, AccessRule, KeyKind, Permission, check_access
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.keys import hash_key
from tollgate.domain.portal_sessions import checked_return_url, portal_url
from tollgate.usecases import portal_sessions as cases
from tollgate.usecases.authorize import authorize

T0 = datetime(2026, 4, 17, 10, 0, tzinfo=UTC)


class Customers:
    def get(self, tenant_id: str, customer_id: str):
        return object() if (tenant_id, customer_id) == ("ten_a", "cus_1") else None


def opened(repo=None, **extra):
    repo = repo or InMemoryPortalSessionRepository()
    return repo, cases.create_session(repo, Customers(), "ten_a", "cus_1", clock=lambda: T0, **extra)  # type: ignore[arg-type]


def decide(repo, token: str, at: datetime):
    return authorize(
        InMemoryTenancyRepository(),
        {"Authorization": f"Bearer {token}"},
        platform_key_sha256=lambda: None,
        clock=lambda: at,
        portal_sessions=repo,
    )


def test_the_token_is_shown_once_and_stored_only_as_its_hash():
    repo, o = opened(return_url="https://example.com/account")
    assert o.token.startswith("portal_") and len(o.token) > 40
    assert list(repo.sessions) == [hash_key(o.token)]
    assert o.session.expires_at == T0 + timedelta(hours=1) and o.session.return_url == "https://example.com/account"
    assert (
        portal_url("https://console.example.com/", o.token) == f"https://console.example.com/portal/#session={o.token}"
    )


def test_a_live_session_is_a_portal_caller_for_its_customer_only():
    repo, o = opened()
    d = decide(repo, o.token, T0 + timedelta(minutes=59))
    assert (d.caller.kind, d.caller.tenant_id, d.caller.customer_id) == (KeyKind.PORTAL, "ten_a", "cus_1")
    assert d.context()["expires_at"] == "2026-04-17T11:00:00Z"
    check_access(AccessRule(Permission.PORTAL_SELF, (KeyKind.PORTAL,)), d.caller)
    with pytest.raises(AccessDenied) as denied:  # any other route: the wrong kind of credential
        check_access(AccessRule(Permission.BILLING_READ, (KeyKind.OPERATOR, KeyKind.CUSTOMER)), d.caller)
    assert denied.value.status == 401 and "portal session" in denied.value.detail


def test_expired_revoked_and_unknown_sessions_say_what_to_do():
    repo, o = opened()
    expired = decide(repo, o.token, T0 + timedelta(hours=1)).error
    assert "expired at 2026-04-17T11:00:00Z" in expired and "new portal link" in expired
    cases.revoke_session(repo, "ten_a", o.session.portal_session_id, clock=lambda: T0 + timedelta(minutes=5))
    revoked = decide(repo, o.token, T0 + timedelta(minutes=6)).error
    assert "revoked at 2026-04-17T10:05:00Z" in revoked
    assert "Unknown portal session" in decide(repo, "portal_nope", T0).error


def test_revoking_twice_keeps_the_first_time_and_another_tenant_gets_404():
    repo, o = opened()
    sid = o.session.portal_session_id
    first = cases.revoke_session(repo, "ten_a", sid, clock=lambda: T0)
    assert (
        cases.revoke_session(repo, "ten_a", sid, clock=lambda: T0 + timedelta(minutes=1)).revoked_at == first.revoked_at
    )
    with pytest.raises(NotFound):
        cases.revoke_session(repo, "ten_b", sid)
    with pytest.raises(NotFound):
        cases.create_session(repo, Customers(), "ten_b", "cus_1")  # type: ignore[arg-type]


def test_a_cached_authorizer_decision_stops_at_the_sessions_end():
    ctx = {"tenant_id": "ten_a", "kind": "portal", "key_id": "pts_1", "customer_id": "cus_1"}
    past = {**ctx, "expires_at": "2020-01-01T00:00:00Z"}
    caller, error = caller_from_event({"requestContext": {"authorizer": past}})
    assert caller is None and "expired at 2020-01-01T00:00:00Z" in error
    future = {**ctx, "expires_at": "2999-01-01T00:00:00Z"}
    assert caller_from_event({"requestContext": {"authorizer": future}})[0].kind is KeyKind.PORTAL


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/relative", "ftp://x.example", "https://", "https://a b"])
def test_return_url_must_be_an_absolute_http_url(url):
    with pytest.raises(InvalidInput):
        checked_return_url(url)
