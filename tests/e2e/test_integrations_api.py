"""Gateway integrations over HTTP (issue 19, seed 000 "Gateway Connectivity"): CRUD, write-only
credentials in Secrets Manager, rotation, tenant isolation, and AWS Test Connection on moto with a real
role: the served CloudFormation role template is applied with moto's CloudFormation in the tenant's own
account (111111111111); Tollgate assumes it with the ExternalId and reads API Gateway as it, moto holding
the session to the role's policies (``infra/local/moto_iam.py``)."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from tests.e2e.aws_kit import TENANT_ACCOUNT, apply_template, connected_aws_integration
from tests.e2e.builders import ok
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e

KONG = {
    "type": "kong",
    "name": "Kong EU",
    "config": {"admin_url": "https://kong.example.com:8444"},
    "credentials": {"token": "kpat_first_secret_value"},
}
PERMISSIONS_FIX = "Check the CloudFormation template was applied (GET /v1/integrations/aws/role-template)"


def test_crud_with_write_only_credentials_rotation_and_isolation(server, owner) -> None:
    created = ok(owner.post("/v1/integrations", json=KONG), 201)
    assert created["status"] == "PENDING" and created["credentials_set"] is True
    assert "kpat_" not in json.dumps(created) and "credentials" not in created
    path = f"/v1/integrations/{created['id']}"
    secret_name = f"tollgate/{server.tenant_id}/integrations/{created['id']}"
    secrets = server.stack.client("secretsmanager")
    assert json.loads(secrets.get_secret_value(SecretId=secret_name)["SecretString"]) == KONG["credentials"]
    for r in (owner.get(path), owner.get("/v1/integrations", params={"limit": 100})):
        assert "kpat_" not in r.text and r.status_code == 200
    # Rotate: PATCH credentials replaces the secret's value; repeating it changes nothing more.
    rotate = {"credentials": {"token": "kpat_second_secret_value"}}
    rotated = ok(owner.patch(path, json=rotate))
    assert rotated["credentials_updated_at"] >= created["credentials_updated_at"] and "kpat_" not in json.dumps(rotated)
    again = ok(owner.patch(path, json=rotate))
    assert again["status"] == "PENDING" and again["config"] == created["config"]
    assert json.loads(secrets.get_secret_value(SecretId=secret_name)["SecretString"]) == rotate["credentials"]
    # Bad input: a clear 4xx naming the field, nothing changed.
    bad = owner.patch(path, json={"credentials": {"password": "x"}})
    assert bad.status_code in (400, 422) and "credentials" in bad.text
    assert ok(owner.get(path))["updated_at"] == again["updated_at"]
    # Paging like every list.
    second = ok(owner.post("/v1/integrations", json={**KONG, "name": "Kong US"}), 201)
    page = ok(owner.get("/v1/integrations", params={"limit": 1}))
    assert len(page["data"]) == 1 and page["has_more"] is True
    rest = ok(owner.get("/v1/integrations", params={"limit": 100, "starting_after": page["next_cursor"]}))
    assert {i["id"] for i in page["data"] + rest["data"]} >= {created["id"], second["id"]}
    # Another tenant sees none of it.
    other_boot = server.stack.bootstrap_tenant("integrations other")
    other = client(server, other_boot.operator_key, other_boot.tenant_id)
    for method in ("GET", "PATCH", "DELETE"):
        r = other.request(method, path, json={"name": "x"} if method == "PATCH" else None)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert other.post(f"{path}/test").status_code == 404
    # Delete removes the item and the secret; a second DELETE is 404.
    ok(owner.delete(path))
    assert owner.get(path).status_code == 404 and owner.delete(path).status_code == 404
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId=secret_name)


def test_member_reads_but_cannot_connect_a_gateway(server, owner) -> None:
    key = ok(owner.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER", "name": "integ member"}), 201)
    member = client(server, key["secret"], server.tenant_id)
    assert member.get("/v1/integrations").status_code == 200
    denied = member.post("/v1/integrations", json=KONG)
    assert denied.status_code == 403 and denied.json()["code"]


def test_aws_role_template_applied_connects_and_each_seed_cause_is_named(owner) -> None:
    body = {"type": "aws_api_gateway", "name": "prod account", "config": {"region": "us-east-1"}}
    # A role that only lacks apigateway:GET on /usageplans (the template, minus one resource).
    partial_role, full_role = (f"Tollgate{uuid.uuid4().hex[:8]}" for _ in range(2))
    body["config"]["role_arn"] = f"arn:aws:iam::{TENANT_ACCOUNT}:role/{partial_role}"
    partial = ok(owner.post("/v1/integrations", json=body), 201)
    external_id = partial["config"]["external_id"]
    assert external_id.startswith("tg-")
    template = ok(owner.get("/v1/integrations/aws/role-template", params={"integration_id": partial["id"]}))
    assert template["Parameters"]["ExternalId"]["Default"] == external_id
    apply_template(template, partial_role, drop_path="/usageplans")
    failed = ok(owner.post(f"/v1/integrations/{partial['id']}/test"))
    assert (failed["status"], failed["error_code"]) == ("ERROR", "AWS_ROLE_PERMISSIONS_INSUFFICIENT")
    assert "apigateway:GET on arn:aws:apigateway:us-east-1::/usageplans" in failed["detail"]
    assert failed["fix"] == PERMISSIONS_FIX and failed["last_checked_at"]
    assert ok(owner.get(f"/v1/integrations/{partial['id']}"))["error_code"] == "AWS_ROLE_PERMISSIONS_INSUFFICIENT"

    # The whole template applied: CONNECTED (and testing again is the same answer).
    role_arn = apply_template(template, full_role)
    fixed = ok(
        owner.patch(f"/v1/integrations/{partial['id']}", json={"config": {**body["config"], "role_arn": role_arn}})
    )
    assert fixed["status"] == "PENDING" and fixed["config"]["external_id"] == external_id
    for _ in range(2):
        connected = ok(owner.post(f"/v1/integrations/{partial['id']}/test"))
        assert (connected["status"], connected["error_code"], connected["fix"]) == ("CONNECTED", None, None)

    # The ExternalId is Tollgate's alone: a client-sent one is refused, naming the field (its own sent back
    # unchanged, as an edit form does, is accepted and changes nothing).
    foreign = {**fixed["config"], "external_id": "tg-someone-else"}
    refused_id = owner.patch(f"/v1/integrations/{partial['id']}", json={"config": foreign})
    assert refused_id.status_code == 422 and "config.external_id" in refused_id.json()["detail"]
    same = ok(owner.patch(f"/v1/integrations/{partial['id']}", json={"config": {**fixed["config"]}}))
    assert same["config"]["external_id"] == external_id
    # A role trusting another ExternalId: the role cannot be assumed.
    other = {**template, "Parameters": {**template["Parameters"]}}
    other["Parameters"]["ExternalId"] = {**template["Parameters"]["ExternalId"], "Default": "tg-someone-else"}
    other_arn = apply_template(other, f"Tollgate{uuid.uuid4().hex[:8]}")
    wrong = ok(
        owner.patch(f"/v1/integrations/{partial['id']}", json={"config": {**body["config"], "role_arn": other_arn}})
    )
    refused = ok(owner.post(f"/v1/integrations/{wrong['id']}/test"))
    assert (refused["status"], refused["error_code"]) == ("ERROR", "AWS_ROLE_NOT_ASSUMABLE")
    assert "ExternalId" in refused["detail"] and "role-template" in refused["fix"]


def test_the_role_template_is_valid_cloudformation_granting_only_api_gateway_reads_and_writes(owner) -> None:
    template = ok(owner.get("/v1/integrations/aws/role-template"))
    assert "Default" not in template["Parameters"]["ExternalId"]
    trust = template["Resources"]["TollgateRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == {"Ref": "ExternalId"}
    actions = {
        s["Action"]
        for s in template["Resources"]["TollgateRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    }
    assert actions and all(a.startswith("apigateway:") and "*" not in a for a in actions)
    kong = ok(owner.post("/v1/integrations", json=KONG), 201)
    r = owner.get("/v1/integrations/aws/role-template", params={"integration_id": kong["id"]})
    assert r.status_code in (400, 422) and r.json()["code"]


def test_the_local_aws_endpoint_serves_the_stacks_resources(aws_endpoint, owner) -> None:
    """boto3 pointed at the endpoint sees the stack's tables, and (with the tenant account's header) a usage
    plan made in the tenant's account: what a user changes there by hand is what Tollgate's provider reads."""
    connected_aws_integration(owner, "endpoint check")
    ddb = boto3.client("dynamodb", endpoint_url=aws_endpoint.url, region_name="us-east-1")
    assert "tollgate-main" in ddb.list_tables()["TableNames"]
    apigw = boto3.client("apigateway", endpoint_url=aws_endpoint.url, region_name="us-east-1")
    apigw.meta.events.register("before-sign.api-gateway.*", _tenant_account)
    apigw.create_usage_plan(name="made by hand")
    from tests.e2e.aws_kit import in_tenant_account

    assert "made by hand" in {p["name"] for p in in_tenant_account("apigateway").get_usage_plans()["items"]}
    tollgates_own = boto3.client("apigateway", region_name="us-east-1").get_usage_plans()["items"]
    assert "made by hand" not in {p["name"] for p in tollgates_own}


def _tenant_account(request, **_) -> None:
    request.headers["x-moto-account-id"] = TENANT_ACCOUNT
