"""Review findings on gateway integrations (issue 19): the Apigee key file's token_uri and Azure's nextLink
cannot send Tollgate elsewhere (SSRF), stored failure details are bounded, odd vendor answers are a
GATEWAY_REQUEST_FAILED (never a 500)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes.integrations import InMemoryIntegrationCredentials, InMemoryIntegrationRepository
from tollgate.adapters.gateways.registry import build_provider
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import InvalidInput
from tollgate.domain.integrations.gateway_link import Operation, new_link
from tollgate.domain.integrations.integration import MAX_DETAIL, Integration, IntegrationType
from tollgate.ports.gateway_providers import ProviderFailure
from tollgate.usecases import gateway_sync as sync_cases
from tollgate.usecases import integrations as cases
from tollgate.usecases.integrations import IntegrationDeps

KEY = {"client_email": "sa@p.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\n..."}
AZURE_CONFIG = {
    "tenant_id": "contoso.onmicrosoft.com",
    "subscription_id": "00000000-0000-0000-0000-000000000000",
    "resource_group": "rg",
    "service_name": "contoso-apim",
    "management_url": "https://management.azure.com",
}


def deps(*, allow_private: bool) -> IntegrationDeps:
    def build(integration, credentials):
        raise AssertionError("not called")

    return IntegrationDeps(
        InMemoryIntegrationRepository(),
        InMemoryIntegrationCredentials(),
        build,
        allow_private_urls=allow_private,
        resolve=lambda host: ["10.0.0.5"] if host.endswith(".internal") else ["93.184.216.34"],
    )


def apigee(key: dict) -> dict:
    return {
        "type": "apigee",
        "name": "a",
        "config": {"organization": "org"},
        "credentials": {"service_account_json": json.dumps(key)},
    }


@pytest.mark.parametrize(
    "token_uri",
    ["http://169.254.169.254/latest/meta-data/", "https://metadata.internal/token", "ftp://x", 5],
)
def test_a_key_files_token_uri_inside_a_network_is_refused_on_create_and_patch(token_uri) -> None:
    d = deps(allow_private=False)
    with pytest.raises(InvalidInput) as caught:
        cases.create(d, "ten_1", apigee({**KEY, "token_uri": token_uri}))
    assert caught.value.extra["field"] == "credentials.service_account_json.token_uri"
    assert "https://oauth2.googleapis.com/token" in caught.value.detail and d.repo.items == {}
    created = cases.create(d, "ten_1", apigee(KEY))  # absent: Google's
    with pytest.raises(InvalidInput):
        cases.update(
            d, "ten_1", created.integration_id, {"credentials": apigee({**KEY, "token_uri": token_uri})["credentials"]}
        )
    assert d.credentials.get("ten_1", created.integration_id) == {"service_account_json": json.dumps(KEY)}


def test_googles_token_uri_is_accepted_and_a_local_fake_one_only_where_private_urls_are_allowed() -> None:
    cases.create(
        deps(allow_private=False), "ten_1", apigee({**KEY, "token_uri": "https://oauth2.googleapis.com/token"})
    )
    cases.create(deps(allow_private=True), "ten_1", apigee({**KEY, "token_uri": "http://127.0.0.1:9000/token"}))


def test_azure_follows_a_next_link_only_to_its_management_api() -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if "oauth2" in request.url.path:
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"value": [{"name": "p"}], "nextLink": "http://169.254.169.254/latest"})

    now = utcnow()
    integration = Integration("int_1", "ten_1", IntegrationType.AZURE_APIM, "az", AZURE_CONFIG, now, now)
    provider = build_provider(
        integration, {"client_id": "c", "client_secret": "s"}, http=httpx.Client(transport=httpx.MockTransport(answer))
    )
    with pytest.raises(ProviderFailure) as caught:
        provider._list(f"{provider.service}/products")  # type: ignore[attr-defined]
    assert caught.value.error_code == "GATEWAY_REQUEST_FAILED" and "nextLink" in caught.value.detail
    assert not any("169.254" in url for url in asked)


def test_a_stored_failure_detail_is_bounded_on_the_integration_and_on_the_link() -> None:
    now = utcnow()
    integration = Integration("int_1", "ten_1", IntegrationType.KONG, "k", {"admin_url": "https://k"}, now, now)
    checked = integration.checked(ok=False, error_code="GATEWAY_REQUEST_FAILED", detail="x" * 10_000, fix="f", at=now)
    assert checked.detail is not None and len(checked.detail) == MAX_DETAIL
    link = new_link("ten_1", "prod_1", "int_1", {"service": "s"}, now)
    failed = link.failed(Operation.SYNC, "GATEWAY_REQUEST_FAILED", "y" * 10_000, "f", now)
    assert failed.detail is not None and len(failed.detail) == MAX_DETAIL


def azure_deps(answer) -> IntegrationDeps:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return IntegrationDeps(
        InMemoryIntegrationRepository(),
        InMemoryIntegrationCredentials(),
        lambda integration, credentials: build_provider(integration, credentials, http=http),
        allow_private_urls=True,
    )


AZURE_BODY = {
    "type": "azure_apim",
    "name": "az",
    "config": AZURE_CONFIG,
    "credentials": {"client_id": "c", "client_secret": "s"},
}


@pytest.mark.parametrize(
    "token_answer",
    [
        httpx.Response(200, json={"access_token": "t", "expires_in": "soon"}),
        httpx.Response(200, json={"expires_in": 3600}),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, content=b'{"access_token": "t", "expires_in": Infinity}'),
        httpx.Response(400, json=["not", "an", "object"]),
    ],
)
def test_an_odd_vendor_answer_is_a_failed_test_connection_naming_the_gateway_never_a_500(token_answer) -> None:
    d = azure_deps(lambda request: token_answer)
    created = cases.create(d, "ten_1", AZURE_BODY)
    tested = cases.test_connection(d, "ten_1", created.integration_id)
    assert tested.status.value == "ERROR" and tested.error_code == "GATEWAY_REQUEST_FAILED" and tested.fix
    assert "azure_apim" in tested.detail or "Entra ID" in tested.detail


def test_a_provider_raising_on_an_odd_answer_fails_the_sync_with_its_cause_never_a_500() -> None:
    from tests.fakes.catalog import InMemoryCatalogRepository
    from tests.fakes.gateway_links import FakeGateway, FakeProviders, InMemoryGatewayLinks, SubscriptionList
    from tests.unit.test_gateway_sync import plan, product, subscription, version

    catalog = InMemoryCatalogRepository()
    catalog.products[("ten_1", "prod_1")] = product()
    catalog.plans[("ten_1", "plan_a")] = plan()
    catalog.versions[("ten_1", "plan_a", 1)] = version()
    subs = SubscriptionList()
    subs.items["sub_1"] = subscription()
    gateway = FakeGateway()
    providers = FakeProviders("ten_1", {"int_1": ("aws_api_gateway", gateway)})
    deps = sync_cases.SyncDeps(InMemoryGatewayLinks(), providers, catalog, subs)
    sync_cases.link_product(deps, "ten_1", "prod_1", "int_1", {"rest_api_id": "abc", "stage": "prod"}, utcnow())
    gateway.fail = KeyError("plans")
    failed = sync_cases.sync(deps, "ten_1", "prod_1", utcnow())
    assert (failed.state.value, failed.error_code) == ("SYNC_FAILED", "GATEWAY_REQUEST_FAILED")
    assert "aws_api_gateway" in failed.detail and "KeyError" in failed.detail


def test_kong_answering_a_list_where_an_object_is_expected_is_a_gateway_request_failed() -> None:
    from tollgate.domain.integrations.desired import DesiredGateway

    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[1, 2])))
    now = utcnow()
    kong = Integration("int_1", "ten_1", IntegrationType.KONG, "k", {"admin_url": "https://kong.example"}, now, now)
    provider = build_provider(kong, {"token": "kpat"}, http=http)
    with pytest.raises(ProviderFailure) as caught:
        provider.read(DesiredGateway("ten_1", "prod_1", "Weather", (), (), {"service": "weather"}))
    assert caught.value.error_code == "GATEWAY_REQUEST_FAILED" and "not a JSON object" in caught.value.detail


def test_a_failed_secret_delete_leaves_the_integration_to_delete_again() -> None:
    d = deps(allow_private=True)
    created = cases.create(d, "ten_1", apigee(KEY))
    real_delete = d.credentials.delete

    def broken(tenant_id: str, integration_id: str) -> None:
        raise RuntimeError("Secrets Manager is down")

    d.credentials.delete = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        cases.delete(d, "ten_1", created.integration_id)
    assert cases.get(d, "ten_1", created.integration_id) == created  # still there: DELETE can be retried
    d.credentials.delete = real_delete  # type: ignore[method-assign]
    cases.delete(d, "ten_1", created.integration_id)
    assert d.repo.items == {} and d.credentials.secrets == {}


def test_a_drift_diff_names_kong_credentials_but_never_shows_their_values() -> None:
    from tollgate.domain.integrations.drift import diff

    consumer = {"username": "tollgate-sub_a", "custom_id": "uid_secret1", "key_auth": ["uid_secret1"], "tags": ["t"]}
    read = {"consumers": {"sub_b": {**consumer, "custom_id": "uid_old", "key_auth": ["uid_old"]}}}
    rendered = {
        "consumers": {"sub_a": consumer, "sub_b": {**consumer, "custom_id": "uid_new", "key_auth": ["uid_new"]}}
    }
    ops = diff(read, rendered)
    assert "uid_" not in json.dumps(ops)
    assert {"/consumers/sub_a", "/consumers/sub_b/custom_id", "/consumers/sub_b/key_auth/0"} <= {o["path"] for o in ops}
    added = next(o for o in ops if o["path"] == "/consumers/sub_a")
    assert added["value"]["username"] == "tollgate-sub_a" and added["value"]["key_auth"] == "<redacted>"
