"""A tenant's own AWS account on the local stack's moto, for gateway integration tests (issue 19).

moto keeps one backend per account: the tenant's resources live in ``TENANT_ACCOUNT`` (moto picks the account
of a request from the ``x-moto-account-id`` header), Tollgate's in the stack's 123456789012. The role
template Tollgate serves is applied there with moto's CloudFormation, as a tenant would apply it.
"""

from __future__ import annotations

import copy
import json
import uuid

import boto3
import httpx

from tests.e2e.builders import ok

TENANT_ACCOUNT = "111111111111"
REGION = "us-east-1"


def in_tenant_account(service: str):
    """A boto3 client acting in the tenant's AWS account (in this process: the stack's moto)."""
    c = boto3.client(service, region_name=REGION)

    def account(request, **_):
        request.headers["x-moto-account-id"] = TENANT_ACCOUNT

    c.meta.events.register(f"before-sign.{c.meta.service_model.service_id.hyphenize()}.*", account)
    return c


def apply_template(template: dict, role_name: str, drop_path: str | None = None) -> str:
    """Create the template's stack in the tenant's account (optionally without one granted resource path,
    e.g. "/usageplans"); returns the role's ARN (the stack's output)."""
    template = copy.deepcopy(template)
    if drop_path:
        for s in template["Resources"]["TollgateRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            s["Resource"] = [r for r in s["Resource"] if not r["Fn::Sub"].endswith("::" + drop_path)]
    cfn = in_tenant_account("cloudformation")
    stack_name = f"tollgate-{role_name.lower()}"
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "RoleName", "ParameterValue": role_name}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    outputs = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "RoleArn")


def connected_aws_integration(c: httpx.Client, name: str = "aws") -> dict:
    """An aws_api_gateway integration whose role (the served template, applied) is CONNECTED."""
    role_name = f"Tollgate{uuid.uuid4().hex[:10]}"
    config = {"role_arn": f"arn:aws:iam::{TENANT_ACCOUNT}:role/{role_name}", "region": REGION}
    created = ok(c.post("/v1/integrations", json={"type": "aws_api_gateway", "name": name, "config": config}), 201)
    template = ok(c.get("/v1/integrations/aws/role-template", params={"integration_id": created["id"]}))
    apply_template(template, role_name)
    tested = ok(c.post(f"/v1/integrations/{created['id']}/test"))
    assert tested["status"] == "CONNECTED", tested
    return tested
