"""Checking a usage event against its meter, and the value the meter counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tollgate.domain.catalog.meters import AggregationFunction, Meter
from tollgate.domain.usage.events import MAX_DISTINCT_VALUE_LENGTH, Code, IncomingEvent, Rejection, decimal_text
from tollgate.domain.usage.numbers import NUMBER_DOMAIN, billable_number, is_number
from tollgate.domain.usage.parsing import shown


# -- the meter -------------------------------------------------------------------------------------
def meter_not_found(event: IncomingEvent, similar: Iterable[Meter]) -> Rejection:
    candidates = sorted({m.event_name for m in similar if m.event_name != event.event_name})
    hint = (
        f" Did you mean {' or '.join(repr(c) for c in candidates)}? Event names are case-sensitive."
        if candidates
        else (" Check the meter's exact event name (GET /v1/meters) or create the meter (POST /v1/meters).")
    )
    return Rejection(
        event.index,
        Code.METER_NOT_FOUND,
        f"metric not found: no active meter (billable unit) has the event name {event.event_name!r}.{hint}",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )


def meter_archived(event: IncomingEvent, meter: Meter) -> Rejection:
    return Rejection(
        event.index,
        Code.METER_ARCHIVED,
        f"meter {meter.meter_id} ({meter.event_name!r}) is archived, so its events are not counted. Activate it "
        f"(POST /v1/meters/{meter.meter_id}/activate) and send the event again.",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )


def _lookup(properties: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    value: Any = properties
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def unique_key(value: Any) -> str:
    """The text a UNIQUE_COUNT value is counted by: a string as is, a number in canonical form (2 == 2.0)."""
    return value if isinstance(value, str) else decimal_text(Decimal(value))


def _reject(event: IncomingEvent, code: Code, detail: str) -> Rejection:
    return Rejection(
        event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
    )


def measure(event: IncomingEvent, meter: Meter) -> Decimal | str | Rejection:
    """What the event adds to ``meter``: the number to aggregate (the unique value for UNIQUE_COUNT),
    or why it cannot count. Every number counted is one the pricing engine accepts; a negative one only
    on a SUM meter that allows corrections (``allow_negative``)."""
    if not meter.matches(event.event_name, event.properties):
        wanted = ", ".join(f"{k}={v!r}" for k, v in sorted(meter.filters.items()))
        actual = ", ".join(f"{k}={_lookup(event.properties, k)[1]!r}" for k in sorted(meter.filters))
        return _reject(
            event,
            Code.FILTER_NOT_MATCHED,
            f"meter {meter.meter_id} ({meter.event_name!r}) only counts events whose properties have {wanted}; "
            f"this event has {actual}. Fix the properties, or change the meter's filters.",
        )
    if event.quantity < 0 and not meter.allow_negative:
        return _reject(event, Code.INVALID_QUANTITY, _negative_detail(meter, "quantity", event.quantity))
    function, agg_field = meter.aggregation.function, meter.aggregation.field
    if function is AggregationFunction.COUNT or agg_field is None:  # only COUNT has no field
        return Decimal(1)
    if agg_field == "quantity":
        return event.quantity
    value = _field_value(event, meter, agg_field)
    if isinstance(value, Rejection):
        return value
    if function is AggregationFunction.UNIQUE_COUNT:
        return _distinct_value(event, meter, agg_field, value)
    return _number(event, meter, agg_field, value)


def _field_value(event: IncomingEvent, meter: Meter, agg_field: str) -> Any:
    path = agg_field.removeprefix("properties.")
    present, value = _lookup(event.properties, path)
    if present:
        return value
    have = sorted(event.properties)
    top = path.split(".")[0]
    where = f"its properties have {', '.join(repr(k) for k in have)}" if have else "it has no properties"
    hint = f" ({top!r} was sent at the top level: move it into properties)" if top in event.top_level_keys else ""
    return _reject(
        event,
        Code.AGGREGATION_FIELD_MISSING,
        f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {meter.aggregation.function.value} of "
        f'{agg_field}, but {where}{hint}. Send it, e.g. "properties": {{"{top}": 2}}.',
    )


def _distinct_value(event: IncomingEvent, meter: Meter, agg_field: str, value: Any) -> str | Rejection:
    if not (isinstance(value, str) or is_number(value)):
        return _reject(
            event,
            Code.AGGREGATION_FIELD_INVALID,
            f"meter {meter.meter_id} counts unique values of {agg_field}: send a string or a number, "
            f"not {_json_kind(value)}.",
        )
    key = unique_key(value)
    size = len(key.encode("utf-8", "surrogatepass"))
    if not key or size > MAX_DISTINCT_VALUE_LENGTH:
        return _reject(
            event,
            Code.AGGREGATION_FIELD_INVALID,
            f"meter {meter.meter_id} counts unique values of {agg_field}: a value takes 1 to "
            f"{MAX_DISTINCT_VALUE_LENGTH} bytes (UTF-8), this one {size}. Send an id, not a document.",
        )
    return key


def _number(event: IncomingEvent, meter: Meter, agg_field: str, value: Any) -> Decimal | Rejection:
    function = meter.aggregation.function
    if not is_number(value):
        example = f"{value}" if isinstance(value, str) and _looks_numeric(value) else "2"
        return _reject(
            event,
            Code.AGGREGATION_FIELD_NOT_NUMERIC,
            f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {function.value} of {agg_field}, "
            f"which must be a JSON number; this event sends {_json_kind(value)} {shown(value)}. "
            f"Send {agg_field.split('.')[-1]}: {example} (no quotes).",
        )
    number = billable_number(value)
    if number is None:
        return _reject(
            event,
            Code.AGGREGATION_FIELD_INVALID,
            f"meter {meter.meter_id} aggregates {function.value} of {agg_field}, which must be {NUMBER_DOMAIN} "
            f"(what billing can price); this event sends {shown(value)}.",
        )
    if number < 0 and not meter.allow_negative:
        return _reject(event, Code.AGGREGATION_FIELD_INVALID, _negative_detail(meter, agg_field, number))
    return number


def _negative_detail(meter: Meter, name: str, value: Decimal) -> str:
    if meter.aggregation.function is AggregationFunction.SUM:
        fix = (
            "to send corrections, allow them on the meter "
            f'(PATCH /v1/meters/{meter.meter_id} {{"allow_negative": true}})'
        )
    else:
        fix = f"only SUM meters take negative values (corrections); {meter.aggregation.function.value} does not"
    return (
        f"{name} is negative ({value}): meter {meter.meter_id} ({meter.event_name!r}) counts no negative values; {fix}."
    )


def _looks_numeric(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "the string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a number"
