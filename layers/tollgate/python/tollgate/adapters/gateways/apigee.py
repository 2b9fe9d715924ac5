"""Apigee (X and hybrid, Apigee API v1) as a ``GatewayProvider``.

Config: ``organization``, optional ``environment`` (the API products are limited to it) and ``base_url``
(default ``https://apigee.googleapis.com``); credentials: an OAuth 2.0 ``access_token`` for an identity with
the Apigee API Admin role (``Authorization: Bearer``), or a Google ``service_account_json`` key file from
which Tollgate mints one. The link's target names the API proxy: ``{"proxy": …}``.

What Tollgate pushes for one product:
- per published plan version an API product ``tollgate-{product_id}-{plan_version_id}`` (approval ``auto``)
  bundling the linked proxy, with the plan's quota (``quota`` / ``quotaInterval`` / ``quotaTimeUnit``: a
  weekly quota as 7 days) and attributes ``tollgate-product``, ``tollgate-plan-version`` and, when the plan
  has a rate, ``tollgate-rate-per-second`` / ``tollgate-burst`` (Apigee enforces rates in the proxy: a
  SpikeArrest policy can read them from ``verifyapikey.{policy}.apiproduct.tollgate-rate-per-second``);
- per customer a developer ``tollgate-{customer_id}@tollgate.invalid`` and per subscription a developer
  app ``tollgate-{subscription_id}`` on its plan version's API product, ``approved``, or ``revoked`` once
  disabled (its keys stop working); Apigee generates the keys (Tollgate never pushes key values), the app
  carries the usage identifier as the attribute ``tollgate-usage-identifier``;
- API products and apps with Tollgate's prefix that Tollgate no longer lists are deleted.
Other API products bundling the linked proxy are reported under ``unmanaged`` and left alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tollgate.adapters.gateways._http import VendorHttp, client, json_body, message_of
from tollgate.adapters.gateways.apigee_auth import TOKEN_EXPIRED, TOKEN_FIX, service_account_token
from tollgate.domain.integrations.desired import DesiredGateway, GatewayKey, GatewayPlan
from tollgate.domain.integrations.integration import Integration
from tollgate.ports.gateway_providers import ConnectionCheck, ProviderFailure

VENDOR = "Apigee"
DEVELOPER_DOMAIN = "tollgate.invalid"
_QUOTA = {"DAY": ("1", "day"), "WEEK": ("7", "day"), "MONTH": ("1", "month")}


class ApigeeProvider:
    def __init__(self, integration: Integration, credentials: dict[str, Any], http: httpx.Client | None = None) -> None:
        config = integration.config
        self.org_url = (
            f"{str(config.get('base_url') or 'https://apigee.googleapis.com').rstrip('/')}"
            f"/v1/organizations/{quote(str(config['organization']), safe='')}"
        )
        self.environment = config.get("environment")
        self.credentials = credentials
        self._token: str | None = credentials.get("access_token")
        self.api = VendorHttp(
            VENDOR,
            client(http),
            _unauthorized,
            self._auth,
            forbidden_fix="Grant the integration's identity the Apigee API Admin role on the organization "
            "(and check the organization name: Apigee answers 403 for one that does not exist)",
        )

    # -- the port ---------------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        try:
            self.api.send("GET", self.org_url)
        except ProviderFailure as failure:
            return failure.check()
        return ConnectionCheck(True)

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        proxy = _proxy(desired)
        products = {
            _product_name(desired, p.plan_version_id): self._product_doc(desired, p, proxy) for p in desired.plans
        }
        apps = {_app_name(k): _app_doc(desired, k) for k in desired.keys}
        return {"api_products": products, "apps": apps}

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        proxy, prefix = _proxy(desired), _product_name(desired, "")
        products: dict[str, Any] = {}
        unmanaged: dict[str, Any] = {}
        for product in self._products():
            name = str(product.get("name"))
            if name.startswith(prefix):
                products[name] = _normalized_product(product)
            elif proxy in (product.get("proxies") or []):
                unmanaged.setdefault("api_products", {})[name] = {"displayName": product.get("displayName")}
        apps = {}
        for email, app in self._product_apps(desired):
            attributes = _attributes(app)
            apps[str(app["name"])] = {
                "developer": email,
                "api_products": sorted(
                    {p["apiproduct"] for c in app.get("credentials") or [] for p in c.get("apiProducts") or []}
                ),
                "status": app.get("status"),
                "usage_identifier": attributes.get("tollgate-usage-identifier"),
            }
        doc: dict[str, Any] = {"api_products": products, "apps": apps}
        if unmanaged:
            doc["unmanaged"] = unmanaged
        return doc

    def apply(self, desired: DesiredGateway) -> None:
        want = self.render(desired)
        existing = {str(p.get("name")) for p in self._products()}
        for name, product in want["api_products"].items():
            body = _product_body(name, product)
            if name in existing:
                self.api.send("PUT", f"{self.org_url}/apiproducts/{name}", json=body)
            else:
                self.api.send("POST", f"{self.org_url}/apiproducts", json=body)
        current = {str(app["name"]): (email, app) for email, app in self._product_apps(desired)}
        for key in desired.keys:
            self._apply_app(desired, key, want["apps"][_app_name(key)], current.get(_app_name(key)))
        for name, (email, _app) in current.items():
            if name not in want["apps"]:
                self.api.send("DELETE", f"{self._developer_url(email)}/apps/{name}", ok=(200, 404))
        for name in sorted(existing):
            if name.startswith(_product_name(desired, "")) and name not in want["api_products"]:
                self.api.send("DELETE", f"{self.org_url}/apiproducts/{name}", ok=(200, 404))

    # -- steps ------------------------------------------------------------------------------------------

    def _product_doc(self, desired: DesiredGateway, plan: GatewayPlan, proxy: str) -> dict[str, Any]:
        attributes = {"tollgate-product": desired.product_id, "tollgate-plan-version": plan.plan_version_id}
        if plan.throttle is not None:
            attributes["tollgate-rate-per-second"] = str(plan.throttle.rate_per_second)
            attributes["tollgate-burst"] = str(plan.throttle.burst)
        quota = None
        if plan.quota is not None:
            interval, unit = _QUOTA[plan.quota.period]
            quota = {"limit": str(plan.quota.limit), "interval": interval, "time_unit": unit}
        return {
            "displayName": f"{desired.product_name} — {plan.name}"[:250],
            "approvalType": "auto",
            "proxies": [proxy],
            "environments": [str(self.environment)] if self.environment else [],
            "quota": quota,
            "attributes": attributes,
        }

    def _apply_app(self, desired: DesiredGateway, key: GatewayKey, want: dict[str, Any], current: Any) -> None:
        email = want["developer"]
        developer = self._developer_url(email)
        if current is None and self.api.send("GET", developer, ok=(200, 404)).status_code == 404:
            person = {
                "email": email,
                "firstName": "Tollgate",
                "lastName": key.customer_id,
                "userName": f"tollgate-{key.customer_id}",
                "attributes": [{"name": "tollgate-customer", "value": key.customer_id}],
            }
            self.api.send("POST", f"{self.org_url}/developers", json=person, ok=(200, 201, 409))
        body = {
            "name": _app_name(key),
            "apiProducts": want["api_products"],
            "attributes": [
                {"name": "tollgate-product", "value": desired.product_id},
                {"name": "tollgate-subscription", "value": key.subscription_id},
                {"name": "tollgate-usage-identifier", "value": key.usage_identifier},
            ],
        }
        if current is None:
            self.api.send("POST", f"{developer}/apps", json=body)
            status = "approved"
        else:
            self.api.send("PUT", f"{developer}/apps/{_app_name(key)}", json=body)
            status = current[1].get("status")
        if status != want["status"]:
            action = "approve" if want["status"] == "approved" else "revoke"
            self.api.send(
                "POST",
                f"{developer}/apps/{_app_name(key)}",
                params={"action": action},
                headers={"Content-Type": "application/octet-stream"},
                ok=(200, 204),
            )

    def _products(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params = {"expand": "true", "count": "1000"}
        for _ in range(100):
            body = json_body(self.api.send("GET", f"{self.org_url}/apiproducts", params=params), VENDOR)
            page = body.get("apiProduct") or []
            items.extend(p for p in page if p.get("name") != params.get("startKey"))
            if len(page) < 1000:
                break
            params["startKey"] = str(page[-1]["name"])
        return items

    def _product_apps(self, desired: DesiredGateway) -> list[tuple[str, dict[str, Any]]]:
        """(developer email, app) for every app Tollgate made for this product."""
        body = json_body(self.api.send("GET", f"{self.org_url}/developers", params={"expand": "true"}), VENDOR)
        found = []
        for developer in body.get("developer") or []:
            email = str(developer.get("email"))
            if not email.endswith(f"@{DEVELOPER_DOMAIN}"):
                continue
            apps = json_body(
                self.api.send("GET", f"{self._developer_url(email)}/apps", params={"expand": "true"}), VENDOR
            )
            for app in apps.get("app") or []:
                if _attributes(app).get("tollgate-product") == desired.product_id:
                    found.append((email, app))
        return found

    def _developer_url(self, email: str) -> str:
        return f"{self.org_url}/developers/{quote(email, safe='@')}"

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            self._token = service_account_token(str(self.credentials.get("service_account_json", "")), self.api.http)
        return {"Authorization": f"Bearer {self._token}"}


def _unauthorized(response: httpx.Response) -> ProviderFailure:
    reason = ""
    try:
        details = response.json().get("error", {}).get("details") or []
        reason = next((str(d.get("reason")) for d in details if d.get("reason")), "")
    except (ValueError, AttributeError):
        pass
    what = "expired" if reason in ("", "ACCESS_TOKEN_EXPIRED") else f"rejected ({reason})"
    return ProviderFailure(
        TOKEN_EXPIRED, f"Apigee: OAuth token {what} — Apigee answered 401: {message_of(response)}", TOKEN_FIX
    )


def _proxy(desired: DesiredGateway) -> str:
    proxy = str(desired.target.get("proxy") or "")
    if not proxy:
        raise ProviderFailure(
            "GATEWAY_NOT_FOUND",
            "The product's gateway target names no Apigee API proxy.",
            'Link the product with a target {"proxy": "<Apigee API proxy name>"}',
        )
    return proxy


def _product_name(desired: DesiredGateway, plan_version_id: str) -> str:
    return f"tollgate-{desired.product_id}-{plan_version_id}"


def _app_name(key: GatewayKey) -> str:
    return f"tollgate-{key.subscription_id}"


def _app_doc(desired: DesiredGateway, key: GatewayKey) -> dict[str, Any]:
    return {
        "developer": f"tollgate-{key.customer_id}@{DEVELOPER_DOMAIN}".lower(),
        "api_products": [_product_name(desired, key.plan_version_id)],
        "status": "approved" if key.enabled else "revoked",
        "usage_identifier": key.usage_identifier,
    }


def _attributes(entity: dict[str, Any]) -> dict[str, str]:
    return {str(a.get("name")): str(a.get("value")) for a in entity.get("attributes") or []}


def _product_body(name: str, product: dict[str, Any]) -> dict[str, Any]:
    attributes = [{"name": "access", "value": "private"}]
    attributes += [{"name": k, "value": v} for k, v in sorted(product["attributes"].items())]
    body: dict[str, Any] = {
        "name": name,
        "displayName": product["displayName"],
        "approvalType": product["approvalType"],
        "proxies": product["proxies"],
        "environments": product["environments"],
        "attributes": attributes,
    }
    if product["quota"] is not None:
        quota = product["quota"]
        body.update(quota=quota["limit"], quotaInterval=quota["interval"], quotaTimeUnit=quota["time_unit"])
    return body


def _normalized_product(product: dict[str, Any]) -> dict[str, Any]:
    quota = None
    if product.get("quota"):
        quota = {
            "limit": str(product["quota"]),
            "interval": str(product.get("quotaInterval") or "1"),
            "time_unit": str(product.get("quotaTimeUnit") or "").lower(),
        }
    return {
        "displayName": product.get("displayName"),
        "approvalType": product.get("approvalType"),
        "proxies": sorted(product.get("proxies") or []),
        "environments": sorted(product.get("environments") or []),
        "quota": quota,
        "attributes": {k: v for k, v in _attributes(product).items() if k.startswith("tollgate-")},
    }
