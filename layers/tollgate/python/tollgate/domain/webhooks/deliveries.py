"""A delivery (one event to one endpoint), its attempts, and the queue message of one attempt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import deterministic_id

MAX_RESPONSE_BODY = 1024  # characters of the receiver's answer kept in the delivery log


class DeliveryStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def payload(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The Standard Webhooks body: ``{"type", "timestamp", "data"}`` (compact JSON, the bytes signed)."""
    return json.dumps(
        {"type": event_type, "timestamp": to_rfc3339(occurred_at), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    tenant_id: str
    endpoint_id: str
    message_id: str  # webhook-id: the event's id, the same on every attempt and every endpoint
    event_type: str
    body: str
    created_at: datetime
    status: str = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    next_attempt_at: datetime | None = None

    @staticmethod
    def of(event: DomainEvent, endpoint_id: str, now: datetime) -> Delivery:
        return Delivery(
            delivery_id=deterministic_id("whdlv", event.event_id, endpoint_id),
            tenant_id=event.tenant_id,
            endpoint_id=endpoint_id,
            message_id=event.event_id or deterministic_id("msg", event.tenant_id, event.type, str(now)),
            event_type=event.type,
            body=payload(event.type, event.occurred_at, event.data),
            created_at=now,
        )


@dataclass(frozen=True)
class Attempt:
    tenant_id: str
    endpoint_id: str
    delivery_id: str
    message_id: str
    event_type: str
    number: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_body: str
    error: str | None
    succeeded: bool
    next_attempt_at: datetime | None
    manual: bool = False


@dataclass(frozen=True)
class Task:
    """The queue message of one attempt: attempt ``attempt`` of a delivery, not before ``not_before``."""

    tenant_id: str
    delivery_id: str
    attempt: int
    not_before: datetime
    manual: bool = False

    KEY = "webhook_delivery"

    def to_json(self) -> dict[str, Any]:
        return {
            self.KEY: {
                "tenant_id": self.tenant_id,
                "delivery_id": self.delivery_id,
                "attempt": self.attempt,
                "not_before": to_rfc3339(self.not_before),
                "manual": self.manual,
            }
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Task:
        t = body[cls.KEY]
        return cls(t["tenant_id"], t["delivery_id"], int(t["attempt"]), parse_rfc3339(t["not_before"]), t["manual"])
