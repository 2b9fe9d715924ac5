"""Product gateway sync, drift and restore on in-memory fakes: the DesiredGateway built from the catalog,
the normalized diff, the state machine and the use cases (issue 19)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tests.fakes.gateway_links import FakeGateway, FakeProviders, InMemoryGatewayLinks, SubscriptionList
from tollgate.domain.catalog import Plan, PlanVersion, Product
from tollgate.domain.catalog.plan_prices import Entitlement, VersionContent
from tollgate.domain.catalog.plans import BillingInterval, VersionStatus
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.event_types import BY_NAME
from tollgate.domain.integrations.desired_build import build_desired, plan_version_id
from tollgate.domain.integrations.drift import diff, normalize
from tollgate.domain.integrations.gateway_link import GatewayState
from tollgate.domain.periods import Anchor, Interval
from tollgate.domain.subscriptions import PlanRef, Subscription, SubscriptionStatus
from tollgate.ports.gateway_providers import ProviderFailure
from tollgate.usecases import gateway_sync as cases

T, NOW = "ten_1", datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def product() -> Product:
    return Product(product_id="prod_1", tenant_id=T, name="Weather API", created_at=NOW, updated_at=NOW)


def plan(plan_id="plan_a", metadata=None, interval=BillingInterval.MONTH) -> Plan:
    return Plan(
        plan_id=plan_id,
        tenant_id=T,
        name="Pro",
        currency="USD",
        billing_interval=interval,
        created_at=NOW,
        updated_at=NOW,
        product_id="prod_1",
        metadata=metadata if metadata is not None else {"gateway_rate_limit": 10},
        current_version=1,
    )


def version(plan_id="plan_a", number=1, status=VersionStatus.PUBLISHED, limits=((5000, True), (800, True))):
    entitlements = tuple(Entitlement(f"mtr_{i}", Decimal(n), h) for i, (n, h) in enumerate(limits))
    content = VersionContent(entitlements=entitlements)
    return PlanVersion(plan_id, T, number, "USD", content, NOW, NOW, status=status)


def subscription(sub_id="sub_1", status=SubscriptionStatus.ACTIVE, plan_id="plan_a", number=1) -> Subscription:
    return Subscription(
        subscription_id=sub_id,
        tenant_id=T,
        customer_id="cus_1",
        plan=PlanRef(plan_id, number),
        status=status,
        started_at=NOW,
        interval=Interval.MONTH,
        anchor=Anchor.ANNIVERSARY,
        timezone="UTC",
        currency="USD",
    )


# -- building what Tollgate would push --------------------------------------------------------------


def test_desired_has_a_plan_per_published_version_with_throttle_and_the_smallest_hard_quota():
    versions = {"plan_a": [version(number=1), version(number=2, status=VersionStatus.DRAFT)]}
    desired = build_desired(product(), [plan()], versions, [subscription()], {"sub_1": "tgu_x"}, {"stage": "prod"})
    (gw_plan,) = desired.plans
    assert gw_plan.plan_version_id == "plan_a-v1"
    assert gw_plan.throttle is not None and (gw_plan.throttle.rate_per_second, gw_plan.throttle.burst) == (10, 20)
    assert gw_plan.quota is not None and (gw_plan.quota.limit, gw_plan.quota.period) == (800, "MONTH")
    assert [k.to_json() for k in desired.keys] == [
        {
            "subscription_id": "sub_1",
            "plan_version_id": "plan_a-v1",
            "customer_id": "cus_1",
            "usage_identifier": "tgu_x",
            "enabled": True,
        }
    ]


def test_soft_limits_no_quota_burst_from_metadata_and_no_rate_no_throttle():
    soft = {"plan_a": [version(limits=((100, False),))]}
    (p,) = build_desired(
        product(), [plan(metadata={"gateway_rate_limit": "5", "gateway_burst_limit": 7})], soft, [], {}, {}
    ).plans
    assert p.quota is None and p.throttle is not None and (p.throttle.rate_per_second, p.throttle.burst) == (5, 7)
    (p,) = build_desired(product(), [plan(metadata={"gateway_rate_limit": "lots"})], soft, [], {}, {}).plans
    assert p.throttle is None


@pytest.mark.parametrize("status", [SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED])
def test_an_ended_subscription_keeps_its_key_disabled(status):
    desired = build_desired(
        product(), [plan()], {"plan_a": [version()]}, [subscription(status=status)], {"sub_1": "tgu_x"}, {}
    )
    assert [k.enabled for k in desired.keys] == [False]


def test_other_products_plans_and_unpublished_versions_give_nothing():
    other = replace(plan("plan_b"), product_id="prod_2")
    versions = {"plan_b": [version("plan_b")]}
    desired = build_desired(product(), [other], versions, [subscription(plan_id="plan_b")], {"sub_1": "x"}, {})
    assert desired.plans == () and desired.keys == ()
    assert plan_version_id("plan_a", 3) == "plan_a-v3"


# -- the diff ---------------------------------------------------------------------------------------


def test_normalized_documents_compare_order_insensitively_and_type_normalized():
    gateway = {"q": {"limit": "1000", "rate": 10.0}, "stages": ["b", "a"], "tags": {"x": Decimal("2")}}
    tollgate = {"tags": {"x": 2}, "stages": ["a", "b"], "q": {"rate": 10, "limit": 1000}}
    assert normalize(gateway) == normalize(tollgate)
    assert diff(gateway, tollgate) == []


def test_the_diff_names_the_changed_field_and_each_unmanaged_thing():
    gateway = {"plans": {"p-v1": {"quota": {"limit": "900"}}}, "unmanaged": {"stages": {"abc:beta": "up_1"}}}
    tollgate = {"plans": {"p-v1": {"quota": {"limit": 1000}}}}
    assert diff(gateway, tollgate) == [
        {"op": "replace", "path": "/plans/p-v1/quota/limit", "value": 1000},
        {"op": "remove", "path": "/unmanaged/stages/abc:beta"},
    ]
    assert diff({"unmanaged": {}}, {}) == []


# -- the use cases ----------------------------------------------------------------------------------


@pytest.fixture
def world():
    catalog = InMemoryCatalogRepository()
    catalog.products[(T, "prod_1")] = product()
    catalog.plans[(T, "plan_a")] = plan()
    catalog.versions[(T, "plan_a", 1)] = version()
    subs = SubscriptionList()
    subs.items["sub_1"] = subscription()
    gateway = FakeGateway()
    providers = FakeProviders(T, {"int_1": ("aws_api_gateway", gateway)})
    deps = cases.SyncDeps(InMemoryGatewayLinks(), providers, catalog, subs)
    cases.link_product(deps, T, "prod_1", "int_1", {"rest_api_id": "abc", "stage": "prod"}, NOW)
    return deps, gateway, subs


def test_link_is_idempotent_validates_the_target_and_a_relink_resets_the_state(world):
    deps, _, _ = world
    link, created = cases.link_product(deps, T, "prod_1", "int_1", {"rest_api_id": "abc", "stage": "prod"}, NOW)
    assert (created, link.state, link.revision) == (False, GatewayState.NOT_SYNCED, 1)
    with pytest.raises(InvalidInput) as bad:
        cases.link_product(deps, T, "prod_1", "int_1", {"service": "x"}, NOW)
    assert bad.value.extra["field"] == "target.service"
    with pytest.raises(InvalidInput):
        cases.link_product(deps, T, "prod_1", "int_other", {"rest_api_id": "a", "stage": "b"}, NOW)
    with pytest.raises(NotFound):
        cases.get_link(deps, "ten_2", "prod_1")
    cases.sync(deps, T, "prod_1", NOW)
    moved, _ = cases.link_product(deps, T, "prod_1", "int_1", {"rest_api_id": "abc", "stage": "v2"}, NOW)
    assert moved.state is GatewayState.NOT_SYNCED and moved.diff == ()


def test_sync_pushes_and_is_in_sync_repeating_changes_nothing(world):
    deps, gateway, _ = world
    link = cases.sync(deps, T, "prod_1", NOW)
    assert link.state is GatewayState.IN_SYNC and link.last_synced_at == NOW and link.diff == ()
    identifier = gateway.state["keys"]["sub_1"]["usage_identifier"]
    assert identifier.startswith("tgu_") and len(identifier) > 20
    again = cases.sync(deps, T, "prod_1", NOW + timedelta(minutes=1))
    assert again.state is GatewayState.IN_SYNC
    assert gateway.state["keys"]["sub_1"]["usage_identifier"] == identifier  # generated once


def test_drift_is_stale_once_with_an_event_then_restore_is_in_sync(world):
    deps, gateway, _ = world
    cases.sync(deps, T, "prod_1", NOW)
    gateway.state["plans"]["plan_a-v1"]["quota"]["limit"] = "50"
    stale = cases.check(deps, T, "prod_1", NOW)
    assert stale.state is GatewayState.STALE
    assert list(stale.diff) == [{"op": "replace", "path": "/plans/plan_a-v1/quota/limit", "value": 800}]
    assert "/plans/plan_a-v1/quota/limit" in (stale.detail or "")
    cases.check(deps, T, "prod_1", NOW + timedelta(hours=1))
    events = deps.links.events
    assert [e.type for e in events] == ["product.gateway_stale"] and "product.gateway_stale" in BY_NAME
    assert events[0].data["diff"] == list(stale.diff) and events[0].event_id
    restored = cases.restore(deps, T, "prod_1", NOW)
    assert restored.state is GatewayState.IN_SYNC and restored.diff == () and restored.error_code is None


def test_restore_fails_naming_what_the_gateway_still_holds(world):
    deps, gateway, _ = world
    gateway.pinned = {"stages": {"abc:beta": "up_1"}}
    failed = cases.restore(deps, T, "prod_1", NOW)
    assert failed.state is GatewayState.RESTORE_FAILED and failed.error_code == "GATEWAY_UNMANAGED_CONFIG"
    assert [op["path"] for op in failed.diff] == ["/unmanaged/stages/abc:beta"]
    assert "/unmanaged/stages/abc:beta" in (failed.detail or "")
    assert cases.sync(deps, T, "prod_1", NOW).state is GatewayState.SYNC_FAILED


def test_a_cancelled_subscription_is_disabled_within_one_sync(world):
    deps, gateway, subs = world
    cases.sync(deps, T, "prod_1", NOW)
    subs.items["sub_1"] = subscription(status=SubscriptionStatus.CANCELLED)
    assert cases.check(deps, T, "prod_1", NOW).diff == (
        {"op": "replace", "path": "/keys/sub_1/enabled", "value": False},
    )
    cases.sync(deps, T, "prod_1", NOW)
    assert gateway.state["keys"]["sub_1"]["enabled"] is False


def test_provider_failures_are_recorded_with_the_providers_fix(world):
    deps, gateway, _ = world
    fix = "Generate a new token in Kong Manager"
    gateway.fail = ProviderFailure("KONG_PAT_EXPIRED", "Kong: PAT token expired", fix)
    failed = cases.sync(deps, T, "prod_1", NOW)
    assert (failed.state, failed.error_code, failed.fix) == (
        GatewayState.SYNC_FAILED,
        "KONG_PAT_EXPIRED",
        "Generate a new token in Kong Manager",
    )
    assert cases.check(deps, T, "prod_1", NOW).state is GatewayState.SYNC_FAILED  # a check keeps the state


def test_scheduled_check_walks_every_link_and_survives_a_broken_one(world):
    deps, gateway, _ = world
    cases.sync(deps, T, "prod_1", NOW)
    gateway.state["keys"]["sub_1"]["enabled"] = False
    run = cases.check_all(deps, NOW, page_size=1)
    assert (run.checked, run.stale, run.failed) == (1, 1, 0)
    cases.unlink(deps, T, "prod_1")
    assert cases.check_all(deps, NOW).checked == 0
    with pytest.raises(NotFound):
        cases.unlink(deps, T, "prod_1")


def test_customers_given_a_usage_identifier_get_their_snapshots_refreshed_once_and_on_unlink(world):
    deps, gateway, subs = world
    refreshed: list[tuple[str, set[str]]] = []
    deps = replace(deps, refresh=lambda tenant, customers: refreshed.append((tenant, customers)))
    cases.check_all(deps, NOW)  # the scheduled check leaves it to the snapshots' age limit
    subs.items["sub_2"] = replace(subscription("sub_2"), customer_id="cus_2")
    cases.sync(deps, T, "prod_1", NOW)
    assert refreshed == [(T, {"cus_2"})]  # sub_1 was given its identifier by the scheduled check
    cases.sync(deps, T, "prod_1", NOW)
    assert len(refreshed) == 1  # nothing new: no refresh
    assert deps.links.usage_identifier(T, "prod_1", "sub_2") == gateway.state["keys"]["sub_2"]["usage_identifier"]
    cases.unlink(deps, T, "prod_1")
    assert refreshed[-1] == (T, {"cus_1", "cus_2"}) and deps.links.usage_identifier(T, "prod_1", "sub_2") is None
