"""Seed 000 "Gateway Connectivity" over HTTP for Kong, Azure API Management and Apigee: an integration whose
credential expired tests as ERROR with the seed's cause and fix; once the credential is rotated with
``PATCH /v1/integrations/{integration_id}``, Test Connection answers CONNECTED. The real adapters call
fakes of each vendor's API on 127.0.0.1 (tests/fakes/gateways). And a Kong-linked product through sync, drift,
restore (RESTORE_FAILED naming an extra plugin) and a cancelled subscription."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import own_tenant
from tests.e2e.builders import ok
from tests.fakes.gateways.apigee import FakeApigee
from tests.fakes.gateways.azure import FakeAzure
from tests.fakes.gateways.kong import FakeKong

pytestmark = pytest.mark.e2e


Case = tuple[dict, dict, dict, Callable[[], None]]  # config, expired credentials, rotated ones, allow rotated


def kong_case(fake: Any) -> Case:
    fake.expire("kpat_valid")

    def allow() -> None:
        fake.tokens.add("kpat_rotated")

    return {"admin_url": fake.url}, {"token": "kpat_valid"}, {"token": "kpat_rotated"}, allow


def azure_case(fake: Any) -> Case:
    fake.add_secret("app-1", "old-secret", "expired")

    def allow() -> None:
        fake.add_secret("app-1", "new-secret")

    expired = {"client_id": "app-1", "client_secret": "old-secret"}
    return fake.config, expired, {"client_id": "app-1", "client_secret": "new-secret"}, allow


def apigee_case(fake: Any) -> Case:
    fake.expire("ya29.valid")

    def allow() -> None:
        fake.tokens.add("ya29.reauthorized")

    config = {"organization": fake.organization, "base_url": fake.url}
    return config, {"access_token": "ya29.valid"}, {"access_token": "ya29.reauthorized"}, allow


CASES: dict[str, tuple[Callable[[], AbstractContextManager[Any]], Callable, str, str]] = {
    "kong": (FakeKong, kong_case, "KONG_PAT_EXPIRED", "Generate a new token in Kong Manager"),
    "azure_apim": (FakeAzure, azure_case, "AZURE_SECRET_EXPIRED", "Rotate the service principal secret in Azure AD"),
    "apigee": (FakeApigee, apigee_case, "APIGEE_TOKEN_EXPIRED", "Re-authorize the integration"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_expired_credential_is_an_error_with_the_seed_fix_and_a_rotated_one_connects(server, kind: str) -> None:
    make_fake, case, code, fix = CASES[kind]
    t = own_tenant(server, f"integrations {kind}")
    with make_fake() as fake:
        config, expired, rotated, allow_rotated = case(fake)
        body = {"type": kind, "name": f"{kind} prod", "config": config, "credentials": expired}
        created = ok(t.post("/v1/integrations", json=body), 201)
        assert (created["status"], created["credentials_set"]) == ("PENDING", True)
        tested = ok(t.post(f"/v1/integrations/{created['id']}/test"))
        assert (tested["status"], tested["error_code"], tested["fix"]) == ("ERROR", code, fix)
        assert tested["detail"] and tested["last_checked_at"]
        shown = ok(t.get(f"/v1/integrations/{created['id']}"))
        assert (shown["status"], shown["error_code"], shown["fix"]) == ("ERROR", code, fix)
        secret = list(expired.values())[-1]  # the token or the client secret (a client id is no secret)
        assert secret not in str(shown) and "credentials" not in shown

        allow_rotated()
        patched = ok(t.patch(f"/v1/integrations/{created['id']}", json={"credentials": rotated}))
        assert patched["status"] == "PENDING"
        connected = ok(t.post(f"/v1/integrations/{created['id']}/test"))
        assert (connected["status"], connected["error_code"], connected["fix"]) == ("CONNECTED", None, None)
        again = ok(t.post(f"/v1/integrations/{created['id']}/test"))  # testing again changes nothing
        assert again["status"] == "CONNECTED"


def test_kong_sync_drift_restore_extra_plugin_and_a_cancelled_subscription(server) -> None:
    """A product linked to a Kong service: sync pushes consumers, key-auth credentials and rate limits; a
    limit changed in Kong is STALE; restore aligns it; an extra plugin the tenant added makes the restore
    fail naming it (the seed's "additional config that must be aligned by hand"); a cancelled subscription
    loses its credential within one sync."""
    t = own_tenant(server, "kong gateway e2e")
    with FakeKong() as kong:
        kong.add_service("weather")
        kong.add_route("weather", "weather-main", ["/weather"])
        body = {
            "type": "kong",
            "name": "Kong",
            "config": {"admin_url": kong.url},
            "credentials": {"token": "kpat_valid"},
        }
        integration = ok(t.post("/v1/integrations", json=body), 201)
        assert ok(t.post(f"/v1/integrations/{integration['id']}/test"))["status"] == "CONNECTED"
        product = ok(t.post("/v1/products", json={"name": "Weather API"}), 201)
        meter = ok(t.post("/v1/meters", json={"event_name": "kong.calls", "aggregation": {"function": "COUNT"}}), 201)
        plan = builders.plan(
            t,
            product_id=product["id"],
            metadata={"gateway_rate_limit": 10},
            entitlements=[{"meter_id": meter["id"], "limit": "800", "hard": True}],
        )
        subs = [builders.subscribe(t, builders.customer(t)["id"], plan["id"]) for _ in range(2)]
        path = f"/v1/products/{product['id']}/gateway"
        ok(t.put(path, json={"integration_id": integration["id"], "target": {"service": "weather"}}), 201)

        synced = ok(t.post(f"{path}/sync"))
        assert (synced["state"], synced["diff"]) == ("IN_SYNC", []), synced
        identifiers = synced["usage_identifiers"]
        assert {c["key"] for c in kong.store["key-auth"].values()} == {identifiers[s["id"]] for s in subs}
        plugin = next(p for p in kong.store["plugins"].values() if p["name"] == "rate-limiting")
        assert (plugin["config"]["second"], plugin["config"]["month"]) == (10, 800)

        plugin["config"]["month"] = 5000  # changed by hand in Kong
        stale = ok(t.post(f"{path}/check"))
        sub_id = next(s["id"] for s in subs if plugin["consumer"]["id"] in _consumer_ids(kong, s["id"]))
        assert stale["state"] == "STALE"
        assert stale["diff"] == [{"op": "replace", "path": f"/consumers/{sub_id}/rate_limiting/month", "value": 800}]
        assert ok(t.post(f"{path}/restore"))["state"] == "IN_SYNC"
        assert plugin["id"] in kong.store["plugins"] and kong.store["plugins"][plugin["id"]]["config"]["month"] == 800

        extra = kong.add_plugin("weather", "request-transformer")
        failed = ok(t.post(f"{path}/restore"))
        assert failed["state"] == "RESTORE_FAILED", failed
        assert [op["path"] for op in failed["diff"]] == ["/unmanaged/plugins/request-transformer/name"]
        assert "request-transformer" in failed["detail"]
        kong.store["plugins"].pop(extra["id"])  # aligned by hand

        ok(t.delete(f"/v1/subscriptions/{subs[0]['id']}"))
        assert ok(t.post(f"{path}/sync"))["state"] == "IN_SYNC"
        assert {c["key"] for c in kong.store["key-auth"].values()} == {identifiers[subs[1]["id"]]}


def _consumer_ids(kong: FakeKong, subscription_id: str) -> set[str]:
    tag = f"tollgate-subscription:{subscription_id}"
    return {c["id"] for c in kong.store["consumers"].values() if tag in (c.get("tags") or [])}
