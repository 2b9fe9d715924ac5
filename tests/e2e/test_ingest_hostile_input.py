"""Issue 13 over HTTP, inside ingestion: hostile numbers, times, markers and strings answer a 4xx
problem+json (or a per-event rejection in a 202 batch) within a second, the server stays healthy, and
nothing is stored or half-stored."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import client
from tests.e2e.ingest_kit import event, fresh_tenant, ok, problem, unique
from tests.timing import assert_prompt

pytestmark = pytest.mark.e2e
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def t(server):
    tenant = fresh_tenant(server, "hostile input")
    tenant.m = tenant.meter()
    tenant.c = tenant.customer()
    # Warm the routes up (first calls load modules, on a machine shared with other test runs).
    tenant.send(event(tenant.c["external_id"], tenant.m["event_name"], 1))
    lago = client(server, tenant.owner_key, None)
    lago.post("/compat/lago/api/v1/events", json={"event": {"transaction_id": unique("tx"), "code": "warm"}})
    return tenant


def post(c: httpx.Client, path: str, text: str, headers=JSON) -> httpx.Response:
    """POST raw JSON text (hostile literals are not expressible through json=); answered within a second."""
    started = time.monotonic()
    r = c.post(path, content=text.encode("utf-8", "surrogatepass"), headers=headers)
    assert_prompt(time.monotonic() - started, path)
    return r


def healthy(t) -> None:
    assert httpx.get(f"{t.server.url}/health", timeout=1).status_code == 200


def stored_ids(t, external_customer_id: str) -> set[str]:
    return {
        e["event_id"]
        for e in t.log(external_customer_id=external_customer_id)
        if e["status"] in ("ACCEPTED", "LATE", "DUPLICATE")
    }


# -- class 1: numbers and times bounded before any conversion -------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ['"1e999999999"', "1e999999999", '"-1"', "253402300800", '"' + "9" * 4000 + '"', "9" * 4000],
    ids=["string-exponent", "number-exponent", "negative", "year-10000", "long-string", "long-number"],
)
def test_lago_timestamps_out_of_range_answer_invalid_timestamp_within_a_second(t, timestamp):
    lago = client(t.server, t.owner_key, None)
    tx = unique("tx")
    body = f'{{"event": {{"transaction_id": "{tx}", "code": "{t.m["event_name"]}", '
    body += (
        f'"external_customer_id": "{t.c["external_id"]}", "timestamp": {timestamp}, "properties": {{"credits": 1}}}}}}'
    )
    answer = problem(post(lago, "/compat/lago/api/v1/events", body), 422)
    assert answer["code"] == "INVALID_TIMESTAMP"
    healthy(t)
    assert tx not in stored_ids(t, t.c["external_id"])


@pytest.mark.parametrize(
    "quantity",
    ["1e1000000", "1e999999999", "9" * 4000, "1E+125", "-1000"],
    ids=["exponent-million", "exponent-billion", "long", "dynamodb-max", "negative"],
)
def test_a_single_event_with_a_quantity_billing_cannot_price_answers_400(t, quantity):
    eid = unique("evt")
    body = (
        f'{{"event_id": "{eid}", "event_name": "{t.m["event_name"]}", "external_customer_id": "{t.c["external_id"]}", '
    )
    body += f'"quantity": {quantity}, "properties": {{"credits": 1}}}}'
    answer = problem(post(t.owner, "/v1/ingest/events", body), 400)
    assert answer["code"] == "INVALID_QUANTITY" and answer["event_id"] == eid
    healthy(t)


def test_in_a_batch_only_the_events_billing_cannot_price_are_rejected(t):
    cust = t.customer()["external_id"]
    good = [event(cust, t.m["event_name"], 2) for _ in range(3)]
    bad = ["1E+125", "-1000", "1e99999", "0.0000000000000000001"]
    texts = [
        f'{{"event_id": "{unique("bad")}", "event_name": "{t.m["event_name"]}", "external_customer_id": "{cust}", '
        f'"properties": {{"credits": {n}}}}}'
        for n in bad
    ]
    import json as _json

    body = '{"events": [' + ", ".join([*(_json.dumps(g) for g in good), *texts]) + "]}"
    answer = ok(post(t.owner, "/v1/ingest/events", body), 202)
    assert answer["accepted"] == 3
    assert [r["code"] for r in answer["rejected"]] == [
        "AGGREGATION_FIELD_INVALID",
        "AGGREGATION_FIELD_INVALID",
        "INVALID_EVENT",
        "AGGREGATION_FIELD_INVALID",
    ]
    t.wait_usage(cust, t.m["event_name"], 6)
    healthy(t)


# -- class 2: negative values only on SUM meters that allow corrections ------------------------------------


def test_a_sum_meter_that_allows_corrections_takes_negative_values(t):
    m = t.meter(allow_negative=True)
    assert m["allow_negative"] is True
    assert t.meter()["allow_negative"] is False
    cust = t.customer()["external_id"]
    answer = t.send({"events": [event(cust, m["event_name"], 10), event(cust, m["event_name"], -3)]})
    assert answer["accepted"] == 2
    t.wait_usage(cust, m["event_name"], 7)
    patched = ok(t.owner.patch(f"/v1/meters/{m['id']}", json={"allow_negative": False}))
    assert patched["allow_negative"] is False
    assert ok(t.owner.get(f"/v1/meters/{m['id']}"))["allow_negative"] is False
    rejected = t.send({"events": [event(cust, m["event_name"], -1)]})
    assert [r["code"] for r in rejected["rejected"]] == ["AGGREGATION_FIELD_INVALID"]


def test_allow_negative_is_refused_on_other_meters(t):
    r = t.owner.post(
        "/v1/meters",
        json={
            "event_name": unique("m"),
            "aggregation": {"function": "MAX", "field": "properties.x"},
            "allow_negative": True,
        },
    )
    assert problem(r, 422)["field"] == "allow_negative"


# -- class 3: no in-band markers ------------------------------------------------------------------------


def test_strings_that_look_like_decimal_markers_round_trip_and_the_event_log_stays_readable(t):
    cust = t.customer()["external_id"]
    sent = [
        event(cust, t.m["event_name"], 1, properties={"credits": 1, "note": "\u0000dec:oops"}),
        event(cust, t.m["event_name"], 1, properties={"credits": 2, "note": "\u0000dec:5"}),
    ]
    assert t.send({"events": sent})["accepted"] == 2
    assert t.send({"events": sent})["duplicates"] == 2  # a resend compares the stored payloads
    log = t.log(external_customer_id=cust)
    notes = {e["event_id"]: e["properties"]["note"] for e in log if e["status"] == "ACCEPTED"}
    assert notes == {sent[0]["event_id"]: "\u0000dec:oops", sent[1]["event_id"]: "\u0000dec:5"}
    assert ok(t.owner.get("/v1/ingest/events")).get("data") is not None  # the whole tenant's log too
    healthy(t)


# -- class 5: strings that cannot be stored, judged event by event ---------------------------------------


def test_a_batch_with_lone_surrogates_stores_the_rest_and_can_be_resent(t):
    import json as _json

    cust = t.customer()["external_id"]
    batch = [event(cust, t.m["event_name"], 1) for _ in range(30)]
    batch[3]["event_id"] = "\udc00x"
    batch[9]["external_customer_id"] = "\udc00x"
    batch[15]["event_name"] = "\udc00x"
    batch[21]["properties"] = {"credits": 1, "\udc00x": 1}
    batch[27]["properties"] = {"credits": 1, "note": "\udc00x"}
    body = _json.dumps({"events": batch})  # ASCII: the surrogates travel as \udc00 escapes
    answer = ok(post(t.owner, "/v1/ingest/events", body), 202)
    assert answer["accepted"] == 25
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(n, "INVALID_EVENT") for n in (3, 9, 15, 21, 27)]
    again = ok(post(t.owner, "/v1/ingest/events", body), 202)
    assert (again["accepted"], again["duplicates"], len(again["rejected"])) == (0, 25, 5)
    t.wait_usage(cust, t.m["event_name"], 25)
    log = t.log(external_customer_id=cust, limit=500)
    assert sum(1 for e in log if e["status"] == "ACCEPTED") == 25
    ok(t.owner.get("/v1/ingest/events", params={"status": "REJECTED", "limit": 100}))
    healthy(t)


def test_the_compat_routes_judge_lone_surrogates_too(t):
    import json as _json

    lago = client(t.server, t.owner_key, None)
    tx = unique("tx")
    sent = {
        "transaction_id": tx,
        "code": t.m["event_name"],
        "external_customer_id": t.c["external_id"],
        "properties": {"credits": 1, "\udc00": 2},
        "precise_total_amount_cents": "\udc00",
    }
    answer = problem(post(lago, "/compat/lago/api/v1/events", _json.dumps({"event": sent})), 422)
    assert answer["code"] == "INVALID_EVENT" and "cannot be stored" in answer["detail"]
    openmeter = {"specversion": "1.0", "id": "\udc00", "source": "x", "type": t.m["event_name"], "subject": "c"}
    answer = problem(post(lago, "/compat/openmeter/api/v1/events", _json.dumps(openmeter)), 400)
    assert answer["code"] == "INVALID_EVENT"
    healthy(t)


# -- class 8: booleans are not numbers; every setting bounded -----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"retention_days": True},
        {"rate_limit_per_second": False},
        {"retention_days": "5"},
        {"retention_days": 5.0},
        {"retention_days": 3651},
        {"key_rate_limit_per_second": 0},
        {"rate_limit_per_second": 10**30},
    ],
    ids=["true", "false", "string", "float", "above", "zero", "huge"],
)
def test_ingest_settings_refuse_what_is_not_a_whole_number_in_range(t, body):
    own = fresh_tenant(t.server, "settings")
    before = ok(own.owner.get("/v1/ingest/settings"))
    started = time.monotonic()
    r = own.owner.put("/v1/ingest/settings", json=body)
    assert_prompt(time.monotonic() - started)
    assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json", r.text
    assert ok(own.owner.get("/v1/ingest/settings")) == before


# -- times in queries bounded -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/ingest/events", {"to": "0001-01-01T00:00:00Z"}),
        ("/v1/ingest/events", {"from": "9999-12-31T23:00:00Z", "to": "9999-12-31T23:59:59Z"}),
        ("/v1/usage", {"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T23:59:59Z", "window": "MONTH"}),
        ("/v1/usage", {"from": "0001-01-01T00:00:00Z", "to": "0001-01-01T05:00:00Z", "window": "HOUR"}),
    ],
    ids=["log-year-1", "log-year-9999", "usage-year-9999", "usage-year-1"],
)
def test_query_times_outside_1970_to_9998_answer_422(t, path, params):
    params = {"external_customer_id": t.c["external_id"], "event_name": t.m["event_name"], **params}
    started = time.monotonic()
    r = t.owner.get(path, params=params)
    assert_prompt(time.monotonic() - started)
    assert problem(r, 422)["field"] in ("from", "to")
    healthy(t)


def test_an_oversized_unique_count_value_is_rejected_and_the_rest_counted(t):
    m = t.meter(function="UNIQUE_COUNT", field="properties.user")
    cust = t.customer()["external_id"]
    users = ["u" * 256, "u" * 257, "é" * 129, "x"]
    sent = [{**event(cust, m["event_name"]), "properties": {"user": u}} for u in users]
    answer = t.send({"events": sent})
    assert answer["accepted"] == 2
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [
        (1, "AGGREGATION_FIELD_INVALID"),
        (2, "AGGREGATION_FIELD_INVALID"),
    ]
    t.wait_usage(cust, m["event_name"], 2)
