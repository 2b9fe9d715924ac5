"""The local stack holds assumed roles to IAM (``infra/local/moto_iam.py``): AssumeRole is checked against the
role's trust policy (caller account, ExternalId; a bare account id is that account's root), a session of the
role against its policies with API Gateway's IAM actions (verb on path; an explicit Deny wins), and requests
with the stack's own credentials stay unchecked."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "222222222222"


def _in_account(service: str):
    c = boto3.client(service, region_name="us-east-1")
    c.meta.events.register(
        f"before-sign.{c.meta.service_model.service_id.hyphenize()}.*",
        lambda request, **_: request.headers.__setitem__("x-moto-account-id", ACCOUNT),
    )
    return c


def _role(name: str, principal: str, statements: list[dict]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "tg-1"}},
            }
        ],
    }
    iam = _in_account("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _apigateway_as(arn: str, external_id: str = "tg-1"):
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=arn, RoleSessionName="moto-iam", ExternalId=external_id
    )["Credentials"]
    return boto3.client(
        "apigateway",
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_trust_and_policies_of_assumed_roles_are_enforced(local_stack) -> None:
    allow_get = {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "arn:aws:apigateway:us-east-1::/*"}
    deny_plans = {"Effect": "Deny", "Action": "apigateway:*", "Resource": "arn:aws:apigateway:us-east-1::/usageplans"}
    with local_stack.exclusive():
        arn = _role("MotoIamBareAccount", "123456789012", [allow_get, deny_plans])
        client = _apigateway_as(arn)
        client.get_rest_apis()  # GET /restapis: allowed
        for call in (client.get_usage_plans, lambda: client.create_usage_plan(name="x")):  # Deny; no POST grant
            with pytest.raises(ClientError) as refused:
                call()
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        for bad in (lambda: _apigateway_as(arn, "tg-2"), lambda: _apigateway_as(arn.replace("Bare", "None"))):
            with pytest.raises(ClientError) as refused:
                bad()
            assert refused.value.response["Error"]["Code"] == "AccessDenied"
        boto3.client("apigateway", region_name="us-east-1").create_usage_plan(name="the stack's own: unchecked")
