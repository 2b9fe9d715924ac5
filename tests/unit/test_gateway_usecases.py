"""The gateway use cases over in-memory fakes: the check (route, all-policies, strict, rate limit), Envoy's
ext_authz answer, policies CRUD with pagination, and that an unknown key costs no write."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from tests.fakes.gateway import InMemoryGatewayStore
from tests.fakes.tenancy import InMemoryTenancyRepository
from tollgate.domain.errors import BadRequest, InvalidInput, NotFound
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState, MeterState
from tollgate.domain.keys import hash_key
from tollgate.usecases.gateway import policies
from tollgate.usecases.gateway.check import check
from tollgate.usecases.gateway.ext_authz import ext_authz
from tollgate.usecases.gateway.repos import GatewayRepos

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
KEY = "sk_live_" + "k" * 43
_tenants = iter(range(10**6))


@pytest.fixture
def world():
    tenant = f"t{next(_tenants)}_{id(object())}"
    store = InMemoryGatewayStore()
    unused = cast(Any, None)
    repos = GatewayRepos(
        store,
        InMemoryTenancyRepository(),
        unused,
        unused,
        unused,
        unused,
        unused,
        unused,
        unused,
        lambda: unused,
        clock=lambda: NOW,
    )
    store.snapshots[hash_key(KEY)] = AccessSnapshot(
        tenant_id=tenant,
        key_id="key_1",
        key_state=KeyState.ACTIVE,
        built_at=NOW,
        customer_id="cus_1",
        subscription_id="sub_1",
        subscription_status="ACTIVE",
        plan_id="plan_1",
        meters={
            "api": MeterState(
                "mtr_1",
                used=Decimal(0),
                limit=Decimal(100),
                hard=True,
                period_start=datetime(2026, 11, 1, tzinfo=UTC),
                period_end=datetime(2026, 12, 1, tzinfo=UTC),
            )
        },
    )
    return tenant, repos, store


def _policy(repos, tenant, **fields):
    return policies.create_policy(repos, tenant, {"routes": ["GET /api/*"], "meters": {"api": 1}, **fields})


def test_route_not_covered_missing_key_allowed_and_all_policies_mode(world):
    tenant, repos, _ = world
    _policy(repos, tenant, auth_header="X-Api-Key", auth_scheme="")
    assert check(repos, tenant, {"api_key": KEY, "method": "GET", "path": "/other"})["reason"] == "NOT_COVERED"
    missing = check(repos, tenant, {"method": "GET", "path": "/api/a"})
    assert missing["status"] == 401 and "X-Api-Key: <key>" in missing["problem"]["detail"]
    allowed = check(repos, tenant, {"api_key": KEY, "method": "GET", "path": "/api/a"})
    assert allowed["allowed"] and allowed["meters"]["api"]["remaining"] == "100"
    every = check(repos, tenant, {"api_key": KEY})
    assert every["allowed"] and [d["allowed"] for d in every["decisions"]] == [True]
    unknown = check(repos, tenant, {"api_key": "sk_live_unknown"})
    assert unknown["problem"]["code"] == "KEY_INVALID" and unknown["decisions"] == []
    with pytest.raises(InvalidInput):
        check(repos, tenant, {"api_key": KEY, "method": "GET"})


def test_an_unknown_key_costs_no_write(world):
    tenant, repos, store = world
    _policy(repos, tenant)
    for n in range(20):
        assert check(repos, tenant, {"api_key": f"sk_live_x{n}", "method": "GET", "path": "/api/a"})["status"] == 403
    assert store.writes == 0


def test_strict_mode_fifty_threads_exactly_one_hundred(world):
    tenant, repos, store = world
    _policy(repos, tenant, limit_mode="strict")
    results: list[bool] = []
    lock = threading.Lock()

    def caller():
        for _ in range(3):
            got = check(repos, tenant, {"api_key": KEY, "method": "GET", "path": "/api/a"})
            with lock:
                results.append(got["allowed"])

    threads = [threading.Thread(target=caller) for _ in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(True) == 100 and store.writes == 100  # one conditional counter write per grant


def test_rate_limit_and_ext_authz(world):
    tenant, repos, store = world
    snap = store.snapshots[hash_key(KEY)]
    store.snapshots[hash_key(KEY)] = AccessSnapshot(**{**snap.__dict__, "rate_limit": (1, 60)})
    _policy(repos, tenant)
    status, headers, problem = ext_authz(
        repos, tenant, "GET", "/v1/gateway/ext-authz/api/a", {"authorization": f"Bearer {KEY}"}
    )
    assert status == 200 and headers["X-Tollgate-Remaining-api"] == "100" and problem is None
    status, headers, problem = ext_authz(
        repos, tenant, "GET", "/v1/gateway/ext-authz/api/a", {"Authorization": f"Bearer {KEY}"}
    )
    assert status == 429 and problem["code"] == "RATE_LIMITED" and int(headers["Retry-After"]) >= 1
    assert ext_authz(repos, tenant, "GET", "/v1/gateway/ext-authz/api/a", {})[0] == 401


def test_policies_crud_and_pagination(world):
    tenant, repos, _ = world
    made = [_policy(repos, tenant, name=f"p{n}") for n in range(3)]
    page, more = policies.list_policies(repos, tenant, limit=2, starting_after=None)
    assert [p.name for p in page] == ["p0", "p1"] and more
    page, more = policies.list_policies(repos, tenant, limit=2, starting_after=page[-1].policy_id)
    assert [p.name for p in page] == ["p2"] and not more
    replaced = policies.replace_policy(repos, tenant, made[0].policy_id, {"routes": ["POST /x"], "name": "new"})
    assert replaced.created_at == made[0].created_at and replaced.routes == ("POST /x",)
    policies.delete_policy(repos, tenant, made[1].policy_id)
    with pytest.raises(NotFound):
        policies.get_policy(repos, tenant, made[1].policy_id)
    with pytest.raises(BadRequest) as refused:
        policies.list_policies(repos, tenant, limit=2, starting_after="pol_nope")
    assert refused.value.code == "INVALID_CURSOR"


def test_an_event_about_a_customer_rebuilds_its_snapshots_and_others_are_ignored(world):
    from tollgate.domain.events import DomainEvent
    from tollgate.usecases.gateway.events import on_event

    tenant, repos, store = world
    _policy(repos, tenant)
    key_hash = hash_key(KEY)
    store.customer_keys[(tenant, "cus_1")] = {key_hash}
    assert on_event(repos, DomainEvent("usage.batch_accepted", tenant, NOW, {"customer_id": "cus_1"})) == 0
    assert key_hash in store.snapshots
    # The key is gone from the tenancy repository (deleted): the rebuild removes its snapshot.
    assert on_event(repos, DomainEvent("api_key.revoked", tenant, NOW, {"customer_id": "cus_1"})) == 1
    assert key_hash not in store.snapshots
    got = check(repos, tenant, {"api_key": KEY, "method": "GET", "path": "/api/a"})
    assert got["problem"]["code"] == "KEY_INVALID"


def test_strict_mode_returns_the_increment_of_an_unmetered_response_once(world):
    from tollgate.usecases.gateway.meter import meter

    tenant, repos, store = world
    _policy(repos, tenant, limit_mode="strict")
    assert check(repos, tenant, {"api_key": KEY, "method": "GET", "path": "/api/a"})["allowed"]
    (counter,) = [k for k in store.counters if len(k) == 4]
    assert store.counters[counter] == 1
    line = {"request_id": "r1", "api_key": KEY, "method": "GET", "path": "/api/a", "status_code": 500}
    assert meter(repos, tenant, line, "call-1")["reason"] == "STATUS_NOT_METERED"
    assert store.counters[counter] == 0
    assert meter(repos, tenant, line, "call-2")["reason"] == "STATUS_NOT_METERED"  # redelivered: nothing more
    assert store.counters[counter] == 0


def test_the_answer_carries_the_snapshots_usage_identifier_only_when_allowed(world):
    tenant, repos, store = world
    _policy(repos, tenant)
    route = {"api_key": KEY, "method": "GET", "path": "/api/a"}
    assert check(repos, tenant, route)["usage_identifier"] is None  # not synced to a gateway
    assert check(repos, tenant, {"api_key": KEY})["usage_identifier"] is None
    snap = replace(store.snapshots[hash_key(KEY)], usage_identifier="tgu_" + "u" * 28)
    assert AccessSnapshot.from_json(snap.to_json()) == snap  # stored with the snapshot
    store.snapshots[hash_key(KEY)] = snap
    assert check(repos, tenant, route)["usage_identifier"] == snap.usage_identifier
    assert check(repos, tenant, {"api_key": KEY})["usage_identifier"] == snap.usage_identifier
    store.snapshots[hash_key(KEY)] = replace(snap, key_state=KeyState.REVOKED)
    assert check(repos, tenant, route)["usage_identifier"] is None
    assert check(repos, tenant, {"api_key": KEY})["usage_identifier"] is None
