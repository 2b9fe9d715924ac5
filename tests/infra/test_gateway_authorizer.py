"""The gateway authorizer construct, synthesized by the CDK app in the sample tenant API stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def sample(synth):
    from aws_cdk.assertions import Annotations, Template

    from infra.app import SAMPLE_STACK_NAME

    stack = synth.app.node.find_child(SAMPLE_STACK_NAME)
    template = Template.from_stack(stack)
    return stack, template, Annotations.from_stack(stack), dict(template.to_json())


def of_type(template_json: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == cfn_type}


def test_request_authorizer_on_the_customer_key_header_cached_for_the_policy_ttl(sample) -> None:
    _, _, _, tpl = sample
    (auth,) = of_type(tpl, "AWS::ApiGateway::Authorizer").values()
    props = auth["Properties"]
    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["AuthorizerResultTtlInSeconds"] == 60
    functions = of_type(tpl, "AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"]: f["Properties"] for f in functions.values()}
    authorizer_fn = handlers["tollgate_sdk.gateway.lambda_entry.authorizer"]
    env = authorizer_fn["Environment"]["Variables"]
    assert {"TOLLGATE_API_URL", "TOLLGATE_TENANT_ID", "TOLLGATE_GATEWAY_KEY_SECRET_ARN"} <= env.keys()
    assert "tollgate_sdk.gateway.lambda_entry.access_logs" in handlers
    for method in of_type(tpl, "AWS::ApiGateway::Method").values():
        if method["Properties"]["HttpMethod"] in ("GET", "POST"):
            assert method["Properties"]["AuthorizationType"] == "CUSTOM"
            assert "AuthorizerId" in method["Properties"]


def test_access_logs_carry_the_subscription_and_feed_the_metering_function(sample) -> None:
    _, _, _, tpl = sample
    (stage,) = of_type(tpl, "AWS::ApiGateway::Stage").values()
    fmt = json.loads(stage["Properties"]["AccessLogSetting"]["Format"])
    assert fmt["requestId"] == "$context.requestId"
    assert fmt["subscriptionId"] == "$context.authorizer.subscription_id"
    (subscription,) = of_type(tpl, "AWS::Logs::SubscriptionFilter").values()
    assert subscription["Properties"]["FilterPattern"] == ""
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in of_type(tpl, "AWS::ApiGateway::GatewayResponse").values()
    }
    denied = json.loads(responses["ACCESS_DENIED"]["ResponseTemplates"]["application/json"])
    assert denied["code"] == "$context.authorizer.code"
    assert responses["ACCESS_DENIED"]["ResponseParameters"]["gatewayresponse.header.Content-Type"] == (
        "'application/problem+json'"
    )


def test_roles_read_only_the_gateway_key_secret(sample) -> None:
    _, _, _, tpl = sample
    actions: set[str] = set()
    for policy in of_type(tpl, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= set(listed)
            assert not any(a.endswith(":*") or a == "*" for a in listed), statement
    assert "secretsmanager:GetSecretValue" in actions
    assert not any(a.startswith(("secretsmanager:Put", "secretsmanager:Update", "dynamodb:")) for a in actions)


def test_the_code_asset_holds_the_sdk_and_httpx(sample) -> None:
    from infra import gateway_bundle

    folder = Path(gateway_bundle.build())
    assert (folder / "tollgate_sdk" / "gateway" / "lambda_entry.py").is_file()
    assert (folder / "httpx" / "__init__.py").is_file()
    assert not (folder / "tollgate_sdk" / "cli").exists()


def test_cdk_nag_reports_nothing_unacknowledged_in_the_sample(sample) -> None:
    from aws_cdk.assertions import Match

    _, _, annotations, _ = sample
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f"{e.id}: {e.entry.data}" for e in errors] == []
    assert [f"{w.id}: {w.entry.data}" for w in warnings] == []


def test_cfn_lint_finds_no_errors_in_the_sample(sample, tmp_path: Path) -> None:
    import cfnlint.api

    _, _, _, tpl = sample
    path = tmp_path / "TollgateSampleTenantApi.template.json"
    path.write_text(json.dumps(tpl))
    matches = cfnlint.api.lint_file(path, config=cfnlint.api.ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches if m.rule.id.startswith("E")] == []
