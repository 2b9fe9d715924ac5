"""API keys: formats, hashing, display (seed 000, "Authentication").

- Operator keys start with ``afo_`` and carry a role (OWNER, ADMIN, MEMBER, BILLING_ADMIN).
- Customer API keys start with ``sk_live_`` (or ``sk_test_`` for test mode) and act for one customer,
  optionally bound to one subscription (cancelling it revokes the key).
- The platform-admin credential starts with ``tgp_`` and can only create tenants.

A key is 32 random bytes (base64url) after its prefix, shown once at creation and stored only as its
SHA-256; listings show the prefix and the last four characters.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from tollgate.domain.access import KeyKind, Role

OPERATOR_PREFIX = "afo_"
CUSTOMER_LIVE_PREFIX = "sk_live_"
CUSTOMER_TEST_PREFIX = "sk_test_"
PLATFORM_PREFIX = "tgp_"
KEY_BYTES = 32


class KeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def prefix_of(plaintext: str) -> str | None:
    for prefix in (OPERATOR_PREFIX, CUSTOMER_LIVE_PREFIX, CUSTOMER_TEST_PREFIX, PLATFORM_PREFIX):
        if plaintext.startswith(prefix):
            return prefix
    return None


def kind_of_prefix(prefix: str) -> KeyKind:
    return {
        OPERATOR_PREFIX: KeyKind.OPERATOR,
        CUSTOMER_LIVE_PREFIX: KeyKind.CUSTOMER,
        CUSTOMER_TEST_PREFIX: KeyKind.CUSTOMER,
        PLATFORM_PREFIX: KeyKind.PLATFORM,
    }[prefix]


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(KEY_BYTES)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: str
    kind: KeyKind
    prefix: str
    last4: str
    created_at: datetime
    role: Role | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    livemode: bool = True
    name: str = ""
    status: KeyStatus = KeyStatus.ACTIVE
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def display(self) -> str:
        return f"{self.prefix}…{self.last4}"

    def revoked(self, at: datetime, reason: str) -> ApiKey:
        return replace(self, status=KeyStatus.REVOKED, revoked_at=at, revoked_reason=reason)


def mint(
    *,
    key_id: str,
    tenant_id: str,
    kind: KeyKind,
    created_at: datetime,
    role: Role | None = None,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    livemode: bool = True,
    name: str = "",
) -> tuple[str, str, ApiKey]:
    """Make a new key. Returns (plaintext shown once, its SHA-256, the stored record)."""
    if kind is KeyKind.OPERATOR:
        prefix = OPERATOR_PREFIX
    elif kind is KeyKind.CUSTOMER:
        prefix = CUSTOMER_LIVE_PREFIX if livemode else CUSTOMER_TEST_PREFIX
    else:
        prefix = PLATFORM_PREFIX
    plaintext = new_secret(prefix)
    record = ApiKey(
        key_id=key_id,
        tenant_id=tenant_id,
        kind=kind,
        prefix=prefix,
        last4=plaintext[-4:],
        created_at=created_at,
        role=role,
        customer_id=customer_id,
        subscription_id=subscription_id,
        livemode=livemode,
        name=name,
    )
    return plaintext, hash_key(plaintext), record
