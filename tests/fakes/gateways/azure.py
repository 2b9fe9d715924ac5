"""A fake Microsoft Entra ID token endpoint and Azure Resource Manager for one API Management instance.

Token: ``POST /{tenant}/oauth2/v2.0/token`` (client-credentials grant, form-encoded) answers like Entra ID:
an expired secret → 401 ``invalid_client`` with ``AADSTS7000222`` and ``error_codes: [7000222]``; a wrong
secret → ``AADSTS7000215``; an unknown tenant → 400 ``AADSTS90002``. ARM needs ``Authorization: Bearer``
with an issued token and ``api-version``; resources are ARM envelopes (``id``, ``type``, ``name``,
``properties``); lists are ``{"value": [...]}``; updating an existing entity needs ``If-Match``.
Entities: the service, APIs, products (+ their APIs and policy), subscriptions.
A test adds the tenant's own config with ``add_api`` / ``add_product``."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.fakes.gateways._server import Answer, FakeServer, Request

PROVIDER = "/providers/Microsoft.ApiManagement/service/"


class FakeAzure(FakeServer):
    def __init__(self, tenant: str = "contoso.onmicrosoft.com", service: str = "contoso-apim") -> None:
        super().__init__()
        self.tenant = tenant
        self.subscription = "00000000-0000-0000-0000-000000000001"
        self.resource_group = "rg-apis"
        self.service_name = service
        self.secrets: dict[str, dict[str, str]] = {}  # client_id -> {secret: "valid"|"expired"}
        self.issued: set[str] = set()
        self.apis: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.product_apis: dict[str, set[str]] = {}
        self.policies: dict[str, str] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}

    @property
    def config(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant,
            "subscription_id": self.subscription,
            "resource_group": self.resource_group,
            "service_name": self.service_name,
            "login_url": self.url,
            "management_url": self.url,
        }

    @property
    def service_id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}{PROVIDER}{self.service_name}"

    def add_secret(self, client_id: str, secret: str, state: str = "valid") -> None:
        self.secrets.setdefault(client_id, {})[secret] = state

    def add_api(self, api_id: str) -> None:
        self.apis[api_id] = self._envelope("apis", api_id, {"displayName": api_id, "path": api_id})

    def add_product(self, pid: str, display_name: str, apis: list[str]) -> None:
        props = {"displayName": display_name, "subscriptionRequired": True, "state": "published"}
        self.products[pid] = self._envelope("products", pid, props)
        self.product_apis[pid] = set(apis)

    def _envelope(self, kind: str, name: str, props: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{self.service_id}/{kind}/{name}",
            "type": f"Microsoft.ApiManagement/service/{kind}",
            "name": name,
            "properties": props,
        }

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        if request.method == "POST" and request.path.endswith("/oauth2/v2.0/token"):
            return self._token(request.path.split("/")[1], request.form())
        auth = request.headers.get("authorization", "")
        if not auth:
            return 401, _arm("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        if auth[7:] not in self.issued:
            return 401, _arm("InvalidAuthenticationToken", "The access token is invalid.")
        if not request.query.get("api-version"):
            return 400, _arm(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not request.path.startswith(self.service_id):
            name = request.path.split(PROVIDER, 1)[-1].split("/")[0]
            return 404, _arm(
                "ResourceNotFound",
                f"The Resource 'Microsoft.ApiManagement/service/{name}' under resource group "
                f"'{self.resource_group}' was not found. For more details please go to "
                "https://aka.ms/ARMResourceNotFoundFix",
            )
        parts = [p for p in request.path[len(self.service_id) :].split("/") if p]
        return self._service(request, parts)

    def _token(self, tenant: str, form: dict[str, str]) -> Answer:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace = str(uuid.uuid4())

        def error(status: int, error: str, code: int, text: str) -> Answer:
            description = (
                f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: {now}"
            )
            return status, {
                "error": error,
                "error_description": description,
                "error_codes": [code],
                "timestamp": now,
                "trace_id": trace,
                "correlation_id": str(uuid.uuid4()),
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            }

        if tenant != self.tenant:
            return error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if client_id not in self.secrets:
            return error(
                400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found."
            )
        state = self.secrets[client_id].get(secret)
        if state == "expired":
            return error(
                401,
                "invalid_client",
                7000222,
                (
                    f"The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to "
                    "create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds."
                ),
            )
        if state != "valid":
            return error(
                401,
                "invalid_client",
                7000215,
                (
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                    f"value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            )
        if not form.get("scope", "").endswith("/.default") or form.get("grant_type") != "client_credentials":
            return error(
                400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid."
            )
        token = secrets.token_urlsafe(24)
        self.issued.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    def _service(self, request: Request, parts: list[str]) -> Answer:
        method = request.method
        if not parts and method == "GET":
            props = {"gatewayUrl": f"https://{self.service_name}.azure-api.net", "provisioningState": "Succeeded"}
            return 200, {
                "id": self.service_id,
                "name": self.service_name,
                "type": "Microsoft.ApiManagement/service",
                "properties": props,
            }
        if parts == ["products"] and method == "GET":
            return 200, {"value": list(self.products.values())}
        if len(parts) == 2 and parts[0] == "apis" and method == "GET":
            return (200, self.apis[parts[1]]) if parts[1] in self.apis else _not_found(request.path)
        if len(parts) == 3 and parts[0] == "apis" and parts[2] == "products" and method == "GET":
            return 200, {"value": [self.products[p] for p, apis in self.product_apis.items() if parts[1] in apis]}
        if len(parts) >= 2 and parts[0] == "products":
            return self._product(request, parts[1], parts[2:])
        if len(parts) == 2 and parts[0] == "subscriptions":
            return self._subscription(request, parts[1])
        return _not_found(request.path)

    def _product(self, request: Request, pid: str, rest: list[str]) -> Answer:
        method, exists = request.method, pid in self.products
        if not rest:
            if method == "PUT":
                if exists and not request.headers.get("if-match"):
                    return _precondition()
                props = {
                    "subscriptionRequired": True,
                    "approvalRequired": False,
                    "state": "notPublished",
                    **request.json().get("properties", {}),
                }
                self.products[pid] = self._envelope("products", pid, props)
                self.product_apis.setdefault(pid, set())
                return (200 if exists else 201), self.products[pid]
            if method == "DELETE":
                self.products.pop(pid, None)
                self.product_apis.pop(pid, None)
                self.policies.pop(pid, None)
                if request.query.get("deleteSubscriptions") == "true":
                    for sid in [s for s, v in self.subscriptions.items() if _scope_product(v) == pid]:
                        self.subscriptions.pop(sid)
                return (200 if exists else 204), None
            return (200, self.products[pid]) if exists else _not_found(request.path)
        if not exists:
            return _not_found(request.path)
        if rest == ["apis"] and method == "GET":
            return 200, {"value": [self.apis[a] for a in sorted(self.product_apis[pid]) if a in self.apis]}
        if len(rest) == 2 and rest[0] == "apis" and method == "PUT":
            if rest[1] not in self.apis:
                return _not_found(request.path)
            self.product_apis[pid].add(rest[1])
            return 200, self.apis[rest[1]]
        if rest == ["subscriptions"] and method == "GET":
            return 200, {"value": [s for s in self.subscriptions.values() if _scope_product(s) == pid]}
        if rest == ["policies", "policy"]:
            return self._policy(request, pid)
        return _not_found(request.path)

    def _policy(self, request: Request, pid: str) -> Answer:
        if request.method == "PUT":
            if pid in self.policies and not request.headers.get("if-match"):
                return _precondition()
            self.policies[pid] = request.json()["properties"]["value"]
        elif request.method == "DELETE":
            self.policies.pop(pid, None)
            return 200, None
        if pid not in self.policies:
            return _not_found(request.path)
        fmt = request.query.get("format", "xml")
        return 200, self._envelope("policies", "policy", {"format": fmt, "value": self.policies[pid]})

    def _subscription(self, request: Request, sid: str) -> Answer:
        exists = sid in self.subscriptions
        if request.method == "PUT":
            if exists and not request.headers.get("if-match"):
                return _precondition()
            props = dict(request.json().get("properties", {}))
            product = props.get("scope", "").rsplit("/products/", 1)[-1]
            if product not in self.products:
                return 400, _arm("ValidationError", f"Product not found: {props.get('scope')}")
            props["scope"] = f"{self.service_id}/products/{product}"
            props.setdefault("state", "submitted")
            props["createdDate"] = datetime.now(UTC).isoformat()
            self.subscriptions[sid] = self._envelope("subscriptions", sid, props)
            return (200 if exists else 201), self.subscriptions[sid]
        if request.method == "DELETE":
            self.subscriptions.pop(sid, None)
            return (200 if exists else 204), None
        return (200, self.subscriptions[sid]) if exists else _not_found(request.path)


def _arm(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _not_found(path: str) -> Answer:
    return 404, _arm("ResourceNotFound", f"The Resource '{path.rsplit('/service/', 1)[-1]}' was not found.")


def _precondition() -> Answer:
    return 412, _arm("PreconditionFailed", "The If-Match header is required to update an existing entity.")


def _scope_product(subscription: dict[str, Any]) -> str:
    return str(subscription["properties"].get("scope", "")).rsplit("/products/", 1)[-1]
