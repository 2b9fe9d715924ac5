"""Gateway integrations with in-memory fakes: validation per type, write-only credentials, rotation back
to PENDING, Test Connection storing CONNECTED/ERROR, tenant scoping, the AWS role template."""

from __future__ import annotations

import json

import pytest

from tests.fakes.integrations import InMemoryIntegrationCredentials, InMemoryIntegrationRepository
from tollgate.adapters.gateways import aws as aws_provider
from tollgate.adapters.gateways.registry import build_provider
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.integrations.integration import IntegrationStatus, IntegrationType
from tollgate.ports.gateway_providers import ConnectionCheck
from tollgate.usecases import integrations as cases
from tollgate.usecases.integrations import IntegrationDeps

ROLE = "arn:aws:iam::111111111111:role/TollgateGatewayAccess"
AWS_BODY = {"type": "aws_api_gateway", "name": "prod", "config": {"role_arn": ROLE, "region": "eu-west-1"}}
KONG_BODY = {
    "type": "kong",
    "name": "kong",
    "config": {"admin_url": "https://kong.example.com:8444/"},
    "credentials": {"token": "kpat_abc"},
}


class ScriptedProvider:
    def __init__(self, checks: list[ConnectionCheck]) -> None:
        self.checks = checks

    def test_connection(self) -> ConnectionCheck:
        return self.checks.pop(0)


@pytest.fixture
def harness():
    checks: list[ConnectionCheck] = []
    built: list[tuple] = []

    def build(integration, credentials):
        built.append((integration, credentials))
        return ScriptedProvider(checks)

    return (
        IntegrationDeps(
            InMemoryIntegrationRepository(), InMemoryIntegrationCredentials(), build, allow_private_urls=True
        ),
        checks,
        built,
    )


@pytest.fixture
def deps(harness):
    return harness[0]


@pytest.fixture
def checks(harness):
    return harness[1]


@pytest.fixture
def built(harness):
    return harness[2]


def test_aws_gets_a_generated_external_id_and_credentials_live_only_in_the_secret(deps) -> None:
    created = cases.create(deps, "ten_1", AWS_BODY)
    assert created.type is IntegrationType.AWS_API_GATEWAY and created.status is IntegrationStatus.PENDING
    assert created.config["external_id"].startswith("tg-ten_1-") and created.credentials_set
    kong = cases.create(deps, "ten_1", KONG_BODY)
    assert kong.config["admin_url"] == "https://kong.example.com:8444"
    assert deps.credentials.get("ten_1", kong.integration_id) == {"token": "kpat_abc"}
    assert "kpat_abc" not in repr(deps.repo.get("ten_1", kong.integration_id))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**AWS_BODY, "type": "nginx"}, "type"),
        ({**AWS_BODY, "config": {"region": "eu-west-1"}}, "config.role_arn"),
        ({**AWS_BODY, "config": {"role_arn": "arn:aws:iam::1:user/x", "region": "eu-west-1"}}, "config.role_arn"),
        ({**AWS_BODY, "config": {**AWS_BODY["config"], "color": "red"}}, "config.color"),
        ({**AWS_BODY, "credentials": {"token": "x"}}, "credentials.token"),
        ({**KONG_BODY, "credentials": {}}, "credentials"),
        ({**KONG_BODY, "config": {"admin_url": "ftp://kong"}}, "config.admin_url"),
        ({**KONG_BODY, "name": ""}, "name"),
        (
            {"type": "apigee", "name": "a", "config": {"organization": "org"}, "credentials": {"access_token": 5}},
            "credentials.access_token",
        ),
        (
            {
                "type": "apigee",
                "name": "a",
                "config": {"organization": "org"},
                "credentials": {"access_token": "t", "service_account_json": "{}"},
            },
            "credentials.service_account_json",
        ),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(deps, body, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        cases.create(deps, "ten_1", body)
    assert caught.value.extra["field"] == field
    assert deps.repo.items == {} and deps.credentials.secrets == {}


@pytest.mark.parametrize("sent", ["tg-ten_2-0123456789abcdef", None, ""])
def test_a_client_cannot_set_the_aws_external_id_on_create_or_patch(deps, sent) -> None:
    with pytest.raises(InvalidInput) as caught:
        cases.create(deps, "ten_1", {**AWS_BODY, "config": {**AWS_BODY["config"], "external_id": sent}})
    assert caught.value.extra["field"] == "config.external_id" and "Tollgate generates" in caught.value.detail
    assert deps.repo.items == {}
    aws = cases.create(deps, "ten_1", AWS_BODY)
    with pytest.raises(InvalidInput) as caught:
        cases.update(deps, "ten_1", aws.integration_id, {"config": {**aws.config, "external_id": sent}})
    assert caught.value.extra["field"] == "config.external_id"
    assert cases.get(deps, "ten_1", aws.integration_id) == aws


def test_the_stored_external_id_sent_back_unchanged_is_accepted(deps) -> None:
    """A client that reads an integration and PATCHes its whole config back (a console's edit form) is not
    refused for the ExternalId it did not change; the ExternalId stays Tollgate's."""
    aws = cases.create(deps, "ten_1", AWS_BODY)
    changed = cases.update(deps, "ten_1", aws.integration_id, {"config": {**aws.config, "region": "eu-west-1"}})
    assert changed.config == {**aws.config, "region": "eu-west-1"}


def test_an_external_id_not_bound_to_the_integrations_tenant_is_never_used_to_assume_a_role(deps, monkeypatch) -> None:
    from dataclasses import replace

    from tollgate.ports.gateway_providers import ProviderFailure

    aws = cases.create(deps, "ten_1", AWS_BODY)
    assumed: list[dict] = []
    monkeypatch.setattr(aws_provider.aws, "client", lambda name: type("S", (), {"assume_role": assumed.append})())
    foreign = replace(aws, config={**aws.config, "external_id": "tg-ten_2-0123"})
    with pytest.raises(ProviderFailure) as caught:
        aws_provider.AwsApiGatewayProvider(foreign, {})._assume()
    assert caught.value.error_code == "AWS_ROLE_NOT_ASSUMABLE" and assumed == []


def test_rotating_credentials_sends_it_back_to_pending_and_keeps_the_external_id(deps, checks) -> None:
    kong = cases.create(deps, "ten_1", KONG_BODY)
    checks.append(ConnectionCheck(True))
    assert cases.test_connection(deps, "ten_1", kong.integration_id).status is IntegrationStatus.CONNECTED
    rotated = cases.update(deps, "ten_1", kong.integration_id, {"credentials": {"token": "kpat_new"}})
    assert rotated.status is IntegrationStatus.PENDING and rotated.version == 3
    assert deps.credentials.get("ten_1", kong.integration_id) == {"token": "kpat_new"}
    renamed = cases.update(deps, "ten_1", kong.integration_id, {"name": "kong eu"})
    assert renamed.name == "kong eu" and renamed.status is IntegrationStatus.PENDING
    aws = cases.create(deps, "ten_1", AWS_BODY)
    moved = cases.update(deps, "ten_1", aws.integration_id, {"config": {"role_arn": ROLE, "region": "us-east-1"}})
    assert moved.config["external_id"] == aws.config["external_id"] and moved.config["region"] == "us-east-1"


def test_a_failed_check_is_stored_with_its_cause_and_fix_and_another_tenant_sees_nothing(deps, checks, built) -> None:
    kong = cases.create(deps, "ten_1", KONG_BODY)
    checks.append(ConnectionCheck(False, "KONG_PAT_EXPIRED", "Kong: PAT token expired", "Generate a new token"))
    failed = cases.test_connection(deps, "ten_1", kong.integration_id)
    assert (failed.status, failed.error_code, failed.fix) == (
        IntegrationStatus.ERROR,
        "KONG_PAT_EXPIRED",
        "Generate a new token",
    )
    assert failed.last_checked_at is not None and built[-1][1] == {"token": "kpat_abc"}
    for call in (cases.get, cases.test_connection, cases.delete):
        with pytest.raises(NotFound):
            call(deps, "ten_2", kong.integration_id)
    cases.delete(deps, "ten_1", kong.integration_id)
    assert deps.credentials.secrets == {} and cases.page(deps, "ten_1", limit=10, cursor=None).data == []


def test_an_unregistered_type_reports_instead_of_failing() -> None:
    from datetime import UTC, datetime

    from tollgate.domain.integrations.integration import Integration
    from tollgate.ports.integrations import ProviderNotAvailable

    now = datetime(2026, 1, 1, tzinfo=UTC)
    registered = Integration(
        "intg_1", "ten_1", IntegrationType.AWS_API_GATEWAY, "a", {"role_arn": ROLE, "region": "eu-west-1"}, now, now
    )
    assert isinstance(build_provider(registered, {}), aws_provider.AwsApiGatewayProvider)
    from tollgate.adapters.gateways import registry

    if IntegrationType.APIGEE not in registry.PROVIDERS:
        with pytest.raises(ProviderNotAvailable):
            registry.provider_class(IntegrationType.APIGEE)


def test_the_role_template_grants_exactly_the_providers_calls_behind_the_external_id() -> None:
    template = aws_provider.role_template("123456789012", "tg-abc")
    role = template["Resources"]["TollgateRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert template["Parameters"]["ExternalId"]["Default"] == "tg-abc"
    granted = {
        (s["Action"], r["Fn::Sub"].rsplit("::", 1)[1])
        for s in role["Policies"][0]["PolicyDocument"]["Statement"]
        for r in s["Resource"]
    }
    assert granted == {(p.action, p.path) for p in aws_provider.PERMISSIONS}
    assert "*" not in json.dumps(role["Policies"]).replace("/*", "")


def test_the_role_template_passes_cfn_lint(tmp_path) -> None:
    import cfnlint.api

    path = tmp_path / "role.json"
    path.write_text(json.dumps(aws_provider.role_template("123456789012", "tg-abc")))
    config = cfnlint.api.ManualArgs(regions=["us-east-1"], include_experimental=True)  # errors and warnings
    assert [str(m) for m in cfnlint.api.lint_file(path, config=config)] == []


def test_base_urls_must_be_public_https_hosts_unless_the_stack_allows_private_ones(deps) -> None:
    strict = IntegrationDeps(deps.repo, deps.credentials, deps.build_provider, resolve=lambda host: ["10.0.0.7"])
    for url, words in (("http://kong.example.com", "https://"), ("https://kong.internal", "public host")):
        with pytest.raises(InvalidInput) as caught:
            cases.create(strict, "ten_1", {**KONG_BODY, "config": {"admin_url": url}})
        assert caught.value.extra["field"] == "config.admin_url" and words in caught.value.detail
    assert cases.create(deps, "ten_1", {**KONG_BODY, "config": {"admin_url": "http://127.0.0.1:8001"}}).config


def test_a_result_about_a_config_changed_during_the_test_is_not_stored(deps, checks) -> None:
    kong = cases.create(deps, "ten_1", KONG_BODY)

    class ChangesMidway:
        def test_connection(self) -> ConnectionCheck:
            cases.update(deps, "ten_1", kong.integration_id, {"credentials": {"token": "kpat_new"}})
            return ConnectionCheck(False, "KONG_PAT_EXPIRED", "expired", "fix")

    changing = IntegrationDeps(deps.repo, deps.credentials, lambda i, c: ChangesMidway(), allow_private_urls=True)
    assert cases.test_connection(changing, "ten_1", kong.integration_id).status is IntegrationStatus.PENDING
