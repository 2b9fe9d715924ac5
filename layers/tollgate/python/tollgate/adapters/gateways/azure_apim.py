"""Azure API Management as a ``GatewayProvider``, through Azure Resource Manager (``api-version=2022-08-01``).

Config: ``tenant_id`` (Entra ID tenant), ``subscription_id``, ``resource_group``, ``service_name`` (the APIM
instance), optional ``login_url`` (default ``https://login.microsoftonline.com``) and ``management_url``
(default ``https://management.azure.com``); credentials: a service principal's ``client_id`` and
``client_secret``, exchanged for a token with the OAuth 2.0 client-credentials grant
(``POST {login_url}/{tenant_id}/oauth2/v2.0/token``, scope ``{management_url}/.default``). The principal needs
the "API Management Service Contributor" role on the instance. The link's target: ``{"api_id": …}``.

What Tollgate pushes for one product:
- per published plan version an APIM product ``tollgate-{product_id}-{plan_version_id}`` (subscription
  required, no approval, state ``published``) containing the linked API, with a product policy holding
  ``<rate-limit calls=rate renewal-period=1/>`` and ``<quota calls=limit renewal-period=…/>`` (a day, week or
  30-day month in seconds; APIM's rate-limit has no burst);
- per subscription an APIM subscription ``tollgate-{subscription_id}`` scoped to its plan version's product,
  ``active`` or, once disabled, ``suspended``; APIM generates its keys (Tollgate never pushes key values);
- products and subscriptions with Tollgate's prefix that Tollgate no longer lists are deleted.
Other products containing the linked API, foreign subscriptions in Tollgate's products and other policy
elements in their inbound section are reported under ``unmanaged`` and left alone.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import httpx

from tollgate.adapters.gateways._http import VendorHttp, client, json_body, message_of, unreachable
from tollgate.domain.integrations.desired import DesiredGateway, GatewayPlan
from tollgate.domain.integrations.integration import Integration
from tollgate.ports.gateway_providers import ConnectionCheck, ProviderFailure

VENDOR = "Azure API Management"
API_VERSION = "2022-08-01"
SECRET_EXPIRED = "AZURE_SECRET_EXPIRED"
SECRET_FIX = "Rotate the service principal secret in Azure AD"
PERIOD_SECONDS = {"DAY": 86_400, "WEEK": 604_800, "MONTH": 2_592_000}
_SECRET_CODES = {7000222: "expired", 7000215: "not valid"}  # AADSTS codes for the client secret
_NOT_FOUND_CODES = {90002, 700016, 900023}  # unknown tenant, unknown application, invalid tenant name


class AzureApimProvider:
    def __init__(self, integration: Integration, credentials: dict[str, Any], http: httpx.Client | None = None) -> None:
        config = integration.config
        self.config = config
        self.credentials = credentials
        self.login = str(config.get("login_url") or "https://login.microsoftonline.com").rstrip("/")
        self.management = str(config.get("management_url") or "https://management.azure.com").rstrip("/")
        self.service = (
            f"{self.management}/subscriptions/{config['subscription_id']}/resourceGroups/{config['resource_group']}"
            f"/providers/Microsoft.ApiManagement/service/{config['service_name']}"
        )
        self._token: tuple[str, float] | None = None
        self.api = VendorHttp(
            VENDOR,
            client(http),
            _arm_unauthorized,
            self._auth,
            forbidden_fix="Assign the service principal the API Management Service Contributor role on the instance",
        )

    # -- the port ---------------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        try:
            self._get(self.service)
        except ProviderFailure as failure:
            return failure.check()
        return ConnectionCheck(True)

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        api_id = _api_id(desired)
        products = {
            _product_id(desired, p.plan_version_id): {
                "displayName": f"{desired.product_name} — {p.name}"[:300],
                "description": f"Managed by Tollgate: product {desired.product_id}, plan version {p.plan_version_id}",
                "subscriptionRequired": True,
                "approvalRequired": False,
                "state": "published",
                "apis": [api_id],
                "policy": _limits(p),
            }
            for p in desired.plans
        }
        subscriptions = {
            _subscription_id(k.subscription_id): {
                "displayName": f"Tollgate subscription {k.subscription_id} ({k.usage_identifier})",
                "scope": _product_id(desired, k.plan_version_id),
                "state": "active" if k.enabled else "suspended",
            }
            for k in desired.keys
        }
        return {"products": products, "subscriptions": subscriptions}

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        prefix = _product_id(desired, "")
        products: dict[str, Any] = {}
        subscriptions: dict[str, Any] = {}
        unmanaged: dict[str, dict[str, Any]] = {}
        for product in self._list(f"{self.service}/products"):
            pid, props = product["name"], product.get("properties") or {}
            if not pid.startswith(prefix):
                continue
            policy, extra = self._policy(pid)
            if extra:
                unmanaged.setdefault("policies", {})[pid] = extra
            products[pid] = {
                "displayName": props.get("displayName"),
                "description": props.get("description"),
                "subscriptionRequired": bool(props.get("subscriptionRequired", True)),
                "approvalRequired": bool(props.get("approvalRequired") or False),
                "state": props.get("state"),
                "apis": sorted(a["name"] for a in self._list(f"{self.service}/products/{pid}/apis")),
                "policy": policy,
            }
            for sub in self._list(f"{self.service}/products/{pid}/subscriptions"):
                sprops = sub.get("properties") or {}
                entry = {"displayName": sprops.get("displayName"), "scope": pid, "state": sprops.get("state")}
                if sub["name"].startswith("tollgate-"):
                    subscriptions[sub["name"]] = entry
                else:
                    unmanaged.setdefault("subscriptions", {})[sub["name"]] = entry
        for product in self._list(f"{self.service}/apis/{quote(_api_id(desired), safe='')}/products"):
            if not product["name"].startswith(prefix):
                name = (product.get("properties") or {}).get("displayName")
                unmanaged.setdefault("products", {})[product["name"]] = {"displayName": name}
        doc: dict[str, Any] = {"products": products, "subscriptions": subscriptions}
        if unmanaged:
            doc["unmanaged"] = unmanaged
        return doc

    def apply(self, desired: DesiredGateway) -> None:
        want = self.render(desired)
        api_id = _api_id(desired)
        self._get(f"{self.service}/apis/{quote(api_id, safe='')}")  # a missing API → GATEWAY_NOT_FOUND first
        existing = {p["name"] for p in self._list(f"{self.service}/products")}
        prefix = _product_id(desired, "")
        for pid, product in want["products"].items():
            props = {k: product[k] for k in ("displayName", "description", "subscriptionRequired", "approvalRequired")}
            self._put(f"{self.service}/products/{pid}", {"properties": {**props, "state": product["state"]}})
            self._put(f"{self.service}/products/{pid}/apis/{quote(api_id, safe='')}", None)
            self._put_policy(pid, product["policy"])
        for sid, sub in want["subscriptions"].items():
            body = {"properties": {"displayName": sub["displayName"], "scope": f"/products/{sub['scope']}"}}
            body["properties"]["state"] = sub["state"]
            self._put(f"{self.service}/subscriptions/{sid}", body)
        for pid in sorted(existing):
            if pid.startswith(prefix) and pid not in want["products"]:
                self._delete(f"{self.service}/products/{pid}", deleteSubscriptions="true")
        for pid in want["products"]:
            for sub in self._list(f"{self.service}/products/{pid}/subscriptions"):
                if sub["name"].startswith("tollgate-") and sub["name"] not in want["subscriptions"]:
                    self._delete(f"{self.service}/subscriptions/{sub['name']}")

    # -- ARM calls ----------------------------------------------------------------------------------------

    def _get(self, url: str, **params: str) -> Any:
        return json_body(self.api.send("GET", url, params={**params, "api-version": API_VERSION}), VENDOR)

    def _put(self, url: str, body: dict[str, Any] | None) -> None:
        self.api.send(
            "PUT", url, params={"api-version": API_VERSION}, json=body or {}, headers={"If-Match": "*"}, ok=(200, 201)
        )

    def _delete(self, url: str, **params: str) -> None:
        params = {**params, "api-version": API_VERSION}
        self.api.send("DELETE", url, params=params, headers={"If-Match": "*"}, ok=(200, 204, 404))

    def _list(self, url: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        body = self._get(url)
        for _ in range(100):
            items.extend(body.get("value") or [])
            if not body.get("nextLink"):
                break
            body = json_body(self.api.send("GET", self._same_origin(str(body["nextLink"]))), VENDOR)
        return items

    def _same_origin(self, link: str) -> str:
        """A vendor-given page link, followed only to the configured management API (scheme and host)."""
        given, mine = httpx.URL(link), httpx.URL(self.management)
        if (given.scheme, given.host, given.port) != (mine.scheme, mine.host, mine.port):
            raise ProviderFailure(
                "GATEWAY_REQUEST_FAILED",
                f"Azure: a list's nextLink points outside the management API {self.management}; Tollgate does not "
                "follow it.",
                "Check the integration's management_url names the Azure Resource Manager endpoint, then retry",
            )
        return link

    def _policy(self, pid: str) -> tuple[dict[str, Any], list[str]]:
        """The product policy's limits, and the inbound elements Tollgate does not own."""
        try:
            body = self._get(f"{self.service}/products/{pid}/policies/policy", format="rawxml")
        except ProviderFailure as failure:
            if failure.error_code == "GATEWAY_NOT_FOUND":
                return {"rate_limit": None, "quota": None}, []
            raise
        return parse_policy(str((body.get("properties") or {}).get("value") or "<policies/>"))

    def _put_policy(self, pid: str, limits: dict[str, Any]) -> None:
        url = f"{self.service}/products/{pid}/policies/policy"
        if limits["rate_limit"] is None and limits["quota"] is None:
            self._delete(url)
        else:
            self._put(url, {"properties": {"format": "rawxml", "value": policy_xml(limits)}})

    # -- the token ----------------------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        if self._token is None or self._token[1] < time.monotonic():
            self._token = self._fetch_token()
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _fetch_token(self) -> tuple[str, float]:
        url = f"{self.login}/{quote(str(self.config['tenant_id']), safe='')}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": str(self.credentials.get("client_id", "")),
            "client_secret": str(self.credentials.get("client_secret", "")),
            "scope": f"{self.management}/.default",
        }
        try:
            response = self.api.http.post(url, data=form)
        except httpx.HTTPError as exc:
            raise unreachable("Microsoft Entra ID", url, exc) from None
        if response.status_code != 200:
            raise token_failure(response)
        body = json_body(response, "Microsoft Entra ID")
        expires_in = max(60, min(int(body.get("expires_in") or 3599), 86_400))
        return str(body["access_token"]), time.monotonic() + expires_in - 60


def token_failure(response: httpx.Response) -> ProviderFailure:
    """Entra ID's answer to the client-credentials grant, as the seed's cause and fix."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    codes = {int(c) for c in body.get("error_codes") or [] if isinstance(c, int)}
    message = str(body.get("error_description") or message_of(response)).split("\r\n")[0][:400]
    for code, what in _SECRET_CODES.items():
        if code in codes:
            return ProviderFailure(
                SECRET_EXPIRED, f"Azure: Service principal secret {what} — Entra ID refused it: {message}", SECRET_FIX
            )
    if codes & _NOT_FOUND_CODES:
        return ProviderFailure(
            "GATEWAY_NOT_FOUND",
            f"Entra ID does not know the tenant or application: {message}",
            "Check tenant_id in the integration's config and client_id in its credentials",
        )
    return ProviderFailure(
        "GATEWAY_REQUEST_FAILED",
        f"Entra ID refused the service principal's token request ({response.status_code}): {message}",
        "Check the service principal's client_id and client_secret in Azure AD",
    )


def _arm_unauthorized(response: httpx.Response) -> ProviderFailure:
    return ProviderFailure(
        "GATEWAY_REQUEST_FAILED",
        f"Azure Resource Manager rejected the service principal's token (401): {message_of(response)}",
        "Test Connection again; if it persists, check that the service principal belongs to tenant_id",
    )


def _api_id(desired: DesiredGateway) -> str:
    api_id = str(desired.target.get("api_id") or "")
    if not api_id:
        raise ProviderFailure(
            "GATEWAY_NOT_FOUND",
            "The product's gateway target names no API Management API.",
            'Link the product with a target {"api_id": "<APIM API id>"}',
        )
    return api_id


def _product_id(desired: DesiredGateway, plan_version_id: str) -> str:
    return f"tollgate-{desired.product_id}-{plan_version_id}"


def _subscription_id(subscription_id: str) -> str:
    return f"tollgate-{subscription_id}"


def _limits(plan: GatewayPlan) -> dict[str, Any]:
    rate = None if plan.throttle is None else {"calls": plan.throttle.rate_per_second, "renewal_period": 1}
    quota = None
    if plan.quota is not None:
        quota = {"calls": plan.quota.limit, "renewal_period": PERIOD_SECONDS[plan.quota.period]}
    return {"rate_limit": rate, "quota": quota}


def policy_xml(limits: dict[str, Any]) -> str:
    inbound = ["<base />"]
    for tag, key in (("rate-limit", "rate_limit"), ("quota", "quota")):
        if limits[key] is not None:
            inbound.append(f'<{tag} calls="{limits[key]["calls"]}" renewal-period="{limits[key]["renewal_period"]}" />')
    sections = "".join(f"<{s}><base /></{s}>" for s in ("backend", "outbound", "on-error"))
    return f"<policies><inbound>{''.join(inbound)}</inbound>{sections}</policies>"


def parse_policy(xml: str) -> tuple[dict[str, Any], list[str]]:
    """(the rate-limit and quota of a product policy, the other inbound elements' names)."""
    limits: dict[str, Any] = {"rate_limit": None, "quota": None}
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return limits, ["<unparsable policy>"]
    inbound = root.find("inbound")
    extra: list[str] = []
    for element in [] if inbound is None else list(inbound):
        calls, period = element.get("calls") or "", element.get("renewal-period") or ""
        simple = not list(element) and calls.isdigit() and period.isdigit()
        if element.tag in ("rate-limit", "quota") and simple:
            key = "rate_limit" if element.tag == "rate-limit" else "quota"
            limits[key] = {"calls": int(calls), "renewal_period": int(period)}
        elif element.tag != "base" or list(element):
            extra.append(str(element.tag))  # anything else, or a limit Tollgate did not write (per key, named…)
    return limits, sorted(extra)
