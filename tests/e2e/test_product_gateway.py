"""Product gateway sync, drift and restore on the local stack, against AWS API Gateway on moto (issue 19).

A product with a published plan (rate limit in its metadata, a hard entitlement) and two subscriptions is
linked to an AWS integration. Sync creates the usage plan and keys; a quota changed by hand (boto3 on the
local moto, as the AWS CLI would through the local endpoint) makes the product STALE on the hourly check,
with a diff naming the field; restore brings it back; an extra stage makes the restore fail naming it; a
cancelled subscription's key is disabled by one sync."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e import builders, gateway_kit
from tests.e2e.aws_kit import connected_aws_integration, in_tenant_account
from tests.e2e.billing_kit import own_tenant, tenant_of
from tests.e2e.builders import ok
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def _rest_api(stack) -> str:
    """A REST API with stages prod and beta, in the tenant's account."""
    client = in_tenant_account("apigateway")
    with stack.exclusive():
        api = client.create_rest_api(name=f"weather-{uuid.uuid4().hex[:6]}")["id"]
        root = client.get_resources(restApiId=api)["items"][0]["id"]
        client.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_deployment(restApiId=api, stageName="prod")
        client.create_deployment(restApiId=api, stageName="beta")
    return api


def _usage_plan(stack, tenant_id: str) -> dict:
    with stack.exclusive():
        plans = in_tenant_account("apigateway").get_usage_plans()["items"]
    return next(p for p in plans if p.get("tags", {}).get("tollgate:tenant") == tenant_id)


def _api_keys(stack) -> dict[str, dict]:
    with stack.exclusive():
        return {k["name"]: k for k in in_tenant_account("apigateway").get_api_keys(includeValues=True)["items"]}


def _patch_plan(stack, plan_id: str, *ops: dict) -> None:
    with stack.exclusive():
        in_tenant_account("apigateway").update_usage_plan(usagePlanId=plan_id, patchOperations=list(ops))


def test_sync_drift_restore_and_a_cancelled_subscription_on_aws(server):
    stack, c = server.stack, own_tenant(server, "product gateway e2e")
    tenant_id = tenant_of(c)
    product = ok(c.post("/v1/products", json={"name": "Weather API"}), 201)
    meter = ok(c.post("/v1/meters", json={"event_name": "weather.calls", "aggregation": {"function": "COUNT"}}), 201)
    plan = builders.plan(
        c,
        product_id=product["id"],
        metadata={"gateway_rate_limit": 10},
        entitlements=[{"meter_id": meter["id"], "limit": "800", "hard": True}],
    )
    subs = [builders.subscribe(c, builders.customer(c)["id"], plan["id"]) for _ in range(2)]
    api, integration_id = _rest_api(stack), connected_aws_integration(c)["id"]
    path = f"/v1/products/{product['id']}/gateway"

    link = ok(
        c.put(path, json={"integration_id": integration_id, "target": {"rest_api_id": api, "stage": "prod"}}), 201
    )
    assert link["state"] == "NOT_SYNCED"
    assert ok(c.put(path, json={"integration_id": integration_id, "target": {"rest_api_id": api, "stage": "prod"}}))
    synced = ok(c.post(f"{path}/sync"))
    assert (synced["state"], synced["diff"], synced["error_code"]) == ("IN_SYNC", [], None), synced
    usage_plan, version_id = _usage_plan(stack, tenant_id), f"{plan['id']}-v1"
    assert usage_plan["tags"]["tollgate:plan_version"] == version_id
    assert usage_plan["quota"]["limit"] == 800 and usage_plan["throttle"]["burstLimit"] == 20
    keys = _api_keys(stack)
    for sub in subs:
        key = keys[f"tollgate-{sub['id']}"]
        assert key["enabled"] and key["value"] == synced["usage_identifiers"][sub["id"]]
    assert ok(c.post(f"{path}/sync"))["state"] == "IN_SYNC"  # repeating changes nothing

    # A quota changed by hand at the gateway: the hourly check marks the product STALE, naming the field.
    _patch_plan(stack, usage_plan["id"], {"op": "replace", "path": "/quota/limit", "value": "1000"})
    stack.fire_schedule("hourly-gateway-drift-check")
    stale = ok(c.get(path))
    assert stale["state"] == "STALE"
    assert stale["diff"] == [{"op": "replace", "path": f"/usage_plans/{version_id}/quota/limit", "value": 800}]
    assert ok(c.post(f"{path}/check"))["state"] == "STALE"  # still STALE: the event is sent once
    stack.drain()
    events = ok(c.get("/v1/billing-events", params={"type": "product.gateway_stale"}))["data"]
    assert [e["data"]["diff"] for e in events] == [stale["diff"]], events
    restored = ok(c.post(f"{path}/restore"))
    assert (restored["state"], restored["diff"]) == ("IN_SYNC", [])
    assert _usage_plan(stack, tenant_id)["quota"]["limit"] == 800

    # An extra stage in the usage plan is the tenant's own: the restore cannot align it and names it.
    _patch_plan(stack, usage_plan["id"], {"op": "add", "path": "/apiStages", "value": f"{api}:beta"})
    failed = ok(c.post(f"{path}/restore"))
    assert failed["state"] == "RESTORE_FAILED" and failed["error_code"] == "GATEWAY_UNMANAGED_CONFIG"
    assert [op["path"] for op in failed["diff"]] == [f"/unmanaged/usage_plans/{version_id}/stages/{api}:beta"]
    assert f"{api}:beta" in failed["detail"]
    _patch_plan(stack, usage_plan["id"], {"op": "remove", "path": "/apiStages", "value": f"{api}:beta"})

    # A subscription cancelled in Tollgate: its key is disabled by one sync, the other key stays enabled.
    ok(c.delete(f"/v1/subscriptions/{subs[0]['id']}"))
    assert ok(c.post(f"{path}/sync"))["state"] == "IN_SYNC"
    keys = _api_keys(stack)
    assert keys[f"tollgate-{subs[0]['id']}"]["enabled"] is False and keys[f"tollgate-{subs[1]['id']}"]["enabled"]


def test_link_errors_are_clear_4xx_and_another_tenants_product_is_404(server):
    c = own_tenant(server, "product gateway errors")
    other = own_tenant(server, "product gateway other")
    product = ok(c.post("/v1/products", json={"name": "Maps"}), 201)
    path = f"/v1/products/{product['id']}/gateway"
    assert ok(c.get(path), 404)["code"] == "GATEWAY_NOT_LINKED"
    missing = c.put(path, json={"integration_id": "int_nope", "target": {"rest_api_id": "a", "stage": "b"}})
    assert missing.status_code == 422 and missing.headers["content-type"].startswith("application/problem+json")
    assert ok(other.get(path), 404)["code"] == "PRODUCT_NOT_FOUND"
    assert ok(c.post(f"{path}/sync"), 404)["code"] == "GATEWAY_NOT_LINKED"


def test_the_check_answers_the_usage_identifier_the_synced_api_key_has_and_the_authorizer_returns_it(server):
    """apiKeySource=AUTHORIZER: the key Tollgate pushed has the subscription's usage identifier as its value,
    and the check (so the SDK's Lambda authorizer, as usageIdentifierKey) answers that identifier."""
    from tests.e2e.test_gateway_authorizer_handler import event, handler_for
    from tests.e2e.test_gateway_costs import aws_calls
    from tollgate import wiring
    from tollgate.usecases.gateway.check import check

    stack, owner = server.stack, own_tenant(server, "usage identifier e2e")
    product = ok(owner.post("/v1/products", json={"name": "Maps API"}), 201)
    s = gateway_kit.setup(server, owner=owner, product_id=product["id"])
    assert s.check()["usage_identifier"] is None  # not linked: the snapshot is built without one
    path = f"/v1/products/{product['id']}/gateway"
    target = {"rest_api_id": _rest_api(stack), "stage": "prod"}
    ok(owner.put(path, json={"integration_id": connected_aws_integration(owner)["id"], "target": target}), 201)
    synced = ok(owner.post(f"{path}/sync"))
    assert synced["state"] == "IN_SYNC", synced
    identifier = synced["usage_identifiers"][s.subscription["id"]]
    pushed = _api_keys(stack)[f"tollgate-{s.subscription['id']}"]
    assert pushed["value"] == identifier and pushed["enabled"]
    with stack.exclusive():
        api = in_tenant_account("apigateway").get_rest_api(restApiId=target["rest_api_id"])
    assert api["apiKeySource"] == "AUTHORIZER"

    # the sync rebuilt the key's snapshot: no wait for its age limit
    assert s.check()["usage_identifier"] == identifier  # a route's decision
    route = {"api_key": s.key, "method": "GET", "path": "/api/widgets"}
    with aws_calls() as calls:  # and an uncached decision still reads the snapshot alone
        uncached = check(wiring.gateway_repos(), tenant_of(owner), route)
    assert dict(calls) == {"GetItem": 1} and uncached["usage_identifier"] == identifier
    everything = ok(s.gateway.post("/v1/gateway/check", json={"api_key": s.key}))  # all policies (authorizer)
    assert (everything["allowed"], everything["usage_identifier"]) == (True, identifier)
    authorized = handler_for(s)(event(s.key), None)
    assert authorized["usageIdentifierKey"] == identifier
    assert "usageIdentifierKey" not in handler_for(s)(event("sk_live_nope"), None)
    assert ok(owner.post(f"{path}/sync"))["usage_identifiers"][s.subscription["id"]] == identifier  # stable
    # the identifiers are live gateway credentials: a MEMBER (catalog:read only) reads the link without them
    key = ok(owner.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER", "name": "reader"}), 201)
    member = client(server, key["secret"], tenant_of(owner))
    read = ok(member.get(path))
    assert read["state"] == "IN_SYNC" and read["usage_identifiers"] is None and identifier not in str(read)

    ok(owner.delete(path))  # unlinked: the identifier is gone from the answer too
    assert s.check()["usage_identifier"] is None
