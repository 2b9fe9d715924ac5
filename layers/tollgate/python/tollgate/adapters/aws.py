"""Lazily created, cached boto3 clients (created on first use so the local stack's moto mock catches them,
and so importing a handler does not pay for boto3)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service)


@cache
def table(name: str) -> Any:
    import boto3

    return boto3.session.Session().resource("dynamodb").Table(name)


def reset() -> None:
    """Forget cached clients (the local stack and tests call this when they start a new mock)."""
    client.cache_clear()
    table.cache_clear()
    from tollgate.settings import get_settings

    get_settings.cache_clear()
