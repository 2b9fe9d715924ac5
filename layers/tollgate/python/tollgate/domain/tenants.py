"""Tenants: each SaaS/API company using Tollgate. Every item Tollgate stores belongs to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    created_at: datetime
    livemode: bool = True
