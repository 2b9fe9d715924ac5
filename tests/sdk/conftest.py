"""The SDK and CLI tests: the Python SDK (sdk/python, imported from the source tree, not installed) and the
``tollgate`` CLI against the local stack over HTTP, plus fault-injecting stubs on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SDK_PATH = Path(__file__).resolve().parents[2] / "sdk" / "python"
if str(SDK_PATH) not in sys.path:
    sys.path.insert(0, str(SDK_PATH))

from tests.e2e.conftest import server  # noqa: E402, F401  (the local stack over HTTP, a session fixture)
from tests.e2e.ingest_kit import Tenant, fresh_tenant, unique  # noqa: E402


class SdkTenant(Tenant):
    """A tenant of the test's own, with a COUNT meter (``event_name``, ``m``) and a customer (``c``, ``ext``)."""

    event_name: str
    m: dict
    c: dict
    ext: str


@pytest.fixture
def t(server) -> SdkTenant:  # noqa: F811  (the fixture imported above)
    base = fresh_tenant(server, "sdk")
    tenant = SdkTenant(base.server, base.tenant_id, base.owner, base.owner_key)
    tenant.event_name = unique("api.call")
    tenant.m = tenant.meter(event_name=tenant.event_name, function="COUNT")
    tenant.c = tenant.customer()
    tenant.ext = tenant.c["external_id"]
    return tenant
