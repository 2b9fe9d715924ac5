"""The aggregator's per-partition watermarks (``tollgate.domain.billing.usage_readiness``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class UsageWatermarks(Protocol):
    def partitions(self) -> tuple[str, ...]:
        """The names of a tenant's event partitions ("00".."15"): each has its own watermark."""
        ...

    def watermarks(self, tenant_id: str) -> dict[str, datetime]:
        """Per event partition ("00".."15"): the latest cutoff whose probe the aggregator has folded."""
        ...

    def probe(self, tenant_id: str, cutoff: datetime, now: datetime) -> datetime:
        """Write the cutoff's probe into each of the tenant's event partitions, once: returns when the
        probes were first written (``now`` when this call wrote them)."""
        ...
