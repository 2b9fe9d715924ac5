"""The request bodies of the ingestion and compatibility routes, as OpenAPI declares them.

These routes read their body themselves (exact decimals, bounded numbers, each event judged on its own),
so no pydantic model parses it: the schema is declared on the operation (``requestBody`` through
Powertools' ``openapi_extensions``, which are merged into the operation object) for the reader and for
fuzzers. It describes what a well-formed request looks like; ingestion still judges every event and
answers what it refuses with a code.
"""

from __future__ import annotations

from typing import Any

from tollgate.domain.usage.events import MAX_BATCH, MAX_ID_LENGTH, MAX_NAME_LENGTH

_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH}
_PROPERTIES = {"type": "object", "description": "Free-form; numbers are read exactly (never as floats)."}
_QUANTITY = {
    "type": "number",
    "description": "At most 18 digits written out (integer digits plus decimal places); "
    "negative only for SUM meters that allow corrections. Default 1.",
}

EVENT: dict[str, Any] = {
    "type": "object",
    "title": "UsageEvent",
    "properties": {
        "event_id": {**_ID, "description": "The idempotency key; derived from the payload when absent."},
        "eventId": {**_ID, "description": "Seed 000's name of event_id."},
        "external_customer_id": {**_ID, "description": "Your id of the customer (a customer key may omit it)."},
        "customerId": {**_ID, "description": "Seed 000's name of external_customer_id."},
        "external_subscription_id": _ID,
        "event_name": {**_NAME, "description": "The exact event name of an active meter."},
        "metricId": {**_NAME, "description": "Seed 000's name of event_name."},
        "timestamp": {"type": "string", "format": "date-time", "description": "RFC 3339; default now."},
        "quantity": _QUANTITY,
        "properties": _PROPERTIES,
    },
}

INGEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    EVENT,
                    {
                        "type": "object",
                        "title": "UsageEventBatch",
                        "required": ["events"],
                        "properties": {"events": {"type": "array", "maxItems": MAX_BATCH, "items": EVENT}},
                    },
                ]
            }
        }
    },
}

CLOUD_EVENT: dict[str, Any] = {
    "type": "object",
    "title": "CloudEvent",
    "required": ["specversion", "id", "source", "type"],
    "properties": {
        "specversion": {"type": "string", "example": "1.0"},
        "id": {**_ID, "description": "The idempotency key (event_id)."},
        "source": {"type": "string"},
        "type": {**_NAME, "description": "The meter's event name."},
        "subject": {**_ID, "description": "The customer's external id."},
        "time": {"type": "string", "format": "date-time"},
        "data": {"oneOf": [_PROPERTIES, {"type": "string", "description": "JSON text of the properties."}]},
    },
}
_CLOUD_EVENTS = {"type": "array", "maxItems": MAX_BATCH, "items": CLOUD_EVENT}

OPENMETER_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/cloudevents+json": {"schema": CLOUD_EVENT},
        "application/cloudevents-batch+json": {"schema": _CLOUD_EVENTS},
        "application/json": {"schema": {"oneOf": [CLOUD_EVENT, _CLOUD_EVENTS]}},
    },
}

LAGO_EVENT: dict[str, Any] = {
    "type": "object",
    "title": "LagoEvent",
    "required": ["transaction_id", "code"],
    "properties": {
        "transaction_id": {**_ID, "description": "The idempotency key (event_id)."},
        "code": {**_NAME, "description": "The meter's event name."},
        "external_customer_id": _ID,
        "external_subscription_id": _ID,
        "timestamp": {
            "oneOf": [
                {"type": "number", "minimum": 0, "maximum": 253402300799},
                {"type": "string", "description": "Unix seconds as text, or RFC 3339."},
            ],
            "description": "Unix seconds (1970 to 9999); default now.",
        },
        "properties": _PROPERTIES,
        "precise_total_amount_cents": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]},
    },
}

LAGO_EVENT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "required": ["event"], "properties": {"event": LAGO_EVENT}},
        }
    },
}

LAGO_BATCH_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["events"],
                "properties": {"events": {"type": "array", "maxItems": MAX_BATCH, "items": LAGO_EVENT}},
            },
        }
    },
}


def with_body(extensions: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The route's OpenAPI extensions with its request body declared."""
    return {**extensions, "requestBody": body}
