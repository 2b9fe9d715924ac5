"""The documented causes of missing or wrong usage that diagnosis names: a cause with its evidence and fix,
and the table from a rejection code to its cause (seed 000 "Run diagnostics", seed 001's checklist)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollgate.domain.usage.events import Code


@dataclass
class Cause:
    code: str
    title: str
    detail: str
    fix: str
    count: int = 0
    examples: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
            "count": self.count,
            "examples": self.examples or [],
        }


# Rejection code -> (cause code, title, fix). The seeds' documented causes, in Tollgate's words.
REJECTION_CAUSES: dict[str, tuple[str, str, str]] = {
    Code.METER_NOT_FOUND.value: (
        "METER_NOT_FOUND",
        'Events name a meter that does not exist ("metric not found")',
        "Send the exact event name of an active meter (GET /v1/meters), or create the meter.",
    ),
    Code.METER_ARCHIVED.value: (
        "METER_INACTIVE",
        "Events name an archived (inactive) meter",
        "Activate the meter (POST /v1/meters/{id}/activate), then resend the events.",
    ),
    Code.CUSTOMER_NOT_FOUND.value: (
        "CUSTOMER_NOT_FOUND",
        "Events name a customer that does not exist",
        "Create the customer first (POST /v1/customers) or send the external_id of an existing one.",
    ),
    Code.TIMESTAMP_IN_FUTURE.value: (
        "CLOCK_SKEW",
        "Events are more than 5 minutes in the future (clock skew)",
        "Sync the sending server's clock (NTP); send timestamps in UTC with an offset (…Z).",
    ),
    Code.TIMESTAMP_TOO_OLD.value: (
        "TIMESTAMP_TOO_OLD",
        "Events are more than 90 days old",
        "Check the timestamps your client sends; usage older than 90 days is not accepted.",
    ),
    Code.AGGREGATION_FIELD_MISSING.value: (
        "AGGREGATION_FIELD_MISSING",
        "Events lack the meter's aggregation field (property name mismatch or missing properties)",
        "Send the property the meter aggregates (its aggregation.field), spelled exactly, inside properties.",
    ),
    Code.AGGREGATION_FIELD_NOT_NUMERIC.value: (
        "AGGREGATION_FIELD_NOT_NUMERIC",
        "Events send the aggregation field as a string (or another non-number) for a SUM/MAX/AVG/LATEST meter",
        'Send a JSON number: "credits": 2, not "credits": "2".',
    ),
    Code.AGGREGATION_FIELD_INVALID.value: (
        "AGGREGATION_FIELD_INVALID",
        "Events send an object, list or boolean to a UNIQUE_COUNT meter",
        "Send a string or a number.",
    ),
    Code.FILTER_NOT_MATCHED.value: (
        "FILTER_NOT_MATCHED",
        "Events do not match the meter's filters",
        "Send the property values the meter's filters require, or change the filters.",
    ),
    Code.IDEMPOTENCY_CONFLICT.value: (
        "IDEMPOTENCY_CONFLICT",
        "The same event_id was reused for different events",
        "Give every event its own event_id; a retry must resend the same payload.",
    ),
    Code.CUSTOMER_NOT_ALLOWED.value: (
        "CUSTOMER_KEY_FOR_ANOTHER_CUSTOMER",
        "A customer API key sent events for another customer",
        "Use each customer's own key, or an operator key with usage:ingest.",
    ),
}
PAYLOAD_CODES = {
    Code.INVALID_EVENT.value,
    Code.MISSING_EVENT_NAME.value,
    Code.MISSING_CUSTOMER.value,
    Code.INVALID_TIMESTAMP.value,
    Code.INVALID_QUANTITY.value,
    Code.EVENT_TOO_LARGE.value,
}


INVALID_PAYLOAD = (
    "INVALID_PAYLOAD",
    "Events are malformed (missing or invalid fields)",
    "Send event_name, the customer, an RFC 3339 timestamp and numbers as JSON numbers.",
)


def rejection_cause(code: str) -> tuple[str, str, str]:
    """(cause code, title, fix) of a rejection code."""
    if code in PAYLOAD_CODES:
        return INVALID_PAYLOAD
    return REJECTION_CAUSES.get(code, (code, f"Events rejected with {code}", "See each rejection's detail."))
