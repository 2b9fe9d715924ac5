"""Issue 13 over HTTP, as a fuzzer would try it: events whose every field is any JSON value (strings with any
code point, lone surrogates included; numbers of any length and exponent) sent to the native and the
compatibility routes. Every answer is a 2xx or a 4xx problem+json within a second; never a 5xx."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import client
from tests.e2e.ingest_kit import fresh_tenant
from tests.timing import assert_prompt

pytestmark = pytest.mark.e2e


class Literal(str):
    """A JSON number written as this exact text."""


NUMBERS = st.one_of(
    st.integers().map(lambda n: Literal(str(n))),
    st.builds(
        lambda sign, digits, fraction, exponent: Literal(f"{sign}{digits}{fraction}{exponent}"),
        st.sampled_from(["", "-"]),
        st.text("0123456789", min_size=1, max_size=300).map(lambda d: d.lstrip("0") or "0"),
        st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=40).map(lambda d: "." + d)),
        st.one_of(st.just(""), st.integers(-(10**12), 10**12).map(lambda e: f"e{e}")),
    ),
)
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


def dumps(value) -> str:
    """JSON text, ASCII only (lone surrogates travel as \\u escapes), numbers as their literal text."""
    if isinstance(value, Literal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def event_with(t, field_values: dict) -> dict:
    base = {"event_name": t.m["event_name"], "external_customer_id": t.c["external_id"], "properties": {"credits": 1}}
    return {**base, **field_values}


@pytest.fixture(scope="module")
def t(server):
    tenant = fresh_tenant(server, "fuzz")
    tenant.m = tenant.meter()
    tenant.c = tenant.customer()
    tenant.lago = client(server, tenant.owner_key, None)
    tenant.owner.put(
        "/v1/ingest/settings", json={"rate_limit_per_second": 1_000_000, "key_rate_limit_per_second": 1_000_000}
    )
    return tenant


def answered_well(r: httpx.Response, started: float) -> None:
    elapsed = time.monotonic() - started
    assert r.status_code < 500, r.text[:500]
    assert_prompt(elapsed)
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json" and r.json()["code"]


FIELDS = st.dictionaries(
    st.sampled_from(
        ["event_id", "external_customer_id", "event_name", "timestamp", "quantity", "properties", "customerId"]
    ),
    VALUES,
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(FIELDS, min_size=1, max_size=3), st.booleans())
def test_native_ingestion_never_answers_5xx(t, events, batch):
    bodies = [event_with(t, fields) for fields in events]
    text = dumps({"events": bodies}) if batch else dumps(bodies[0])
    started = time.monotonic()
    r = t.owner.post("/v1/ingest/events", content=text.encode(), headers={"Content-Type": "application/json"})
    answered_well(r, started)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["transaction_id", "code", "timestamp", "properties", "precise_total_amount_cents"]),
        VALUES,
        min_size=1,
        max_size=3,
    )
)
def test_lago_ingestion_never_answers_5xx(t, fields):
    sent = {
        "transaction_id": "tx-fuzz",
        "code": t.m["event_name"],
        "external_customer_id": t.c["external_id"],
        "properties": {"credits": 1},
        **fields,
    }
    started = time.monotonic()
    r = t.lago.post(
        "/compat/lago/api/v1/events",
        content=dumps({"event": sent}).encode(),
        headers={"Content-Type": "application/json"},
    )
    answered_well(r, started)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["id", "type", "subject", "time", "data"]), VALUES, min_size=1, max_size=3))
def test_openmeter_ingestion_never_answers_5xx(t, fields):
    sent = {"specversion": "1.0", "id": "ce-fuzz", "source": "fuzz", "type": t.m["event_name"], **fields}
    started = time.monotonic()
    r = t.lago.post(
        "/compat/openmeter/api/v1/events",
        content=dumps(sent).encode(),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    answered_well(r, started)
