"""Routers, one per concern. ``all_routers()`` is what the API function (and the local stack) serves."""

from __future__ import annotations


def all_routers() -> list:
    from tollgate.api.routers import api_keys, event_log, portal, tenants

    routers = [tenants.router, api_keys.router, event_log.router, portal.router]
    return routers
