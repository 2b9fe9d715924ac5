"""A fake Apigee API v1 (``/v1/organizations/{org}``: API products, developers, developer apps) and a fake
Google OAuth token endpoint (``POST /token``, the JWT-bearer grant of a service-account key file).

Requests need ``Authorization: Bearer`` with a valid token; an expired one gets Google's 401 body
(``UNAUTHENTICATED`` with an ``ErrorInfo`` reason ``ACCESS_TOKEN_EXPIRED``). An organization Apigee does not
know gets 403 ``PERMISSION_DENIED`` "(or it may not exist)", as Google answers. Lists are
``{"apiProduct": [...]}``, ``{"developer": [...]}``, ``{"app": [...]}``; creating a duplicate is 409
``ALREADY_EXISTS``; an app's status is changed with ``POST …/apps/{app}?action=approve|revoke`` and
``Content-Type: application/octet-stream`` (204). A test adds the tenant's own config with ``add_product``."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.gateways._server import Answer, FakeServer, Request

UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class FakeApigee(FakeServer):
    def __init__(self, organization: str = "acme-apis") -> None:
        super().__init__()
        self.organization = organization
        self.tokens = {"ya29.valid"}
        self.expired: set[str] = set()
        self.keys: dict[str, Any] = {}  # private_key_id -> public key (revoked ones removed)
        self.products: dict[str, dict[str, Any]] = {}
        self.developers: dict[str, dict[str, Any]] = {}
        self.apps: dict[str, dict[str, dict[str, Any]]] = {}  # email -> name -> app

    def expire(self, token: str) -> None:
        self.expired.add(token)

    def service_account_key(self) -> str:
        """A service-account key file (JSON) whose token endpoint is this fake."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = uuid.uuid4().hex
        self.keys[key_id] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "acme",
                "private_key_id": key_id,
                "private_key": pem,
                "client_email": "tollgate@acme.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": f"{self.url}/token",
            }
        )

    def add_product(self, name: str, proxies: list[str]) -> None:
        self.products[name] = {
            "name": name,
            "displayName": name,
            "approvalType": "manual",
            "proxies": proxies,
            "environments": [],
            "attributes": [],
            "createdAt": str(int(time.time() * 1000)),
        }

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        if request.method == "POST" and request.path == "/token":
            return self._token(request.form())
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.tokens or token in self.expired:
            reason = "ACCESS_TOKEN_EXPIRED" if token in self.expired else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "apigee.googleapis.com"},
            }
            return 401, {
                "error": {"code": 401, "message": UNAUTHENTICATED, "status": "UNAUTHENTICATED", "details": [info]}
            }
        parts = [p for p in request.path.split("/") if p]
        if parts[:2] != ["v1", "organizations"] or len(parts) < 3:
            return _error(404, "NOT_FOUND", f"Requested entity was not found: {request.path}")
        if parts[2] != self.organization:
            return _error(
                403,
                "PERMISSION_DENIED",
                f"Permission denied on resource 'organizations/{parts[2]}' (or it may not exist).",
            )
        return self._org(request, parts[3:])

    def _token(self, form: dict[str, str]) -> Answer:
        try:
            header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
            header = json.loads(_unb64(header_b64))
            public = self.keys[header["kid"]]
            public.verify(
                _unb64(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = f"ya29.{secrets.token_urlsafe(16)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _org(self, request: Request, parts: list[str]) -> Answer:
        method = request.method
        if not parts:
            return 200, {"name": self.organization, "runtimeType": "CLOUD", "state": "ACTIVE"}
        if parts[0] == "apiproducts":
            return self._products(request, parts[1:])
        if parts == ["developers"] and method == "GET":
            return 200, {"developer": list(self.developers.values())}
        if parts == ["developers"] and method == "POST":
            body = request.json()
            email = body["email"].lower()
            if email in self.developers:
                return _error(409, "ALREADY_EXISTS", f"Developer with email {email} already exists")
            self.developers[email] = {**body, "email": email, "developerId": str(uuid.uuid4()), "status": "active"}
            self.apps[email] = {}
            return 201, self.developers[email]
        if parts[0] == "developers" and len(parts) >= 2:
            email = parts[1].lower()
            if email not in self.developers:
                return _error(404, "NOT_FOUND", f"Developer {email} not found")
            if len(parts) == 2:
                return 200, self.developers[email]
            if parts[2] == "apps":
                return self._apps(request, email, parts[3:])
        return _error(404, "NOT_FOUND", "Requested entity was not found.")

    def _products(self, request: Request, rest: list[str]) -> Answer:
        if not rest and request.method == "GET":
            return 200, {"apiProduct": sorted(self.products.values(), key=lambda p: p["name"])}
        if not rest and request.method == "POST":
            body = request.json()
            if body["name"] in self.products:
                return _error(409, "ALREADY_EXISTS", f"APIProduct {body['name']} already exists")
            self.products[body["name"]] = {**body, "createdAt": str(int(time.time() * 1000))}
            return 201, self.products[body["name"]]
        name = rest[0]
        if name not in self.products:
            return _error(404, "NOT_FOUND", f"APIProduct {name} not found")
        if request.method == "PUT":
            self.products[name] = {**request.json(), "name": name, "createdAt": self.products[name]["createdAt"]}
        elif request.method == "DELETE":
            return 200, self.products.pop(name)
        return 200, self.products[name]

    def _apps(self, request: Request, email: str, rest: list[str]) -> Answer:
        apps, method = self.apps[email], request.method
        unknown = (
            [p for p in (request.json().get("apiProducts") or []) if p not in self.products]
            if method
            in (
                "POST",
                "PUT",
            )
            and not request.query.get("action")
            else []
        )
        if unknown:
            return _error(400, "INVALID_ARGUMENT", f"API product(s) {unknown} do not exist")
        if not rest and method == "GET":
            return 200, {"app": list(apps.values())}
        if not rest and method == "POST":
            body = request.json()
            if body["name"] in apps:
                return _error(409, "ALREADY_EXISTS", f"App {body['name']} already exists")
            apps[body["name"]] = self._app(body, "approved")
            return 201, apps[body["name"]]
        name = rest[0]
        if name not in apps:
            return _error(404, "NOT_FOUND", f"App {name} not found for developer {email}")
        if method == "PUT":
            apps[name] = self._app(request.json(), apps[name]["status"], apps[name])
        elif method == "DELETE":
            return 200, apps.pop(name)
        elif method == "POST" and request.query.get("action") in ("approve", "revoke"):
            if request.headers.get("content-type") != "application/octet-stream":
                return _error(400, "INVALID_ARGUMENT", "Content-Type must be application/octet-stream")
            apps[name]["status"] = "approved" if request.query["action"] == "approve" else "revoked"
            return 204, None
        return 200, apps[name]

    def _app(self, body: dict[str, Any], status: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        credential = (previous or {}).get("credentials", [{}])[0] or {}
        credential = {
            "consumerKey": credential.get("consumerKey") or secrets.token_hex(16),
            "consumerSecret": credential.get("consumerSecret") or secrets.token_hex(16),
            "status": "approved",
            "apiProducts": [{"apiproduct": p, "status": "approved"} for p in body.get("apiProducts") or []],
        }
        app = {k: v for k, v in body.items() if k != "apiProducts"}
        return {
            **app,
            "appId": (previous or {}).get("appId") or str(uuid.uuid4()),
            "status": status,
            "credentials": [credential],
        }


def _error(code: int, status: str, message: str) -> Answer:
    return code, {"error": {"code": code, "message": message, "status": status}}


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
