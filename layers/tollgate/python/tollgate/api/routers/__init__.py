"""Routers, one per concern. ``all_routers()`` is what the API function (and the local stack) serves."""

from __future__ import annotations


def all_routers() -> list:
    from tollgate.api.routers import (
        api_keys,
        catalog,
        customers,
        event_log,
        portal,
        prices,
        subscriptions,
        tenants,
    )

    return [
        tenants.router,
        api_keys.router,
        event_log.router,
        portal.router,
        catalog.router,
        prices.router,
        customers.router,
        subscriptions.router,
    ]
