"""EventBridge publisher: domain events to the Tollgate bus, ten entries per PutEvents call."""

from __future__ import annotations

import json

from tollgate.adapters import aws
from tollgate.domain.events import DomainEvent

SOURCE = "tollgate"
MAX_ENTRIES = 10


class PublishFailed(Exception):
    """Some entries were not accepted; the caller retries (consumers deduplicate by event id)."""


class EventBridgePublisher:
    def __init__(self, bus_name: str) -> None:
        self.bus_name = bus_name

    def publish(self, events: list[DomainEvent]) -> None:
        entries = [
            {
                "Source": SOURCE,
                "DetailType": e.type,
                "Detail": json.dumps(e.to_json(), separators=(",", ":")),
                "EventBusName": self.bus_name,
                "Time": e.occurred_at,
            }
            for e in events
        ]
        for start in range(0, len(entries), MAX_ENTRIES):
            chunk = entries[start : start + MAX_ENTRIES]
            result = aws.client("events").put_events(Entries=chunk)
            if result.get("FailedEntryCount", 0):
                codes = {r.get("ErrorCode") for r in result["Entries"] if r.get("ErrorCode")}
                raise PublishFailed(
                    f"{result['FailedEntryCount']} of {len(chunk)} events not accepted: {sorted(codes)}"
                )
