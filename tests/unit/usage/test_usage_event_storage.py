"""How a raw event is stored and read back (tollgate.adapters.dynamodb.usage_events), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.fakes.usage import stored
from tollgate.adapters.dynamodb.usage_events import _event_params, shard_of, stored_event_from_item

ATTRS = ("pk", "sk", "item_type", "customer_id", "meter_id", "fn", "value", "ts", "expires_at", "d")


def item_of(event) -> dict:
    params = _event_params(event, {"N": "1"}, "2026-11-01T10:00:00.000000Z")
    return dict(zip(ATTRS, params, strict=True))


def test_a_stored_event_reads_back_as_it_was_written():
    event = stored(properties_json='{"credits":2.50,"h":"x","note":"\\u0000dec:5"}', quantity=Decimal("1E+3"))
    back = stored_event_from_item(item_of(event))
    assert back.properties_json == event.properties_json and back.quantity == Decimal("1E+3")
    assert (back.event_id, back.tenant_id, back.payload_hash) == (event.event_id, event.tenant_id, event.payload_hash)
    assert back.timestamp == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_an_event_stored_with_the_old_in_band_marker_is_still_readable():
    # Before canonical JSON stopped marking decimals in-band, {"note": "\u0000dec:oops"} was stored as note:oops.
    item = item_of(stored(properties_json='{"h":1,"note":oops}'))
    back = stored_event_from_item(item)
    assert back.properties_json == '"{\\"h\\":1,\\"note\\":oops}"'  # kept as the text it is
    assert back.payload_hash == "h" and back.external_customer_id == "c1"


def test_the_shard_is_a_function_of_tenant_and_event_id():
    assert shard_of("ten_1", "e1") == shard_of("ten_1", "e1")
    assert item_of(stored())["pk"] == {"S": f"T#ten_1#EV#{shard_of('ten_1', 'e1'):02d}"}
