"""Domain events: what happened, for whom, when. Published through the outbox (same write as the change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.ids import deterministic_id


@dataclass(frozen=True)
class DomainEvent:
    type: str  # e.g. "api_key.created", "invoice.finalized"
    tenant_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    # Deterministic when the change it reports is (so a retried write yields the same event id).
    event_id: str = ""

    def with_id(self, *parts: str) -> DomainEvent:
        return DomainEvent(
            self.type,
            self.tenant_id,
            self.occurred_at,
            self.data,
            deterministic_id("evt", self.tenant_id, self.type, *parts),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "type": self.type,
            "tenant_id": self.tenant_id,
            "occurred_at": to_rfc3339(self.occurred_at),
            "data": self.data,
        }
