"""Outbound webhooks against a real HTTP receiver on this machine (the local stack allows http:// and
127.0.0.1, and compresses the retry schedule 100 times): signatures the official ``standardwebhooks``
library verifies, retries with the same webhook-id, resend, replay, disabled endpoints and tenant
isolation."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e import builders
from tests.e2e.billing_kit import invoiced, own_tenant
from tests.e2e.builders import ok


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """A delivery arrives within seconds; the bound is for a loaded machine (the worker's delivery queue may
    hold other tests' retries first): a hang bound, not a latency figure (those are in BENCHMARKS.md)."""
    return builders.wait_for(predicate, timeout=max(timeout, 60.0), interval=interval)


class Receiver:
    """Records every POST; answers each path from its script (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.scripts: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    script = receiver.scripts.get(self.path, [])
                    status = script.pop(0) if script else 200
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["path"] == path]

    def typed(self, path: str, type_: str) -> list[dict]:
        return [r for r in self.at(path) if json.loads(r["body"])["type"] == type_]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def _endpoint(c, url: str, events: list[str]) -> dict:
    return ok(c.post("/v1/webhook-endpoints", json={"url": url, "enabled_events": events}), 201)


def _verified(secret: str, request: dict) -> dict:
    return Webhook(secret).verify(request["body"], request["headers"])


def test_customer_created_and_invoice_finalized_arrive_signed_and_other_tenants_never(server, receiver):
    a, b = own_tenant(server, "webhooks A"), own_tenant(server, "webhooks B")
    ep_a = _endpoint(a, receiver.url + "/a", ["customer.created", "invoice.finalized"])
    ep_b = _endpoint(b, receiver.url + "/b", ["*"])
    assert ep_a["secret"].startswith("whsec_") and "secret" not in ok(a.get(f"/v1/webhook-endpoints/{ep_a['id']}"))
    cust, _, invoice_id = invoiced(a)
    created = wait_for(lambda: receiver.typed("/a", "customer.created"))
    finalized = wait_for(lambda: receiver.typed("/a", "invoice.finalized"))
    assert _verified(ep_a["secret"], created[0])["data"]["customer_id"] == cust["id"]
    assert _verified(ep_a["secret"], finalized[0])["data"]["invoice_id"] == invoice_id
    own = builders.customer(b)
    wait_for(lambda: receiver.typed("/b", "customer.created"))
    seen_by_b = [_verified(ep_b["secret"], r)["data"] for r in receiver.at("/b")]
    assert all(d.get("customer_id") != cust["id"] for d in seen_by_b)
    assert any(d.get("customer_id") == own["id"] for d in seen_by_b)
    assert all(r["path"] == "/a" for r in receiver.received if cust["id"].encode() in r["body"])
    # another tenant's endpoint is 404 to this one
    assert a.get(f"/v1/webhook-endpoints/{ep_b['id']}").status_code == 404


def test_500_twice_then_200_is_three_attempts_with_one_webhook_id_then_resend(server, receiver):
    c = own_tenant(server, "webhooks retry")
    receiver.scripts["/flaky"] = [500, 500]
    ep = _endpoint(c, receiver.url + "/flaky", ["customer.created"])
    builders.customer(c)
    started = time.monotonic()
    attempts = wait_for(lambda: (r := receiver.at("/flaky")) and len(r) >= 3 and r, timeout=30)
    assert len({r["headers"]["webhook-id"] for r in attempts}) == 1
    for r in attempts:
        _verified(ep["secret"], r)
    log = wait_for(
        lambda: (d := ok(c.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries"))["data"]) and len(d) >= 3 and d
    )
    assert [a["status_code"] for a in log] == [200, 500, 500] and log[0]["succeeded"]
    assert log[1]["next_retry_at"] and log[0]["latency_ms"] >= 0 and log[1]["response_body"] == "boom"
    assert time.monotonic() - started < 30
    resent = ok(c.post(f"/v1/webhook-deliveries/{log[0]['delivery_id']}/resend"), 202)
    assert resent["webhook_id"] == attempts[0]["headers"]["webhook-id"]
    again = wait_for(lambda: (r := receiver.at("/flaky")) and len(r) >= 4 and r)
    assert again[3]["headers"]["webhook-id"] == attempts[0]["headers"]["webhook-id"]
    assert c.post("/v1/webhook-deliveries/whdlv_nope/resend").status_code == 404


def test_a_disabled_endpoint_receives_nothing_and_replay_delivers_what_failed(server, receiver):
    c = own_tenant(server, "webhooks replay")
    receiver.scripts["/replay"] = [500] * 50
    ep = _endpoint(c, receiver.url + "/replay", ["customer.created"])
    first = builders.customer(c)
    wait_for(lambda: len(receiver.at("/replay")) >= 2)
    ok(c.patch(f"/v1/webhook-endpoints/{ep['id']}", json={"disabled": True}))
    # the pending retry finds the endpoint disabled: the delivery fails without a request
    wait_for(lambda: any("disabled" in (a["error"] or "") for a in _log(c, ep)), timeout=30)
    sent_before = len(receiver.at("/replay"))
    second = builders.customer(c)
    wait_for(lambda: _event_logged(c, second["id"]))
    server.stack.drain()
    assert len(receiver.at("/replay")) == sent_before
    receiver.scripts["/replay"] = []
    ok(c.patch(f"/v1/webhook-endpoints/{ep['id']}", json={"disabled": False}))
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    replayed = ok(c.post(f"/v1/webhook-endpoints/{ep['id']}/replay", json={"since": since}), 202)
    assert replayed["replayed"] == 1
    delivered = wait_for(lambda: [r for r in receiver.at("/replay")[sent_before:] if first["id"].encode() in r["body"]])
    assert _verified(ep["secret"], delivered[0])["type"] == "customer.created"
    assert all(second["id"].encode() not in r["body"] for r in receiver.at("/replay"))


def test_the_test_event_and_the_event_type_catalogue(server, receiver):
    c = own_tenant(server, "webhooks test event")
    ep = _endpoint(c, receiver.url + "/test", ["invoice.paid"])
    ok(c.post(f"/v1/webhook-endpoints/{ep['id']}/test"), 202)
    got = wait_for(lambda: receiver.at("/test"))
    assert _verified(ep["secret"], got[0])["type"] == "webhook.test"
    types = {t["name"]: t for t in ok(c.get("/v1/webhook-event-types"))["data"]}
    assert {"customer.created", "invoice.finalized", "webhook_endpoint.disabled"} <= set(types)
    assert "invoice_id" in types["invoice.finalized"]["data_schema"]["properties"]
    bad = c.post("/v1/webhook-endpoints", json={"url": receiver.url, "enabled_events": ["no.such"]})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def _log(c, ep) -> list[dict]:
    return ok(c.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries"))["data"]


def _event_logged(c, customer_id: str) -> bool:
    events = ok(c.get("/v1/billing-events", params={"limit": 100}))["data"]
    return any(e["data"].get("customer_id") == customer_id for e in events)
