"""The AWS API Gateway sync adapter on moto: a usage plan per plan version and a key per subscription,
a drifted quota named in the diff, a restore, an extra stage that stays (unmanaged) and a cancelled
subscription's key disabled (issue 19)."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from tollgate.adapters.gateways.aws_sync import AwsGatewaySync, client_caller
from tollgate.domain.integrations.desired import DesiredGateway, GatewayKey, GatewayPlan, Quota, Throttle
from tollgate.domain.integrations.drift import diff
from tollgate.ports.gateway_providers import ProviderFailure


@pytest.fixture
def gateway():
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api = client.create_rest_api(name="weather")["id"]
        root = client.get_resources(restApiId=api)["items"][0]["id"]
        client.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_deployment(restApiId=api, stageName="prod")
        client.create_deployment(restApiId=api, stageName="beta")
        yield client, api


def desired(api: str, enabled: bool = True) -> DesiredGateway:
    plan = GatewayPlan("plan_a-v1", "plan_a", "Pro v1", Throttle(10, 20), Quota(800, "MONTH"))
    key = GatewayKey("sub_1", "plan_a-v1", "cus_1", "tgu_" + "a" * 32, enabled)
    return DesiredGateway("ten_1", "prod_1", "Weather", (plan,), (key,), {"rest_api_id": api, "stage": "prod"})


def test_sync_drift_restore_and_unmanaged_stage_on_moto(gateway):
    client, api = gateway
    sync, want = AwsGatewaySync(client_caller(client)), desired(api)
    assert diff(sync.read(want), sync.render(want)) != []  # nothing pushed yet
    sync.apply(want)
    assert diff(sync.read(want), sync.render(want)) == []
    sync.apply(want)  # idempotent: nothing created twice
    (plan,) = client.get_usage_plans()["items"]
    assert plan["tags"]["tollgate:plan_version"] == "plan_a-v1" and plan["quota"]["limit"] == 800
    assert client.get_rest_api(restApiId=api)["apiKeySource"] == "AUTHORIZER"
    (key,) = client.get_api_keys(includeValues=True)["items"]
    assert (key["name"], key["value"], key["enabled"]) == ("tollgate-sub_1", "tgu_" + "a" * 32, True)

    client.update_usage_plan(
        usagePlanId=plan["id"], patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "1000"}]
    )
    assert diff(sync.read(want), sync.render(want)) == [
        {"op": "replace", "path": "/usage_plans/plan_a-v1/quota/limit", "value": 800}
    ]
    sync.apply(want)
    assert diff(sync.read(want), sync.render(want)) == []

    client.update_usage_plan(
        usagePlanId=plan["id"], patchOperations=[{"op": "add", "path": "/apiStages", "value": f"{api}:beta"}]
    )
    sync.apply(want)
    assert diff(sync.read(want), sync.render(want)) == [
        {"op": "remove", "path": f"/unmanaged/usage_plans/plan_a-v1/stages/{api}:beta"}
    ]

    cancelled = desired(api, enabled=False)
    sync.apply(cancelled)
    assert client.get_api_keys()["items"][0]["enabled"] is False


def test_a_missing_rest_api_is_gateway_not_found(gateway):
    client, _ = gateway
    sync, want = AwsGatewaySync(client_caller(client)), desired("nope")
    with pytest.raises(ProviderFailure) as failed:
        sync.read(replace(want))
    assert failed.value.error_code == "GATEWAY_NOT_FOUND" and "rest_api_id" in failed.value.fix
