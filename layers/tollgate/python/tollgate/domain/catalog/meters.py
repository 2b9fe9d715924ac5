"""Meters (a.k.a. billable units, metrics, features): how usage events become a billable quantity.

A meter says which events count and how (seed 001, "Check Feature Configuration"):

- ``event_name``: matched exactly and case-sensitively (``model.usage`` is not ``Model.Usage``).
  Unique per tenant among ACTIVE meters.
- ``aggregation``: a function over a field of the event. COUNT counts events and takes no field;
  SUM, MAX, UNIQUE_COUNT, LATEST and AVG need one: ``quantity`` (the event's quantity) or a
  property path such as ``properties.tokens`` (``properties.usage.tokens`` for nested objects).
- ``filters``: optional exact-match conditions on event properties, ``{"model": "gpt-4"}``.
- ``usage_reset``: PERIODIC (usage restarts each billing period) or CUMULATIVE (keeps growing).
- ``allow_negative`` (SUM only, default false): whether events may carry negative values, i.e.
  corrections of usage sent before. Other meters, and SUM meters without it, reject negative values
  (INVALID_QUANTITY / AGGREGATION_FIELD_INVALID). It can be changed at any time (it decides what
  ingestion accepts from then on, not how stored usage is priced).
- ``status``: ACTIVE or ARCHIVED. Events for an archived meter are not billed; reactivate it.

Lifecycle (``METER_TRANSITIONS``; anything else is a 409 Conflict)::

    ACTIVE   --update-->   ACTIVE
    ACTIVE   --archive-->  ARCHIVED
    ARCHIVED --activate--> ACTIVE

Once a PUBLISHED plan version uses a meter (``published_in``), its definition (event name,
aggregation, filters, usage reset) is locked: changing it would change what existing subscribers
are billed. Create a new meter instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import MAX_DESCRIPTION, optional_text, scalar, text, transition
from tollgate.domain.errors import Conflict, InvalidInput


class AggregationFunction(StrEnum):
    COUNT = "COUNT"
    SUM = "SUM"
    MAX = "MAX"
    UNIQUE_COUNT = "UNIQUE_COUNT"
    LATEST = "LATEST"
    AVG = "AVG"


class UsageReset(StrEnum):
    PERIODIC = "PERIODIC"
    CUMULATIVE = "CUMULATIVE"


class MeterStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class MeterAction(StrEnum):
    UPDATE = "update"
    ARCHIVE = "archive"
    ACTIVATE = "activate"


METER_TRANSITIONS: dict[tuple[MeterStatus, MeterAction], MeterStatus] = {
    (MeterStatus.ACTIVE, MeterAction.UPDATE): MeterStatus.ACTIVE,
    (MeterStatus.ACTIVE, MeterAction.ARCHIVE): MeterStatus.ARCHIVED,
    (MeterStatus.ARCHIVED, MeterAction.ACTIVATE): MeterStatus.ACTIVE,
}

_REFUSALS = {
    (MeterStatus.ACTIVE, MeterAction.ACTIVATE): "it is already active",
    (MeterStatus.ARCHIVED, MeterAction.ARCHIVE): "it is already archived",
    (MeterStatus.ARCHIVED, MeterAction.UPDATE): "archived meters cannot be edited; activate it first",
}

MAX_EVENT_NAME = 200
MAX_FILTERS = 20
QUANTITY = "quantity"
_PROPERTY_PATH = re.compile(r"properties(\.[^.\s]+){1,8}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The fields that decide what a meter bills; locked while a published plan version uses the meter.
DEFINITION = ("event_name", "aggregation", "filters", "usage_reset")
EDITABLE = frozenset({"name", "description", "code", "allow_negative", *DEFINITION})


@dataclass(frozen=True)
class Aggregation:
    function: AggregationFunction
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function.value, "field": self.field}

    @property
    def path(self) -> tuple[str, ...]:
        """The field as a path into the event: ``("quantity",)`` or ``("properties", "tokens")``."""
        return tuple(self.field.split(".")) if self.field else ()


@dataclass(frozen=True)
class PlanVersionRef:
    """A plan version that uses a meter."""

    plan_id: str
    version: int

    def __str__(self) -> str:
        return f"plan {self.plan_id} version {self.version}"

    @property
    def key(self) -> str:
        return f"{self.plan_id}#{self.version}"

    @classmethod
    def from_key(cls, key: str) -> PlanVersionRef:
        plan_id, _, version = key.rpartition("#")
        return cls(plan_id, int(version))


@dataclass(frozen=True)
class Meter:
    meter_id: str
    tenant_id: str
    name: str
    event_name: str
    aggregation: Aggregation
    created_at: datetime
    updated_at: datetime
    usage_reset: UsageReset = UsageReset.PERIODIC
    filters: dict[str, str | int | bool] = field(default_factory=dict)
    code: str | None = None
    description: str = ""
    status: MeterStatus = MeterStatus.ACTIVE
    published_in: frozenset[PlanVersionRef] = frozenset()
    archived_at: datetime | None = None
    revision: int = 1  # bumped by every save; a save is conditional on the revision it replaces
    allow_negative: bool = False  # SUM only: negative values (corrections) accepted

    @property
    def subject(self) -> str:
        return f"Meter {self.meter_id}"

    def matches(self, event_name: str, properties: Mapping[str, Any] | None = None) -> bool:
        """Whether an event counts for this meter: exact, case-sensitive name and every filter equal."""
        if event_name != self.event_name:
            return False
        props = properties or {}
        return all(_same(_lookup(props, key), value) for key, value in self.filters.items())

    def apply(self, action: MeterAction, at: datetime) -> Meter:
        status = transition(METER_TRANSITIONS, self.status, action, subject=self.subject, refusals=_REFUSALS)
        return replace(
            self,
            status=status,
            updated_at=at,
            archived_at={MeterAction.ARCHIVE: at, MeterAction.ACTIVATE: None}.get(action, self.archived_at),
        )

    def edited(self, changes: Mapping[str, Any], at: datetime) -> Meter:
        """Apply a PATCH. Definition fields that actually change are refused (409) while a published
        plan version uses the meter."""
        unknown = set(changes) - EDITABLE
        if unknown:
            name = min(unknown)
            raise InvalidInput(f"{name} cannot be changed", field=name)
        updated = self.apply(MeterAction.UPDATE, at)
        values = _validated({**_editable(self), **changes})
        changed = [name for name in DEFINITION if values[name] != getattr(self, name)]
        if changed and self.published_in:
            users = sorted(self.published_in, key=lambda r: (r.plan_id, r.version))
            raise Conflict(
                f"{self.subject} is used by published {users[0]}"
                + (f" (and {len(users) - 1} more)" if len(users) > 1 else "")
                + f"; its {', '.join(changed)} cannot change. Published versions are immutable: create a new "
                "meter and a new plan version that uses it.",
                code="METER_IN_USE",
                plan_id=users[0].plan_id,
                version=users[0].version,
            )
        return replace(updated, **values)

    def used_by(self, ref: PlanVersionRef) -> Meter:
        return replace(self, published_in=self.published_in | {ref})

    def released_by(self, ref: PlanVersionRef) -> Meter:
        return replace(self, published_in=self.published_in - {ref})


def _lookup(properties: Mapping[str, Any], dotted: str) -> Any:
    value: Any = properties
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING = object()


def _same(actual: Any, wanted: str | int | bool) -> bool:
    """Exact equality, except that booleans never equal numbers (``True`` is not ``1``)."""
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return type(actual) is type(wanted) and actual == wanted
    return actual == wanted


def _editable(meter: Meter) -> dict[str, Any]:
    return {
        "name": meter.name,
        "description": meter.description,
        "code": meter.code,
        "event_name": meter.event_name,
        "aggregation": meter.aggregation,
        "filters": meter.filters,
        "usage_reset": meter.usage_reset,
        "allow_negative": meter.allow_negative,
    }


def event_name(value: Any, field: str = "event_name") -> str:
    name = text(value, field, max_length=MAX_EVENT_NAME)
    if name != name.strip() or _CONTROL.search(name):
        raise InvalidInput(f"{field} must not start or end with whitespace or contain control characters", field=field)
    return name


def parse_aggregation(value: Any) -> Aggregation:
    if isinstance(value, Aggregation):
        value = value.to_json()
    if not isinstance(value, Mapping):
        raise InvalidInput(
            'aggregation must be an object such as {"function": "SUM", "field": "properties.tokens"}',
            field="aggregation",
        )
    unknown = set(value) - {"function", "field"}
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=f"aggregation.{name}")
    try:
        function = AggregationFunction(str(value.get("function")))
    except ValueError:
        choices = ", ".join(f.value for f in AggregationFunction)
        raise InvalidInput(f"aggregation.function must be one of {choices}", field="aggregation.function") from None
    agg_field = value.get("field")
    if function is AggregationFunction.COUNT:
        if agg_field is not None:
            raise InvalidInput(
                "aggregation.field does not apply to COUNT (it counts events); omit it or use SUM",
                field="aggregation.field",
            )
        return Aggregation(function)
    if agg_field is None:
        raise InvalidInput(
            f'aggregation.field is required for {function.value}: "quantity" or a property path such as '
            '"properties.tokens"',
            field="aggregation.field",
        )
    if not isinstance(agg_field, str) or not (agg_field == QUANTITY or _PROPERTY_PATH.fullmatch(agg_field)):
        hint = (
            f' (did you mean "properties.{agg_field}"?)'
            if isinstance(agg_field, str) and "." not in agg_field and agg_field
            else ""
        )
        raise InvalidInput(
            f'aggregation.field must be "quantity" or a property path such as "properties.tokens"{hint}',
            field="aggregation.field",
        )
    if len(agg_field) > MAX_EVENT_NAME:
        raise InvalidInput(f"aggregation.field must be at most {MAX_EVENT_NAME} characters", field="aggregation.field")
    return Aggregation(function, agg_field)


def parse_filters(value: Any) -> dict[str, str | int | bool]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput('filters must be an object of property values, e.g. {"model": "gpt-4"}', field="filters")
    if len(value) > MAX_FILTERS:
        raise InvalidInput(f"filters has more than {MAX_FILTERS} conditions", field="filters")
    out: dict[str, str | int | bool] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or key != key.strip() or len(key) > MAX_EVENT_NAME:
            raise InvalidInput('filters keys must be property names such as "model"', field=f"filters.{key}")
        if key.startswith("properties."):
            raise InvalidInput(
                f'filters keys name properties without the "properties." prefix: use "{key[len("properties.") :]}"',
                field=f"filters.{key}",
            )
        out[key] = scalar(item, f"filters.{key}", max_length=MAX_EVENT_NAME)
    return out


def _validated(values: Mapping[str, Any]) -> dict[str, Any]:
    try:
        usage_reset = UsageReset(values.get("usage_reset") or UsageReset.PERIODIC)
    except ValueError:
        raise InvalidInput("usage_reset must be PERIODIC or CUMULATIVE", field="usage_reset") from None
    name = event_name(values.get("event_name"))
    aggregation = parse_aggregation(values.get("aggregation"))
    return {
        "name": text(values.get("name") or name, "name"),
        "description": text(values.get("description"), "description", required=False, max_length=MAX_DESCRIPTION),
        "code": optional_text(values.get("code"), "code"),
        "event_name": name,
        "aggregation": aggregation,
        "filters": parse_filters(values.get("filters")),
        "usage_reset": usage_reset,
        "allow_negative": parse_allow_negative(values.get("allow_negative"), aggregation),
    }


def parse_allow_negative(value: Any, aggregation: Aggregation) -> bool:
    """``allow_negative``: a boolean (absent: false), true only on a SUM meter."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput("allow_negative must be true or false", field="allow_negative")
    if value and aggregation.function is not AggregationFunction.SUM:
        raise InvalidInput(
            f"allow_negative applies to SUM meters only (corrections of a sum); this meter aggregates "
            f"{aggregation.function.value}",
            field="allow_negative",
        )
    return value


def new_meter(*, meter_id: str, tenant_id: str, data: Mapping[str, Any], at: datetime) -> Meter:
    """An ACTIVE meter from ``{"event_name", "aggregation", "name"?, "code"?, "description"?, "filters"?,
    "usage_reset"?}`` (the name defaults to the event name)."""
    unknown = set(data) - EDITABLE
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=name)
    return Meter(meter_id=meter_id, tenant_id=tenant_id, created_at=at, updated_at=at, **_validated(data))
