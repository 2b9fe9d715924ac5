"""Seed 000 "Gateway Connectivity" over HTTP for Kong, Azure API Management and Apigee: an integration whose
credential expired tests as ERROR with the seed's cause and fix; once the credential is rotated with
``PATCH /v1/integrations/{integration_id}``, Test Connection answers CONNECTED. The real adapters call
fakes of each vendor's API on 127.0.0.1 (tests/fakes/gateways)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

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
