"""The Kong, Azure API Management and Apigee adapters driven over HTTP against fakes of each vendor's API
(tests/fakes/gateways): Test Connection's causes and fixes, render → apply → read in sync (and idempotent),
extra config the tenant added by hand → ``unmanaged``, a disabled subscription."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import jsonpatch
import pytest

from tests.fakes.gateways.apigee import FakeApigee
from tests.fakes.gateways.azure import FakeAzure
from tests.fakes.gateways.kong import FakeKong
from tollgate.adapters.gateways.registry import build_provider
from tollgate.domain.clock import utcnow
from tollgate.domain.integrations.desired import DesiredGateway, GatewayKey, GatewayPlan, Quota, Throttle
from tollgate.domain.integrations.integration import Integration, IntegrationType
from tollgate.ports.gateway_providers import GatewayProvider, ProviderFailure


def provider(type_: str, config: dict[str, str], credentials: dict[str, str], http: httpx.Client) -> GatewayProvider:
    """The adapter the registry builds for an integration of this type (the real class, over HTTP)."""
    now = utcnow()
    integration = Integration("int_1", "ten_1", IntegrationType(type_), "gw", config, now, now)
    return build_provider(integration, credentials, http=http)


def kong_provider(config: dict[str, str], credentials: dict[str, str], http: httpx.Client) -> GatewayProvider:
    return provider("kong", config, credentials, http)


def apim_provider(config: dict[str, str], credentials: dict[str, str], http: httpx.Client) -> GatewayProvider:
    return provider("azure_apim", config, credentials, http)


def apigee_provider(config: dict[str, str], credentials: dict[str, str], http: httpx.Client) -> GatewayProvider:
    return provider("apigee", config, credentials, http)


def desired(target: dict[str, str], *, enabled: bool = True, quota: int = 10_000) -> DesiredGateway:
    plans = (
        GatewayPlan("pv_basic_1", "plan_basic", "Basic v1", Throttle(5, 10), Quota(quota, "MONTH")),
        GatewayPlan("pv_pro_2", "plan_pro", "Pro v2", Throttle(50, 100), None),
    )
    keys = (
        GatewayKey("sub_a", "pv_basic_1", "cus_1", "uid_a1b2c3", True),
        GatewayKey("sub_b", "pv_pro_2", "cus_2", "uid_d4e5f6", enabled),
    )
    return DesiredGateway("ten_1", "prod_1", "Weather API", plans, keys, target)


def in_sync(gateway: GatewayProvider, want: DesiredGateway) -> list[dict]:
    return list(jsonpatch.make_patch(gateway.read(want), gateway.render(want)))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


# -- Kong ----------------------------------------------------------------------------------------------


@pytest.fixture
def kong() -> Iterator[FakeKong]:
    with FakeKong() as fake:
        fake.add_service("weather")
        fake.add_route("weather", "weather-main", ["/weather"])
        yield fake


def test_kong_expired_pat_names_the_seed_fix_and_a_new_token_connects(kong: FakeKong, http: httpx.Client) -> None:
    kong.expire("kpat_valid")
    check = kong_provider({"admin_url": kong.url}, {"token": "kpat_valid"}, http).test_connection()
    assert (check.ok, check.error_code, check.fix) == (
        False,
        "KONG_PAT_EXPIRED",
        "Generate a new token in Kong Manager",
    )
    assert "Invalid credentials" in (check.detail or "")
    kong.tokens.add("kpat_new")
    assert kong_provider({"admin_url": kong.url}, {"token": "kpat_new"}, http).test_connection().ok


def test_kong_konnect_uses_a_bearer_pat_and_its_401_body(kong: FakeKong, http: httpx.Client) -> None:
    konnect = f"{kong.url}/v2/control-planes/cp-1/core-entities"
    assert kong_provider({"admin_url": konnect}, {"token": "kpat_valid"}, http).test_connection().ok
    kong.expire("kpat_valid")
    check = kong_provider({"admin_url": konnect}, {"token": "kpat_valid"}, http).test_connection()
    assert check.error_code == "KONG_PAT_EXPIRED" and "Invalid credentials" in (check.detail or "")


def test_kong_unreachable_and_unknown_service(http: httpx.Client) -> None:
    check = kong_provider({"admin_url": "http://127.0.0.1:9"}, {"token": "t"}, http).test_connection()
    assert check.error_code == "GATEWAY_UNREACHABLE"
    with FakeKong() as fake:
        with pytest.raises(ProviderFailure) as caught:
            kong_provider({"admin_url": fake.url}, {"token": "kpat_valid"}, http).read(desired({"service": "nope"}))
        assert caught.value.error_code == "GATEWAY_NOT_FOUND" and "nope" in caught.value.detail


def test_kong_apply_then_read_is_in_sync_and_idempotent(kong: FakeKong, http: httpx.Client) -> None:
    provider = kong_provider({"admin_url": kong.url}, {"token": "kpat_valid"}, http)
    want = desired({"service": "weather"})
    assert in_sync(provider, want) != []
    provider.apply(want)
    assert in_sync(provider, want) == []
    counts = {k: len(v) for k, v in kong.store.items()}
    provider.apply(want)
    assert {k: len(v) for k, v in kong.store.items()} == counts
    consumer = next(c for c in kong.store["consumers"].values() if c["custom_id"] == "uid_a1b2c3")
    assert consumer["username"] == "tollgate-sub_a" and "tollgate-managed" in consumer["tags"]
    limits = next(p for p in kong.store["plugins"].values() if (p.get("consumer") or {}).get("id") == consumer["id"])
    assert (limits["config"]["second"], limits["config"]["month"]) == (5, 10_000)
    assert {c["key"] for c in kong.store["key-auth"].values()} == {"uid_a1b2c3", "uid_d4e5f6"}


def test_kong_drift_shows_the_field_and_restore_fixes_it(kong: FakeKong, http: httpx.Client) -> None:
    provider = kong_provider({"admin_url": kong.url}, {"token": "kpat_valid"}, http)
    want = desired({"service": "weather"})
    provider.apply(want)
    plugin = next(p for p in kong.store["plugins"].values() if p["config"].get("month"))
    plugin["config"]["month"] = 999_999
    diff = in_sync(provider, want)
    assert diff == [{"op": "replace", "path": "/consumers/sub_a/rate_limiting/month", "value": 10_000}]
    provider.apply(want)
    assert in_sync(provider, want) == []


def test_kong_extra_plugin_and_route_are_unmanaged_and_stay(kong: FakeKong, http: httpx.Client) -> None:
    provider = kong_provider({"admin_url": kong.url}, {"token": "kpat_valid"}, http)
    want = desired({"service": "weather"})
    provider.apply(want)
    kong.add_plugin("weather", "request-transformer")
    kong.add_route("weather", "weather-admin", ["/admin"])
    doc = provider.read(want)
    assert doc["unmanaged"] == {
        "plugins": {"request-transformer": {"name": "request-transformer"}},
        "routes": {"weather-admin": {"paths": ["/admin"]}},
    }
    provider.apply(want)  # a restore cannot remove what the tenant added: it stays unmanaged
    assert {op["path"] for op in in_sync(provider, want)} == {"/unmanaged"}


def test_kong_disabled_subscription_loses_its_credential(kong: FakeKong, http: httpx.Client) -> None:
    provider = kong_provider({"admin_url": kong.url}, {"token": "kpat_valid"}, http)
    provider.apply(desired({"service": "weather"}))
    want = desired({"service": "weather"}, enabled=False)
    diff = in_sync(provider, want)
    assert {"op": "remove", "path": "/consumers/sub_b/key_auth/0"} in diff
    provider.apply(want)
    assert in_sync(provider, want) == []
    assert {c["key"] for c in kong.store["key-auth"].values()} == {"uid_a1b2c3"}
    consumer = next(c for c in kong.store["consumers"].values() if c["custom_id"] == "uid_d4e5f6")
    assert "tollgate-disabled" in consumer["tags"]
    gone = replace(want, keys=want.keys[:1])
    provider.apply(gone)
    assert in_sync(provider, gone) == [] and len(kong.store["consumers"]) == 1


# -- Azure API Management ------------------------------------------------------------------------------


@pytest.fixture
def azure() -> Iterator[FakeAzure]:
    with FakeAzure() as fake:
        fake.add_secret("app-1", "s3cret")
        fake.add_api("weather-api")
        yield fake


def apim(fake: FakeAzure, http: httpx.Client, secret: str = "s3cret") -> GatewayProvider:
    return apim_provider(fake.config, {"client_id": "app-1", "client_secret": secret}, http)


def test_azure_expired_secret_names_the_seed_fix_and_a_rotated_one_connects(
    azure: FakeAzure, http: httpx.Client
) -> None:
    azure.add_secret("app-1", "old", "expired")
    check = apim(azure, http, "old").test_connection()
    assert (check.ok, check.error_code) == (False, "AZURE_SECRET_EXPIRED")
    assert check.fix == "Rotate the service principal secret in Azure AD"
    assert "AADSTS7000222" in (check.detail or "") and "expired" in (check.detail or "")
    assert apim(azure, http).test_connection().ok


def test_azure_unknown_service_tenant_and_wrong_secret(azure: FakeAzure, http: httpx.Client) -> None:
    missing = apim_provider(
        {**azure.config, "service_name": "nope"}, {"client_id": "app-1", "client_secret": "s3cret"}, http
    )
    check = missing.test_connection()
    assert check.error_code == "GATEWAY_NOT_FOUND" and "Microsoft.ApiManagement/service/nope" in (check.detail or "")
    other = apim_provider(
        {**azure.config, "tenant_id": "fabrikam.onmicrosoft.com"},
        {"client_id": "app-1", "client_secret": "s3cret"},
        http,
    )
    assert other.test_connection().error_code == "GATEWAY_NOT_FOUND"
    wrong = apim(azure, http, "typo").test_connection()
    assert wrong.error_code == "AZURE_SECRET_EXPIRED" and "AADSTS7000215" in (wrong.detail or "")


def test_azure_apply_then_read_is_in_sync_and_idempotent(azure: FakeAzure, http: httpx.Client) -> None:
    provider = apim(azure, http)
    want = desired({"api_id": "weather-api"})
    provider.apply(want)
    assert in_sync(provider, want) == []
    provider.apply(want)
    assert in_sync(provider, want) == []
    assert sorted(azure.products) == ["tollgate-prod_1-pv_basic_1", "tollgate-prod_1-pv_pro_2"]
    assert azure.products["tollgate-prod_1-pv_basic_1"]["properties"]["state"] == "published"
    assert '<quota calls="10000" renewal-period="2592000" />' in azure.policies["tollgate-prod_1-pv_basic_1"]
    assert azure.subscriptions["tollgate-sub_a"]["properties"]["state"] == "active"


def test_azure_drift_extra_product_and_suspended_subscription(azure: FakeAzure, http: httpx.Client) -> None:
    provider = apim(azure, http)
    provider.apply(desired({"api_id": "weather-api"}))
    azure.policies["tollgate-prod_1-pv_basic_1"] = (
        azure.policies["tollgate-prod_1-pv_basic_1"]
        .replace('calls="10000"', 'calls="5"')
        .replace("<base /><rate", '<base /><ip-filter action="allow" /><rate')
    )
    azure.add_product("starter", "Starter (by hand)", ["weather-api"])
    want = desired({"api_id": "weather-api"}, enabled=False)
    diff = in_sync(provider, want)
    paths = {op["path"] for op in diff}
    assert "/products/tollgate-prod_1-pv_basic_1/policy/quota/calls" in paths
    assert "/subscriptions/tollgate-sub_b/state" in paths and "/unmanaged" in paths
    assert provider.read(want)["unmanaged"]["policies"] == {"tollgate-prod_1-pv_basic_1": ["ip-filter"]}
    provider.apply(want)
    assert [op["path"] for op in in_sync(provider, want)] == ["/unmanaged"]
    # Tollgate owns its products' policies (the extra ip-filter is gone); the product added by hand stays.
    assert provider.read(want)["unmanaged"] == {"products": {"starter": {"displayName": "Starter (by hand)"}}}
    assert "ip-filter" not in azure.policies["tollgate-prod_1-pv_basic_1"]
    assert azure.subscriptions["tollgate-sub_b"]["properties"]["state"] == "suspended"


# -- Apigee --------------------------------------------------------------------------------------------


@pytest.fixture
def apigee_fake() -> Iterator[FakeApigee]:
    with FakeApigee() as fake:
        fake.add_product("legacy-free", ["other-proxy"])
        yield fake


def apigee(fake: FakeApigee, http: httpx.Client, credentials: dict[str, str] | None = None) -> GatewayProvider:
    config = {"organization": fake.organization, "environment": "prod", "base_url": fake.url}
    return apigee_provider(config, credentials or {"access_token": "ya29.valid"}, http)


def test_apigee_expired_token_names_the_seed_fix_and_a_new_one_connects(
    apigee_fake: FakeApigee, http: httpx.Client
) -> None:
    apigee_fake.expire("ya29.valid")
    check = apigee(apigee_fake, http).test_connection()
    assert (check.ok, check.error_code, check.fix) == (False, "APIGEE_TOKEN_EXPIRED", "Re-authorize the integration")
    assert "OAuth token expired" in (check.detail or "") and "invalid authentication credentials" in (
        check.detail or ""
    )
    apigee_fake.tokens.add("ya29.fresh")
    assert apigee(apigee_fake, http, {"access_token": "ya29.fresh"}).test_connection().ok


def test_apigee_service_account_key_and_a_revoked_one(apigee_fake: FakeApigee, http: httpx.Client) -> None:
    key = apigee_fake.service_account_key()
    assert apigee(apigee_fake, http, {"service_account_json": key}).test_connection().ok
    apigee_fake.keys.clear()  # the key was deleted in Google Cloud
    check = apigee(apigee_fake, http, {"service_account_json": key}).test_connection()
    assert check.error_code == "APIGEE_TOKEN_EXPIRED" and "Invalid JWT Signature" in (check.detail or "")


def test_apigee_unknown_organization(apigee_fake: FakeApigee, http: httpx.Client) -> None:
    config = {"organization": "nope", "base_url": apigee_fake.url}
    check = apigee_provider(config, {"access_token": "ya29.valid"}, http).test_connection()
    assert check.error_code == "GATEWAY_PERMISSION_DENIED" and "(or it may not exist)" in (check.detail or "")


def test_apigee_apply_read_drift_and_revoked_app(apigee_fake: FakeApigee, http: httpx.Client) -> None:
    provider = apigee(apigee_fake, http)
    want = desired({"proxy": "weather-v1"})
    provider.apply(want)
    assert in_sync(provider, want) == []
    provider.apply(want)
    assert in_sync(provider, want) == []
    product = apigee_fake.products["tollgate-prod_1-pv_basic_1"]
    assert (product["quota"], product["quotaInterval"], product["quotaTimeUnit"]) == ("10000", "1", "month")
    assert apigee_fake.apps["tollgate-cus_2@tollgate.invalid"]["tollgate-sub_b"]["status"] == "approved"
    product["quota"] = "500"
    apigee_fake.add_product("partner-bundle", ["weather-v1"])
    diff = in_sync(provider, desired({"proxy": "weather-v1"}, enabled=False))
    paths = {op["path"] for op in diff}
    assert paths == {
        "/api_products/tollgate-prod_1-pv_basic_1/quota/limit",
        "/apps/tollgate-sub_b/status",
        "/unmanaged",
    }
    provider.apply(desired({"proxy": "weather-v1"}, enabled=False))
    assert apigee_fake.apps["tollgate-cus_2@tollgate.invalid"]["tollgate-sub_b"]["status"] == "revoked"
    assert [op["path"] for op in in_sync(provider, desired({"proxy": "weather-v1"}, enabled=False))] == ["/unmanaged"]
