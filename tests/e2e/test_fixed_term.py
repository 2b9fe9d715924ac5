"""Issue 18 item 6: fixed-term subscriptions (``end_at`` or ``periods``) EXPIRE at their end, through the
subscription clock, and an EXPIRED subscription refuses a migration with 409 (seed 000's lifecycle)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.builders import customer, ok, plan, subscribe

pytestmark = pytest.mark.e2e


def run_clock(server) -> None:
    execution = server.stack.wait_for_execution(server.stack.fire_schedule("subscription-clock"))
    assert execution["status"] == "SUCCEEDED", execution


def test_a_fixed_term_subscription_expires_at_its_end_and_then_refuses_a_migration(server, owner):
    c = customer(owner)
    p, other = plan(owner, fee="20.00"), plan(owner, fee="25.00")
    end_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    s = subscribe(owner, c["id"], p["id"], end_at=end_at)
    assert s["status"] == "ACTIVE" and s["end_at"] == end_at
    time.sleep(2.5)
    run_clock(server)
    got = ok(owner.get(f"/v1/subscriptions/{s['id']}"))
    assert got["status"] == "EXPIRED"
    history = ok(owner.get(f"/v1/subscriptions/{s['id']}/history"))["data"]
    assert (history[-1]["action"], history[-1]["to_status"]) == ("EXPIRE", "EXPIRED")
    r = owner.post(f"/v1/subscriptions/{s['id']}/migrate", json={"plan_id": other["id"]})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json", r.text


def test_a_term_of_n_periods_ends_with_the_nth_period_and_bad_terms_are_refused(owner):
    c = customer(owner)
    p = plan(owner, fee="20.00")
    start = datetime(2026, 1, 15, tzinfo=UTC) if datetime.now(UTC) < datetime(2027, 1, 1, tzinfo=UTC) else None
    s = subscribe(owner, c["id"], p["id"], periods=3, **({"start_at": start} if start else {}))
    if start:
        assert s["end_at"] == "2026-04-15T00:00:00Z"
    assert s["end_at"] is not None
    body = {"customer_id": c["id"], "plan_id": p["id"]}
    for bad in ({"periods": 0}, {"end_at": "2020-01-01T00:00:00Z"}, {"periods": 2, "end_at": "2030-01-01T00:00:00Z"}):
        r = owner.post("/v1/subscriptions", json={**body, **bad})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (bad, r.text)
