"""The pure rules of an event (tollgate.domain.usage): shape, aliases, defaults, the timestamp windows,
exact numbers, the server-assigned id and payload hash, and the meter's rules (filters, aggregation field)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tollgate.adapters.dynamodb.usage_events import shard_of
from tollgate.domain.catalog.meters import new_meter
from tollgate.domain.usage.events import Code, IncomingEvent, Rejection
from tollgate.domain.usage.measure import measure
from tollgate.domain.usage.parsing import canonical_json, parse_event

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def parse(raw, now=NOW) -> IncomingEvent:
    out = parse_event(raw, 0, now)
    assert isinstance(out, IncomingEvent), out
    return out


def reject(raw, now=NOW) -> Rejection:
    out = parse_event(raw, 3, now)
    assert isinstance(out, Rejection), out
    assert out.index == 3 and out.detail
    return out


def rfc(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def meter(function="SUM", field="properties.credits", **data):
    aggregation = {"function": function} | ({"field": field} if field else {})
    return new_meter(
        meter_id="mtr_1",
        tenant_id="ten_1",
        data={"event_name": "model.usage", "aggregation": aggregation, **data},
        at=NOW,
    )


# -- shape and aliases --------------------------------------------------------------------------------


def test_seed_000_field_names_are_accepted_as_shown():
    e = parse({"customerId": "cust_123", "metricId": "api.calls", "quantity": 1, "timestamp": "2026-11-21T10:00:00Z"})
    assert (e.external_customer_id, e.event_name, e.quantity) == ("cust_123", "api.calls", Decimal(1))
    assert e.timestamp == datetime(2026, 11, 21, 10, tzinfo=UTC)


def test_seed_001_payload_is_accepted_as_shown_with_defaults():
    e = parse({"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": 2}})
    assert e.quantity == 1 and e.timestamp == NOW and e.properties == {"credits": 2} and e.id_assigned


def test_two_names_of_one_field_must_agree():
    assert parse({"event_name": "a", "metricId": "a", "customerId": "c"}).event_name == "a"
    assert reject({"event_name": "a", "metricId": "b", "customerId": "c"}).code is Code.INVALID_EVENT


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not an object", Code.INVALID_EVENT),
        ({"external_customer_id": "c"}, Code.MISSING_EVENT_NAME),
        ({"event_name": "", "external_customer_id": "c"}, Code.MISSING_EVENT_NAME),
        ({"event_name": "a", "event_id": 12}, Code.INVALID_EVENT),
        ({"event_name": "a", "external_customer_id": 12}, Code.INVALID_EVENT),
        ({"event_name": "a", "properties": [1]}, Code.INVALID_EVENT),
        ({"event_name": "a", "quantity": "1"}, Code.INVALID_QUANTITY),
        ({"event_name": "a", "quantity": True}, Code.INVALID_QUANTITY),
        ({"event_name": "a", "quantity": Decimal("1E+200")}, Code.INVALID_QUANTITY),
        ({"event_name": "a", "timestamp": 1700000000}, Code.INVALID_TIMESTAMP),
        ({"event_name": "a", "timestamp": "2026-11-21T10:00:00"}, Code.INVALID_TIMESTAMP),
        ({"event_name": "a", "timestamp": "yesterday"}, Code.INVALID_TIMESTAMP),
        ({"event_name": "a", "properties": {"blob": "x" * 20_000}}, Code.EVENT_TOO_LARGE),
    ],
)
def test_malformed_events_have_their_own_code(raw, code):
    assert reject(raw).code is code


# -- the timestamp windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "outcome"),
    [
        (timedelta(days=90, seconds=1), Code.TIMESTAMP_TOO_OLD),
        (timedelta(days=90), "LATE"),
        (timedelta(hours=24), "LATE"),
        (timedelta(hours=24) - timedelta(seconds=1), "ON TIME"),
        (timedelta(0), "ON TIME"),
        (-timedelta(minutes=5), "ON TIME"),
        (-timedelta(minutes=5, seconds=1), Code.TIMESTAMP_IN_FUTURE),
    ],
)
def test_90_days_old_5_minutes_ahead_and_24_hours_late(age, outcome):
    out = parse_event({"event_name": "a", "customerId": "c", "timestamp": rfc(NOW - age)}, 0, NOW)
    if isinstance(outcome, Code):
        assert isinstance(out, Rejection) and out.code is outcome
    else:
        assert isinstance(out, IncomingEvent) and out.late is (outcome == "LATE")


def test_clock_skew_detail_says_how_far_ahead_and_what_to_do():
    r = reject({"event_name": "a", "timestamp": rfc(NOW + timedelta(minutes=30))})
    assert "30 min in the future" in r.detail and "NTP" in r.detail


# -- numbers, ids and hashes ---------------------------------------------------------------------------


def test_numbers_stay_exact_decimals():
    raw = json.loads('{"event_name": "a", "quantity": 0.1, "properties": {"v": 1.10, "n": 3}}', parse_float=Decimal)
    e = parse(raw)
    assert e.quantity == Decimal("0.1") and isinstance(e.quantity, Decimal)
    assert e.properties_json == '{"n":3,"v":1.10}'  # written back as the number sent, never through a float


def test_canonical_json_sorts_keys_and_keeps_decimal_text():
    assert (
        canonical_json({"b": Decimal("2.50"), "a": [1, Decimal("1E+3")], "c": True})
        == '{"a":[1,1E+3],"b":2.50,"c":true}'
    )
    assert canonical_json({"b": 1, "a": 2}, sort_keys=False) == '{"b":1,"a":2}'


def test_without_event_id_each_event_is_new_with_a_server_assigned_id():
    """Issue 18: three identical events without event_id are three events (seed 001 sends one per API call)."""
    a = parse({"event_name": "m", "customerId": "c", "properties": {"x": 1, "y": 2}})
    b = parse({"customerId": "c", "properties": {"y": 2, "x": 1}, "event_name": "m"}, now=NOW + timedelta(seconds=30))
    assert a.id_assigned and b.id_assigned and a.event_id != b.event_id and a.event_id.startswith("evt_")
    assert a.payload_hash == b.payload_hash  # the payload hash (idempotency conflicts) is still the payload's


def test_the_payload_hash_ignores_the_id_and_equivalent_timestamp_spellings():
    a = parse({"event_id": "1", "event_name": "m", "customerId": "c", "timestamp": "2026-11-21T10:00:00Z"})
    b = parse({"event_id": "2", "event_name": "m", "customerId": "c", "timestamp": "2026-11-21T11:00:00+01:00"})
    assert a.payload_hash == b.payload_hash and not a.id_assigned
    assert parse({"event_id": "1", "event_name": "m", "customerId": "d"}).payload_hash != a.payload_hash


def test_one_customers_10k_events_per_second_spread_over_at_least_10_partition_keys():
    shards = {shard_of("ten_1", f"evt-{i}") for i in range(10_000)}
    assert len(shards) >= 10
    assert shard_of("ten_1", "evt-1") == shard_of("ten_1", "evt-1")


# -- the meter's rules ------------------------------------------------------------------------------------


def event(**properties) -> IncomingEvent:
    return parse({"event_name": "model.usage", "customerId": "c", "properties": properties, "quantity": 3})


def test_count_counts_events_and_quantity_can_be_the_field():
    assert measure(event(), meter("COUNT", None)) == 1
    assert measure(event(), meter("SUM", "quantity")) == 3


def test_aggregation_field_missing_names_what_the_event_has():
    r = measure(event(tokens=2), meter())
    assert isinstance(r, Rejection) and r.code is Code.AGGREGATION_FIELD_MISSING
    assert "properties.credits" in r.detail and "'tokens'" in r.detail
    bare = parse({"event_name": "model.usage", "customerId": "c"})
    assert "it has no properties" in measure(bare, meter()).detail
    top = parse({"event_name": "model.usage", "customerId": "c", "credits": 2})
    assert "top level" in measure(top, meter()).detail


@pytest.mark.parametrize("function", ["SUM", "MAX", "AVG", "LATEST"])
@pytest.mark.parametrize("value", ["2", True, None, {"n": 2}, [2]])
def test_numeric_aggregations_reject_anything_but_a_json_number(function, value):
    r = measure(event(credits=value), meter(function))
    assert isinstance(r, Rejection) and r.code is Code.AGGREGATION_FIELD_NOT_NUMERIC


def test_a_numeric_string_gets_the_fix_spelled_out():
    r = measure(event(credits="2"), meter())
    assert "the string '2'" in r.detail and "credits: 2 (no quotes)" in r.detail


def test_nested_property_paths_and_exact_values():
    m = new_meter(
        meter_id="mtr_2",
        tenant_id="ten_1",
        data={"event_name": "model.usage", "aggregation": {"function": "SUM", "field": "properties.usage.tokens"}},
        at=NOW,
    )
    assert measure(event(usage={"tokens": Decimal("1.5")}), m) == Decimal("1.5")


def test_unique_count_takes_strings_and_numbers_in_canonical_form():
    m = meter("UNIQUE_COUNT", "properties.user")
    assert measure(event(user="u1"), m) == "u1"
    assert measure(event(user=7), m) == measure(event(user=Decimal("7.0")), m) == "7"
    r = measure(event(user={"id": 1}), m)
    assert isinstance(r, Rejection) and r.code is Code.AGGREGATION_FIELD_INVALID


def test_filters_not_matching_are_rejected_with_what_was_expected():
    m = meter(filters={"model": "gpt-4"})
    assert measure(event(credits=1, model="gpt-4"), m) == 1
    r = measure(event(credits=1, model="gpt-3"), m)
    assert r.code is Code.FILTER_NOT_MATCHED and "model='gpt-4'" in r.detail and "model='gpt-3'" in r.detail


# -- canonical JSON: byte-stable, nothing marked in-band (issue 13 class 3) ----------------------------

# Payload hashes computed with the encoder of before this change (in-band "\u0000dec:" markers), written as
# the ids once derived from them ("evt_" + hash; since issue 18 an event without event_id gets a new id):
# every payload without such a string must keep its hash, or an event_id resent after the upgrade would be
# refused as IDEMPOTENCY_CONFLICT instead of counted once as a DUPLICATE.
PINNED_DERIVED_IDS = [
    (
        '{"external_customer_id":"c1","event_name":"model.usage","timestamp":"2026-11-20T10:00:00Z"}',
        "evt_8754b5d2eee96664f011d301a3fff23d",
    ),
    (
        '{"external_customer_id":"c1","event_name":"model.usage","timestamp":"2026-11-20T10:00:00Z","quantity":2.50,'
        '"properties":{"tokens":1200,"rate":0.125,"model":"gpt-4","nested":{"b":[1,2.0,"x"],"a":null,"t":true}}}',
        "evt_c3b2a5ad26bac58fbe0473ad7e0460b6",
    ),
    (
        '{"external_customer_id":"cust_é","event_name":"api.calls","timestamp":"2026-11-20T11:59:59.123+01:00",'
        '"quantity":1E+3,"properties":{"ünïcode":"日本","big":123456789012345678,"exp":1.5e-7}}',
        "evt_0f5628d6286926e8f3c389c452cc709f",
    ),
    (
        '{"customerId":"c2","metricId":"model.usage","timestamp":"2026-11-20T10:00:00Z","quantity":7}',
        "evt_98f22afbc0751d5c6fbe4adb8b29d304",
    ),
]


@pytest.mark.parametrize(("body", "derived_id"), PINNED_DERIVED_IDS)
def test_payload_hashes_are_the_ones_computed_before_the_encoder_changed(body, derived_id):
    e = parse(json.loads(body, parse_float=Decimal), now=datetime(2026, 11, 20, 12, tzinfo=UTC))
    assert f"evt_{e.payload_hash}" == derived_id


@pytest.mark.parametrize("text", ["\u0000dec:oops", "\u0000dec:5", 'x"\u0000dec:1"', "\\u0000dec:2"])
def test_strings_that_look_like_markers_stay_strings(text):
    properties = {"note": text, "n": [Decimal("2.50"), {"k": text}]}
    encoded = canonical_json(properties)
    assert json.loads(encoded, parse_float=Decimal) == properties
    assert parse({"event_name": "a", "external_customer_id": "c", "properties": properties}).properties_json == encoded


def test_canonical_json_is_json_dumps_when_there_is_no_decimal():
    tree = {"b": [1, True, None, "é\u2028\n"], "a": {"z": -0, "y": 1.5}, "c": ""}
    expected = json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json({**tree, "d": Decimal("1")}) == expected[:-1] + ',"d":1}'
    assert canonical_json(tree) == expected


# -- unicode: a string that cannot be stored rejects its event, naming the field (issue 13 class 5) ----

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)


def _storable_text(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=1000)
@given(
    st.sampled_from(["event_id", "external_customer_id", "event_name", "property key", "property value"]),
    ANY_TEXT,
)
def test_a_string_with_any_code_point_is_stored_or_rejected_with_nothing_unstorable(where, text):
    raw = {"event_id": "e1", "event_name": "model.usage", "external_customer_id": "c", "properties": {"k": "v"}}
    if where == "property key":
        raw["properties"] = {text: 1}
    elif where == "property value":
        raw["properties"] = {"k": [text]}
    else:
        raw[where] = text
    out = parse_event(raw, 0, NOW)
    if isinstance(out, Rejection):
        assert _storable_text([out.detail, out.event_id, out.external_customer_id, out.event_name])
        if not _storable_text(text):
            assert out.code is Code.INVALID_EVENT and "cannot be stored" in out.detail
            assert ("propert" if where.startswith("property") else where) in out.detail
    else:
        assert _storable_text([out.event_id, out.external_customer_id, out.event_name, out.properties_json])


@pytest.mark.parametrize("field", ["event_id", "external_customer_id", "event_name"])
def test_a_lone_surrogate_rejects_the_event_and_names_the_field(field):
    raw = {"event_id": "e1", "event_name": "model.usage", "external_customer_id": "c", field: "\udc00x"}
    r = reject(raw)
    assert r.code is Code.INVALID_EVENT and r.detail.startswith(field) and "U+DC00" in r.detail
    assert getattr(r, field) is None  # never echoed where it would be stored


def test_a_lone_surrogate_in_a_property_key_is_named_by_its_place():
    r = reject({"event_name": "model.usage", "external_customer_id": "c", "properties": {"a": {"\udc00x": 1}}})
    assert r.code is Code.INVALID_EVENT and "property key in properties.a" in r.detail


def test_the_future_timestamp_detail_says_the_real_skew_and_the_limit():
    ahead = NOW + timedelta(minutes=6, seconds=30)
    out = parse_event({"event_name": "a", "customerId": "c", "timestamp": rfc(ahead)}, 0, NOW)
    assert isinstance(out, Rejection) and out.code is Code.TIMESTAMP_IN_FUTURE
    assert "is 6 min 30 s in the future" in out.detail and "more than 5 min in the future" in out.detail
