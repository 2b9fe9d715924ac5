"""Drop-in compatibility: the official OpenMeter and Lago Python clients, pointed at the local stack with
a customer or operator key, ingest unchanged; the usage query shows their events. Plus the raw HTTP
contract of both endpoints (content types, answers, rejections, tenant from the key).

``openmeter`` is a dev dependency of this project. ``lago-python-client`` needs typeguard 4, which cannot
share a virtualenv with jsii (typeguard 2.13): it runs from its own virtualenv, ``.venv-lago/`` (created
on first use, then reused), driven through a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import client
from tests.e2e.ingest_kit import ago, fresh_tenant, ok, problem, unique

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
LAGO_VENV = Path(os.environ.get("TOLLGATE_LAGO_VENV", REPO / ".venv-lago"))
LAGO_REQUIREMENT = "lago-python-client==1.55.0"


@pytest.fixture(scope="module")
def t(server):
    tenant = fresh_tenant(server, "compat")
    tenant.m = tenant.meter(event_name="tokens.used", function="SUM", field="properties.tokens")
    tenant.c = tenant.customer()
    return tenant


def key_only(t, secret: str) -> httpx.Client:
    """What these clients send: the key, no X-Tenant-Id."""
    return client(t.server, secret, None)


# -- OpenMeter ------------------------------------------------------------------------------------------


def cloud_event(subject: str, tokens, **extra) -> dict:
    return {
        "specversion": "1.0",
        "id": unique("ce"),
        "source": "my-app",
        "type": "tokens.used",
        "subject": subject,
        "time": ago(seconds=5),
        "data": {"tokens": tokens, "model": "gpt-4"},
        **extra,
    }


def test_the_openmeter_client_ingests_with_a_customer_key_and_an_operator_key(t):
    from openmeter import Client

    cust = t.customer()
    customer_key = t.key(kind="customer", customer_id=cust["id"], name="openmeter")
    for secret in (customer_key, t.owner_key):
        om = Client(endpoint=f"{t.server.url}/compat/openmeter", token=secret)
        om.events.ingest_event(cloud_event(cust["external_id"], 10))  # application/cloudevents+json
        om.events.ingest_events([cloud_event(cust["external_id"], 5), cloud_event(cust["external_id"], 1)])  # batch
        om.events.ingest_events_json([cloud_event(cust["external_id"], 4)])  # application/json
    t.wait_usage(cust["external_id"], "tokens.used", 40)
    logged = t.log(external_customer_id=cust["external_id"], status="ACCEPTED")
    assert len(logged) == 8 and {e["properties"]["model"] for e in logged} == {"gpt-4"}


def test_the_openmeter_client_sees_a_rejection_as_an_error(t):
    from corehttp.exceptions import HttpResponseError
    from openmeter import Client

    om = Client(endpoint=f"{t.server.url}/compat/openmeter", token=t.owner_key)
    with pytest.raises(HttpResponseError) as raised:
        om.events.ingest_event(cloud_event("nobody-at-all", 1))
    assert raised.value.status_code == 400


def test_openmeter_endpoint_contract_over_raw_http(t):
    c = key_only(t, t.owner_key)
    ext = t.c["external_id"]
    for ctype, body in (
        ("application/cloudevents+json", cloud_event(ext, 1)),
        ("application/cloudevents-batch+json", [cloud_event(ext, 1), cloud_event(ext, 1)]),
        ("application/json", cloud_event(ext, 1)),
        ("application/json", [cloud_event(ext, 1)]),
    ):
        r = c.post("/compat/openmeter/api/v1/events", content=json.dumps(body), headers={"Content-Type": ctype})
        assert r.status_code == 204 and r.content == b"", (ctype, r.text)
    same = cloud_event(ext, 1)
    for _ in range(2):  # a retried CloudEvent (same id) counts once and still answers 204
        assert c.post("/compat/openmeter/api/v1/events", json=same).status_code == 204
    good, bad = cloud_event(ext, 2), cloud_event(ext, "2")
    body = problem(c.post("/compat/openmeter/api/v1/events", json=[good, bad]), 400)
    assert (
        body["code"] == "AGGREGATION_FIELD_NOT_NUMERIC" and body["accepted"] == 1 and body["rejected"][0]["index"] == 1
    )
    t.wait_usage(ext, "tokens.used", 8)
    # The tenant is the key's: another tenant's id in X-Tenant-Id is refused, a MEMBER may not ingest.
    other = fresh_tenant(t.server, "other")
    # (A key of its own: the key_only authorizer's decision is cached on the Authorization header alone.)
    wrong_tenant = client(t.server, t.key(kind="operator", role="ADMIN"), other.tenant_id)
    assert problem(wrong_tenant.post("/compat/openmeter/api/v1/events", json=cloud_event(ext, 1)), 401)
    member = key_only(t, t.key(kind="operator", role="MEMBER"))
    assert problem(member.post("/compat/openmeter/api/v1/events", json=cloud_event(ext, 1)), 403)
    assert problem(key_only(t, "sk_live_nope").post("/compat/openmeter/api/v1/events", json=cloud_event(ext, 1)), 401)


# -- Lago ------------------------------------------------------------------------------------------------


def lago_python() -> Path:
    """The Lago client's own virtualenv, created once and reused."""
    python = LAGO_VENV / "bin" / "python"
    probe = [str(python), "-c", "import lago_python_client"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(LAGO_VENV)], check=True, capture_output=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", LAGO_REQUIREMENT], check=True, capture_output=True, timeout=600
    )
    return python


LAGO_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import BatchEvent, Event

    spec = json.loads(sys.argv[1])
    client = Client(api_key=spec["key"], api_url=spec["url"])
    out = {}
    one = spec["one"]
    created = client.events.create(Event(**one))
    fields = ("lago_id", "transaction_id", "lago_customer_id", "external_subscription_id", "code", "timestamp")
    out["created"] = {k: getattr(created, k) for k in (*fields, "properties")}
    again = client.events.create(Event(**one))  # a retry: same transaction_id
    out["again"] = again.transaction_id
    client.events.batch_create(BatchEvent(events=[Event(**e) for e in spec["batch"]]))
    try:
        client.events.create(Event(**spec["bad"]))
        out["bad"] = None
    except LagoApiError as exc:
        out["bad"] = exc.status_code
    print(json.dumps(out))
    """
)


def run_lago(spec: dict) -> dict:
    done = subprocess.run(
        [str(lago_python()), "-c", LAGO_SCRIPT, json.dumps(spec)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def lago_event(sub_external_id: str, tokens: int, code: str = "tokens.used") -> dict:
    return {
        "transaction_id": unique("tx"),
        "external_subscription_id": sub_external_id,
        "code": code,
        "timestamp": int(time.time()) - 5,
        "precise_total_amount_cents": None,
        "properties": {"tokens": tokens},
    }


@pytest.mark.timeout(900)
def test_the_lago_client_ingests_with_a_customer_key_and_an_operator_key(t):
    from tests.e2e import builders

    cust = t.customer()
    plan = builders.plan(t.owner)
    for n, secret in enumerate((t.key(kind="customer", customer_id=cust["id"], name="lago"), t.owner_key)):
        sub_ext = unique(f"sub{n}")
        builders.subscribe(t.owner, cust["id"], plan["id"], external_id=sub_ext)
        one = lago_event(sub_ext, 7)
        out = run_lago(
            {
                "url": f"{t.server.url}/compat/lago/",
                "key": secret,
                "one": one,
                "batch": [lago_event(sub_ext, 2), lago_event(sub_ext, 1)],
                "bad": lago_event(sub_ext, 1, code="Tokens.Used"),
            }
        )
        created = out["created"]
        assert created["transaction_id"] == one["transaction_id"] and created["lago_customer_id"] == cust["id"]
        assert created["external_subscription_id"] == sub_ext and created["code"] == "tokens.used"
        assert created["properties"] == {"tokens": 7}
        assert out["again"] == one["transaction_id"] and out["bad"] == 422
    t.wait_usage(cust["external_id"], "tokens.used", 20)  # (7 + 2 + 1) x 2: the retried create counted once


def test_lago_endpoint_contract_over_raw_http(t):
    from tests.e2e import builders

    plan = builders.plan(t.owner)
    sub_ext = unique("sub")
    builders.subscribe(t.owner, t.c["id"], plan["id"], external_id=sub_ext)
    c = key_only(t, t.owner_key)
    e = lago_event(sub_ext, 3)
    body = ok(c.post("/compat/lago/api/v1/events", json={"event": e}))
    assert body["event"]["transaction_id"] == e["transaction_id"] and body["event"]["lago_customer_id"] == t.c["id"]
    by_customer = {
        **lago_event(sub_ext, 2),
        "external_subscription_id": None,
        "external_customer_id": t.c["external_id"],
        "timestamp": f"{time.time() - 5:.3f}",
    }
    body = ok(c.post("/compat/lago/api/v1/events/batch", json={"events": [by_customer]}))
    assert [x["transaction_id"] for x in body["events"]] == [by_customer["transaction_id"]]
    assert (
        problem(c.post("/compat/lago/api/v1/events", json={"event": lago_event("sub-nope", 1)}), 422)["code"]
        == "CUSTOMER_NOT_FOUND"
    )
    assert problem(c.post("/compat/lago/api/v1/events", json={"transaction_id": "x"}), 400)
    logged = {x["event_id"]: x for x in t.log(external_customer_id=t.c["external_id"], status="ACCEPTED")}
    from datetime import UTC, datetime

    unix = datetime.fromtimestamp(e["timestamp"], UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert logged[e["transaction_id"]]["timestamp"] == unix  # Unix seconds -> RFC 3339
