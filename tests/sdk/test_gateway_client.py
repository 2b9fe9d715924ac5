"""The gateway check client and its cache (GATEWAY.md "Clients cache answers"), against a fake server."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from tollgate_sdk.gateway import GatewayClient, route_matches

from tests.sdk.gateway_fake import Clock, FakeGateway, policy


def make(fake: FakeGateway, **kw) -> tuple[GatewayClient, Clock]:
    clock = Clock()
    gw = GatewayClient("http://tollgate.test", "afo_gw", "ten_1", transport=fake.transport(), clock=clock, **kw)
    return gw, clock


@pytest.mark.parametrize(
    ("pattern", "method", "path", "expected"),
    [
        ("GET /v1/widgets*", "GET", "/v1/widgets", True),
        ("GET /v1/widgets*", "GET", "/v1/widgets/7/parts", True),
        ("GET /v1/widgets*", "POST", "/v1/widgets", False),
        ("* /v1/orders", "DELETE", "/v1/orders", True),
        ("POST /v1/orders", "POST", "/v1/orders/1", False),
        ("GET /v1/*/items", "GET", "/v1/a/b/items", True),
        ("GET /v1/w.dgets", "GET", "/v1/widgets", False),
    ],
)
def test_route_glob(pattern, method, path, expected):
    assert route_matches(pattern, method, path) is expected


def test_a_new_key_is_fetched_then_served_from_the_cache_within_the_ttl():
    fake = FakeGateway()
    gw, clock = make(fake)
    first = gw.check("sk_live_good", "GET", "/v1/widgets")
    assert (first.allowed, first.source, first.subscription_id) == (True, "server", "sub_cus_1")
    again = gw.check("sk_live_good", "GET", "/v1/widgets/2")  # same policy, matched locally
    assert (again.allowed, again.source) == (True, "cache")
    assert len(fake.checks) == 1
    other = gw.check("sk_live_other", "GET", "/v1/widgets")  # a key never seen: asked, never cached-denied
    assert (other.allowed, other.status, other.problem["code"], other.source) == (False, 403, "KEY_INVALID", "server")
    clock.now += 60
    assert gw.check("sk_live_good", "GET", "/v1/widgets").source == "server"
    assert len(fake.checks) == 3


def test_uncovered_routes_are_not_checked_again_within_the_ttl():
    fake = FakeGateway()
    gw, _ = make(fake)
    for _ in range(3):
        d = gw.check("", "GET", "/health")
        assert (d.allowed, d.covered) == (True, False)
    assert len(fake.checks) == 1


def test_hard_meter_local_consumption_then_the_server_denies_and_the_denial_is_cached():
    fake = FakeGateway(limit=Decimal(5))
    gw, clock = make(fake, spend_fraction=1.0)
    allowed = 0
    for _ in range(5):
        d = gw.check("sk_live_good", "GET", "/v1/widgets")
        allowed += d.allowed
        gw.meter(f"r{allowed}", "sk_live_good", "GET", "/v1/widgets", 200)
    assert allowed == 5 and len(fake.checks) == 1
    denied = gw.check("sk_live_good", "GET", "/v1/widgets")  # remaining - consumed < 1: ask the server
    assert (denied.allowed, denied.problem["code"]) == (False, "USAGE_LIMIT_REACHED")
    assert denied.problem["meter"] == "api_requests"
    assert len(fake.checks) == 2
    assert gw.check("sk_live_good", "GET", "/v1/widgets").source == "cache"  # cached denial
    fake.used = Decimal(0)  # the period reset
    clock.now += 61
    assert gw.check("sk_live_good", "GET", "/v1/widgets").allowed


def test_increments_over_one_and_response_meters_deplete_the_local_allowance():
    fake = FakeGateway(limit=Decimal(30), policies=[policy(meters={"api_requests": 10})])
    gw, _ = make(fake, spend_fraction=1.0)
    assert gw.check("sk_live_good", "GET", "/v1/widgets").increments == {"api_requests": Decimal(10)}
    assert gw.check("sk_live_good", "GET", "/v1/widgets").source == "cache"
    gw.meter("r1", "sk_live_good", "GET", "/v1/widgets", 200, response_meters={"api_requests": "15"})
    assert gw.check("sk_live_good", "GET", "/v1/widgets").source == "server"  # 10 + 15 consumed of 30


def test_by_default_an_instance_spends_half_of_the_remaining_before_asking_again():
    fake = FakeGateway(limit=Decimal(8))
    gw, _ = make(fake)
    sources = [gw.check("sk_live_good", "GET", "/v1/widgets").source for _ in range(5)]
    assert sources == ["server", "cache", "cache", "cache", "server"]  # 4 of the 8 remaining, then ask


def test_strict_policies_are_never_served_from_the_cache():
    fake = FakeGateway(policies=[policy(limit_mode="strict")])
    gw, _ = make(fake)
    for _ in range(3):
        assert gw.check("sk_live_good", "GET", "/v1/widgets").source == "server"
    assert len(fake.checks) == 3


def test_backend_down_stale_then_fail_policy():
    fake = FakeGateway()
    gw, clock = make(fake)
    assert gw.check("sk_live_good", "GET", "/v1/widgets").allowed
    fake.down = True
    clock.now += 120  # expired, within max_stale (3600)
    stale = gw.check("sk_live_good", "GET", "/v1/widgets")
    assert (stale.allowed, stale.source) == (True, "stale")
    clock.now += 4000  # past max_stale: allow_known lets a known key pass
    known = gw.check("sk_live_good", "GET", "/v1/widgets")
    assert (known.allowed, known.source) == (True, "fail_policy")
    unknown = gw.check("sk_live_new", "GET", "/v1/widgets")
    assert (unknown.allowed, unknown.status, unknown.problem["code"]) == (False, 503, "BILLING_UNAVAILABLE")
    assert "could not be reached" in unknown.problem["detail"]


@pytest.mark.parametrize(
    ("mode", "known_passes", "unknown_passes"), [("allow_all", True, True), ("deny_all", False, False)]
)
def test_fail_policies(mode, known_passes, unknown_passes):
    fake = FakeGateway(policies=[policy(fail_policy=mode, max_stale_seconds=0)])
    gw, clock = make(fake)
    gw.check("sk_live_good", "GET", "/v1/widgets")
    fake.down = True
    clock.now += 61
    assert gw.check("sk_live_good", "GET", "/v1/widgets").allowed is known_passes
    assert gw.check("sk_live_x", "GET", "/v1/widgets").allowed is unknown_passes


def test_before_any_answer_the_clients_fail_policy_applies():
    fake = FakeGateway(down=True)
    assert make(fake)[0].check("sk_live_good", "GET", "/v1/widgets").status == 503
    assert make(fake, fail_policy="allow_all")[0].check("sk_live_good", "GET", "/v1/widgets").allowed


def test_server_errors_count_as_unreachable():
    import httpx

    gw = GatewayClient("http://t", "k", transport=httpx.MockTransport(lambda r: httpx.Response(503, text="x")))
    assert gw.check("sk_live_good", "GET", "/v1/widgets").problem["code"] == "BILLING_UNAVAILABLE"


def test_concurrent_callers_never_exceed_the_cached_remaining():
    fake = FakeGateway(limit=Decimal(300))
    gw, _ = make(fake, spend_fraction=1.0)
    assert gw.check("sk_live_good", "GET", "/v1/widgets").allowed  # 299 left in the cached answer
    fake.used = fake.limit  # the server now denies: only the cache can allow
    results: list[bool] = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            allowed = gw.check("sk_live_good", "GET", "/v1/widgets").allowed
            with lock:
                results.append(allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 299 and len(results) == 400


def test_meter_many_batches_by_100():
    fake = FakeGateway()
    gw, _ = make(fake)
    reqs = [
        {"request_id": f"r{i}", "api_key": "sk_live_good", "method": "GET", "path": "/v1/widgets", "status_code": 200}
        for i in range(150)
    ]
    results = gw.meter_many(reqs)
    assert len(results) == 150 and all(r["metered"] for r in results)
    fake.down = True
    assert gw.meter_many(reqs[:3]) == [None, None, None]


def test_invalid_fail_policy_is_refused():
    with pytest.raises(ValueError, match="fail_policy"):
        GatewayClient("http://t", "k", fail_policy="maybe")  # type: ignore[arg-type]
