"""Kong Gateway (Admin API) and Kong Konnect (control-plane core entities) as a ``GatewayProvider``.

Config ``admin_url``: a Kong Admin API (``https://kong-admin.example.com:8001``) or a Konnect control plane's
core-entities URL (``https://us.api.konghq.com/v2/control-planes/{id}/core-entities``); credentials
``token`` (a personal access token, ``kpat_…``), sent as ``Kong-Admin-Token`` to an Admin API and as
``Authorization: Bearer`` to Konnect. The link's target names the Kong service: ``{"service": name or id}``.

What Tollgate pushes for one product (every entity tagged ``tollgate-managed``):
- the service gets the tags ``tollgate-managed`` and ``tollgate-product:{product_id}``; at the first sync
  the routes and plugins the service already has are adopted (tagged ``tollgate-managed``);
- per subscription a consumer (``username`` ``tollgate-{subscription_id}``, ``custom_id`` = the usage
  identifier) with a key-auth credential whose key is the usage identifier, and a ``rate-limiting``
  plugin scoped to the service and the consumer: ``second`` = the plan's rate, the quota as ``day`` or
  ``month`` (a weekly quota as ``day`` = limit / 7, rounded up; the plugin has no burst or week window);
- a disabled subscription keeps its consumer, tagged ``tollgate-disabled``, with no credential left;
- consumers of the product whose subscription Tollgate no longer lists are deleted.
Entity ids are derived from Tollgate ids (UUID v5) and written with ``PUT``, so an apply is idempotent.
Routes or plugins added to the service later, without the ``tollgate-managed`` tag, are reported under
``unmanaged`` and never removed by Tollgate: align them by hand (delete them, or tag them to accept them).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tollgate.adapters.gateways._http import MANAGED_TAG, VendorHttp, client, json_body, message_of, stable_id
from tollgate.domain.integrations.desired import DesiredGateway, GatewayKey, GatewayPlan
from tollgate.domain.integrations.integration import Integration
from tollgate.ports.gateway_providers import ConnectionCheck, ProviderFailure

VENDOR = "Kong"
PAT_EXPIRED = "KONG_PAT_EXPIRED"
PAT_FIX = "Generate a new token in Kong Manager"
DISABLED_TAG = "tollgate-disabled"
WINDOWS = ("second", "minute", "hour", "day", "month", "year")
_MAX_PAGES = 100


def _is_konnect(admin_url: str) -> bool:
    parts = urlsplit(admin_url)
    return (parts.hostname or "").endswith("konghq.com") or "/core-entities" in parts.path


def rate_limits(plan: GatewayPlan | None) -> dict[str, int] | None:
    """The rate-limiting plugin's windows for a plan (None when the plan limits nothing)."""
    if plan is None or (plan.throttle is None and plan.quota is None):
        return None
    limits: dict[str, int] = {}
    if plan.quota is not None:
        if plan.quota.period == "WEEK":
            limits["day"] = max(1, math.ceil(plan.quota.limit / 7))
        else:
            limits[plan.quota.period.lower()] = plan.quota.limit
    if plan.throttle is not None:
        # Kong rejects a smaller window with a higher limit than a larger one.
        limits["second"] = min([plan.throttle.rate_per_second, *limits.values()])
    return limits


class KongProvider:
    def __init__(self, integration: Integration, credentials: dict[str, Any], http: httpx.Client | None = None) -> None:
        config = integration.config
        self.base = str(config["admin_url"]).rstrip("/")
        token = str(credentials.get("token", ""))
        header = {"Authorization": f"Bearer {token}"} if _is_konnect(self.base) else {"Kong-Admin-Token": token}
        self.api = VendorHttp(
            VENDOR,
            client(http),
            _unauthorized,
            lambda: header,
            forbidden_fix="Give the token's RBAC role (Konnect: its team) read and write access to services, "
            "routes, consumers and plugins",
        )

    # -- the port ---------------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        try:
            self.api.send("GET", f"{self.base}/services", params={"size": 1})
        except ProviderFailure as failure:
            return failure.check()
        return ConnectionCheck(True)

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        plans = {p.plan_version_id: p for p in desired.plans}
        return {
            "service": {"tags": sorted(_service_tags(desired))},
            "consumers": {
                k.subscription_id: _consumer_doc(desired, k, plans.get(k.plan_version_id)) for k in desired.keys
            },
        }

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        service = self._service(desired)
        product_tag = _product_tag(desired)
        limits: dict[str, dict[str, int]] = {}
        unmanaged: dict[str, dict[str, Any]] = {}
        for plugin in self._list(f"/services/{service['id']}/plugins"):
            tags = plugin.get("tags") or []
            consumer = (plugin.get("consumer") or {}).get("id")
            if product_tag in tags and consumer and plugin.get("name") == "rate-limiting":
                config = plugin.get("config") or {}
                limits[consumer] = {w: int(config[w]) for w in WINDOWS if config.get(w) is not None}
            elif MANAGED_TAG not in tags:
                unmanaged.setdefault("plugins", {})[_plugin_key(plugin)] = {"name": plugin.get("name")}
        for route in self._list(f"/services/{service['id']}/routes"):
            if MANAGED_TAG not in (route.get("tags") or []):
                key = str(route.get("name") or route.get("id"))
                unmanaged.setdefault("routes", {})[key] = {"paths": sorted(route.get("paths") or [])}
        consumers = {}
        for consumer in self._product_consumers(desired):
            sub = _tag_value(consumer, "tollgate-subscription:")
            if sub is None:
                continue
            keys = [c.get("key") for c in self._list(f"/consumers/{consumer['id']}/key-auth")]
            consumers[sub] = {
                "username": consumer.get("username"),
                "custom_id": consumer.get("custom_id"),
                "tags": sorted(t for t in consumer.get("tags") or [] if t.startswith("tollgate-")),
                "key_auth": sorted(str(k) for k in keys if k),
                "rate_limiting": limits.get(consumer["id"]),
            }
        doc: dict[str, Any] = {
            "service": {"tags": sorted(t for t in service.get("tags") or [] if t.startswith("tollgate-"))},
            "consumers": consumers,
        }
        if unmanaged:
            doc["unmanaged"] = unmanaged
        return doc

    def apply(self, desired: DesiredGateway) -> None:
        service = self._service(desired)
        self._adopt(service, desired)
        plans = {p.plan_version_id: p for p in desired.plans}
        wanted = set()
        for key in desired.keys:
            wanted.add(self._put_consumer(desired, key, service["id"], plans.get(key.plan_version_id)))
        for consumer in self._product_consumers(desired):
            if consumer["id"] not in wanted:
                self.api.send("DELETE", f"{self.base}/consumers/{consumer['id']}", ok=(204, 404))

    # -- steps ------------------------------------------------------------------------------------------

    def _service(self, desired: DesiredGateway) -> dict[str, Any]:
        name = str(desired.target.get("service") or "")
        if not name:
            raise ProviderFailure(
                "GATEWAY_NOT_FOUND",
                "The product's gateway target names no Kong service.",
                'Link the product with a target {"service": "<Kong service name or id>"}',
            )
        try:
            return dict(json_body(self.api.send("GET", f"{self.base}/services/{quote(name, safe='')}"), VENDOR))
        except ProviderFailure as failure:
            if failure.error_code == "GATEWAY_NOT_FOUND":
                raise ProviderFailure(
                    "GATEWAY_NOT_FOUND",
                    f"Kong has no service {name!r} at {self.base}.",
                    "Create the service in Kong or link the product to an existing one",
                ) from None
            raise

    def _adopt(self, service: dict[str, Any], desired: DesiredGateway) -> None:
        """First sync: tag the service, and the routes and plugins it has now, as Tollgate's baseline."""
        tags = service.get("tags") or []
        if MANAGED_TAG not in tags:
            for kind in ("routes", "plugins"):
                for entity in self._list(f"/services/{service['id']}/{kind}"):
                    if MANAGED_TAG not in (entity.get("tags") or []):
                        body = {"tags": [*(entity.get("tags") or []), MANAGED_TAG]}
                        self.api.send("PATCH", f"{self.base}/{kind}/{entity['id']}", json=body)
        missing = sorted(set(_service_tags(desired)) - set(tags))
        if missing:
            self.api.send("PATCH", f"{self.base}/services/{service['id']}", json={"tags": [*tags, *missing]})

    def _put_consumer(self, desired: DesiredGateway, key: GatewayKey, service_id: str, plan: GatewayPlan | None) -> str:
        doc = _consumer_doc(desired, key, plan)
        consumer_id = stable_id(desired.tenant_id, key.subscription_id, "consumer")
        body = {"username": doc["username"], "custom_id": doc["custom_id"], "tags": doc["tags"]}
        self.api.send("PUT", f"{self.base}/consumers/{consumer_id}", json=body)
        credential_id = stable_id(desired.tenant_id, key.subscription_id, "key-auth")
        for credential in self._list(f"/consumers/{consumer_id}/key-auth"):
            if not key.enabled or credential.get("id") != credential_id:
                self.api.send(
                    "DELETE", f"{self.base}/consumers/{consumer_id}/key-auth/{credential['id']}", ok=(204, 404)
                )
        if key.enabled:
            body = {"key": key.usage_identifier, "tags": [MANAGED_TAG, _product_tag(desired)]}
            self.api.send("PUT", f"{self.base}/consumers/{consumer_id}/key-auth/{credential_id}", json=body)
        plugin_id = stable_id(desired.tenant_id, key.subscription_id, "rate-limiting")
        limits = doc["rate_limiting"]
        if limits is None:
            self.api.send("DELETE", f"{self.base}/plugins/{plugin_id}", ok=(204, 404))
        else:
            body = {
                "name": "rate-limiting",
                "service": {"id": service_id},
                "consumer": {"id": consumer_id},
                "config": {**limits, "limit_by": "consumer", "policy": "local"},
                "tags": [MANAGED_TAG, _product_tag(desired)],
            }
            self.api.send("PUT", f"{self.base}/plugins/{plugin_id}", json=body)
        return consumer_id

    def _product_consumers(self, desired: DesiredGateway) -> list[dict[str, Any]]:
        return self._list("/consumers", tags=_product_tag(desired))

    def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every page of a Kong collection (``data`` + ``offset``: Admin API and Konnect alike)."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {**params, "size": 1000}
        for _ in range(_MAX_PAGES):
            body = json_body(self.api.send("GET", f"{self.base}{path}", params=query), VENDOR)
            items.extend(body.get("data") or [])
            if not body.get("offset"):
                return items
            query["offset"] = body["offset"]
        return items


def _unauthorized(response: httpx.Response) -> ProviderFailure:
    return ProviderFailure(
        PAT_EXPIRED,
        f"Kong: PAT token expired — the Admin API rejected the personal access token (401: {message_of(response)}).",
        PAT_FIX,
    )


def _product_tag(desired: DesiredGateway) -> str:
    return f"tollgate-product:{desired.product_id}"


def _service_tags(desired: DesiredGateway) -> list[str]:
    return [MANAGED_TAG, _product_tag(desired)]


def _consumer_doc(desired: DesiredGateway, key: GatewayKey, plan: GatewayPlan | None) -> dict[str, Any]:
    tags = [
        MANAGED_TAG,
        _product_tag(desired),
        f"tollgate-subscription:{key.subscription_id}",
        f"tollgate-plan-version:{key.plan_version_id}",
    ]
    if not key.enabled:
        tags.append(DISABLED_TAG)
    return {
        "username": f"tollgate-{key.subscription_id}",
        "custom_id": key.usage_identifier,
        "tags": sorted(tags),
        "key_auth": [key.usage_identifier] if key.enabled else [],
        "rate_limiting": rate_limits(plan),
    }


def _tag_value(entity: dict[str, Any], prefix: str) -> str | None:
    for tag in entity.get("tags") or []:
        if isinstance(tag, str) and tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def _plugin_key(plugin: dict[str, Any]) -> str:
    name = str(plugin.get("name"))
    for scope in ("consumer", "route"):
        ref = plugin.get(scope) or {}
        if ref.get("id"):
            return f"{name}@{scope}:{ref['id']}"
    return name
