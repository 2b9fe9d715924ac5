"""Routers, one module per concern, arranged in route groups.

The API function builds one resolver per group, on the first request whose path falls in the group
(``tollgate.api.grouped``): a Lambda container loads only the routers it actually serves. The OpenAPI
document and Swagger UI are built from every group. To add a router: put its module in a group here
and, for a new path prefix, add the prefix.
"""

from __future__ import annotations

import importlib

# group -> (path prefixes it serves, router modules under tollgate.api.routers)
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "core": (
        ("/v1/tenants", "/v1/api-keys", "/v1/billing-events", "/v1/portal"),
        ("tenants", "api_keys", "event_log", "portal"),
    ),
    "catalog": (
        ("/v1/products", "/v1/meters", "/v1/plans", "/v1/prices"),
        ("products", "product_gateway", "meters", "plans", "prices"),
    ),
    "subscriptions": (
        ("/v1/customers", "/v1/subscriptions", "/v1/migrations"),
        ("customers", "subscriptions", "migrations"),
    ),
    "ingest": (("/v1/ingest", "/v1/usage", "/compat"), ("ingest", "compat", "compat_stripe")),
    "bill_runs": (("/v1/bill-runs",), ("bill_runs",)),
    "billing": (
        ("/v1/invoices", "/v1/credit-notes", "/v1/wallets", "/v1/settings", "/v1/coupons", "/v1/reconciliation"),
        ("invoices", "wallets", "coupons", "reconciliation"),
    ),
    "payments": (("/v1/settings/payments", "/v1/webhooks"), ("payments",)),
    "gateway": (("/v1/gateway",), ("gateway",)),
    "integrations": (("/v1/integrations",), ("integrations",)),
    "webhooks": (
        ("/v1/webhook-endpoints", "/v1/webhook-deliveries", "/v1/webhook-event-types"),
        ("webhook_endpoints",),
    ),
}
# Paths no group claims (unknown routes, /health) are answered by this group.
DEFAULT_GROUP = "core"


def group_for(path: str) -> str:
    best, best_len = DEFAULT_GROUP, -1
    for name, (prefixes, _) in GROUPS.items():
        for prefix in prefixes:
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best_len:
                best, best_len = name, len(prefix)
    return best


def routers_of(group: str) -> list:
    return [importlib.import_module(f"tollgate.api.routers.{m}").router for m in GROUPS[group][1]]


def all_routers() -> list:
    return [router for group in GROUPS for router in routers_of(group)]
