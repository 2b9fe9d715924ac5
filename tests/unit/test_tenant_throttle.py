"""Per-tenant API request limits (issue 16): a tenant's own limit or the default, read once a minute; over
it 429 TENANT_RATE_LIMITED naming the tenant's limit; other tenants and the platform credential untouched;
a limit is a whole number within the platform's bound."""

from datetime import UTC, datetime

import pytest

from tests.fakes.usage import FixedLimiter
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.errors import InvalidInput, NotFound, TooManyRequests
from tollgate.usecases.tenant_throttle import LimitCache, set_limit, throttle

AT = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


class Limits(dict):
    def put(self, tenant_id: str, requests_per_second: int) -> None:
        self[tenant_id] = requests_per_second


def caller(tenant: str, kind: KeyKind = KeyKind.OPERATOR) -> Caller:
    return Caller(tenant_id=tenant, kind=kind, key_id="k", role=Role.OWNER)


def test_a_tenant_over_its_own_limit_gets_429_and_another_tenant_does_not():
    limits, limiter, cache = Limits(ten_a=2), FixedLimiter(), LimitCache()
    for _ in range(2):
        throttle(limits, limiter, cache, caller("ten_a"), 500, AT)
    with pytest.raises(TooManyRequests) as refused:
        throttle(limits, limiter, cache, caller("ten_a"), 500, AT)
    assert refused.value.code == "TENANT_RATE_LIMITED" and refused.value.retry_after == 1
    assert "tenant ten_a's API rate limit (2 requests per second)" in refused.value.detail
    for _ in range(10):
        throttle(limits, limiter, cache, caller("ten_b"), 500, AT)  # the default applies to B
    throttle(limits, limiter, cache, caller("*", KeyKind.PLATFORM), 500, AT)  # never counted
    throttle(limits, limiter, cache, None, 500, AT)


def test_a_limit_is_read_again_after_a_minute():
    now = [0.0]
    limits, cache = Limits(ten_a=2), LimitCache(clock=lambda: now[0])
    assert cache.limit(limits, "ten_a") == 2
    limits["ten_a"] = 7
    assert cache.limit(limits, "ten_a") == 2
    now[0] = 61.0
    assert cache.limit(limits, "ten_a") == 7


@pytest.mark.parametrize("bad", [0, -1, 20_001, True, "5", 2.5, None])
def test_a_limit_must_be_a_whole_number_within_the_platform_bound(bad):
    limits = Limits()
    with pytest.raises(InvalidInput):
        set_limit(limits, lambda t: True, "ten_a", bad, 20_000)
    assert limits == {}


def test_a_limit_for_an_unknown_tenant_is_404():
    with pytest.raises(NotFound):
        set_limit(Limits(), lambda t: False, "ten_nope", 5, 20_000)
    assert set_limit(Limits(), lambda t: True, "ten_a", 5, 20_000) == 5
