"""Identifiers: random ids with a readable prefix, and deterministic ids for idempotent writes."""

from __future__ import annotations

import hashlib
import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str, length: int = 16) -> str:
    """A random id such as ``prod_3k9x...``: prefix says what it is (Stripe-style)."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def deterministic_id(prefix: str, *parts: str, length: int = 20) -> str:
    """The same parts always give the same id, so a retried write targets the same item."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"{prefix}_{digest[:length]}"
