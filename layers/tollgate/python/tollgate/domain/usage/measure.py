"""Checking a usage event against its meter, and the value the meter counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tollgate.domain.catalog.meters import AggregationFunction, Meter
from tollgate.domain.usage.events import (
    Code,
    IncomingEvent,
    Rejection,
    decimal_text,
    is_number,
    storable_number,
)


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


def measure(event: IncomingEvent, meter: Meter) -> Decimal | str | Rejection:
    """What the event adds to ``meter``: the number to aggregate (the unique value for UNIQUE_COUNT),
    or why it cannot count."""

    def reject(code: Code, detail: str) -> Rejection:
        return Rejection(
            event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
        )

    if not meter.matches(event.event_name, event.properties):
        wanted = ", ".join(f"{k}={v!r}" for k, v in sorted(meter.filters.items()))
        actual = ", ".join(f"{k}={_lookup(event.properties, k)[1]!r}" for k in sorted(meter.filters))
        return reject(
            Code.FILTER_NOT_MATCHED,
            f"meter {meter.meter_id} ({meter.event_name!r}) only counts events whose properties have {wanted}; "
            f"this event has {actual}. Fix the properties, or change the meter's filters.",
        )
    function, agg_field = meter.aggregation.function, meter.aggregation.field
    if function is AggregationFunction.COUNT or agg_field is None:  # only COUNT has no field
        return Decimal(1)
    if agg_field == "quantity":
        value: Any = event.quantity
    else:
        path = agg_field.removeprefix("properties.")
        present, value = _lookup(event.properties, path)
        if not present:
            have = sorted(event.properties)
            top = path.split(".")[0]
            where = f"its properties have {', '.join(repr(k) for k in have)}" if have else "it has no properties"
            hint = (
                f" ({top!r} was sent at the top level: move it into properties)" if top in event.top_level_keys else ""
            )
            return reject(
                Code.AGGREGATION_FIELD_MISSING,
                f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {function.value} of {agg_field}, "
                f"but {where}{hint}. "
                f'Send it, e.g. "properties": {{"{top}": 2}}.',
            )
    if function is AggregationFunction.UNIQUE_COUNT:
        if isinstance(value, str) or is_number(value):
            return unique_key(value)
        return reject(
            Code.AGGREGATION_FIELD_INVALID,
            f"meter {meter.meter_id} counts unique values of {agg_field}: send a string or a number, "
            f"not {_json_kind(value)}.",
        )
    number = storable_number(value) if is_number(value) else None
    if number is None:
        example = f"{value}" if isinstance(value, str) and _looks_numeric(value) else "2"
        return reject(
            Code.AGGREGATION_FIELD_NOT_NUMERIC,
            f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {function.value} of {agg_field}, "
            "which must be a JSON number; "
            f"this event sends {_json_kind(value)} {value!r}. Send {agg_field.split('.')[-1]}: {example} (no quotes).",
        )
    return number


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
