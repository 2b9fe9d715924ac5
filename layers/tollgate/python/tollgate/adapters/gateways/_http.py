"""What the Kong, Azure API Management and Apigee adapters share: one httpx client per provider (10 s
timeouts), tag/name helpers, and the mapping of an HTTP failure to a ``ProviderFailure`` (the seed's cause
and fix). Each adapter supplies its own answer to 401 (the vendor's "credential expired" cause)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tollgate.ports.gateway_providers import ProviderFailure

TIMEOUT = httpx.Timeout(10.0)
MANAGED_TAG = "tollgate-managed"
_NAMESPACE = uuid.UUID("5a0c7c1e-3b8e-4d7e-9a55-7f0d1c2b9e10")  # fixed: ids derived from it never change


def client(http: httpx.Client | None) -> httpx.Client:
    """The provider's client: the caller's (tests) or a new one with Tollgate's 10 s timeouts."""
    return http if http is not None else httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def stable_id(*parts: str) -> str:
    """A UUID derived from Tollgate ids: the same resource gets the same id on every apply (idempotent PUTs)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def message_of(response: httpx.Response) -> str:
    """The vendor's own error message, whatever its shape (``message``, ``detail``, ``error.message``…)."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        for key in ("error_description", "detail", "message", "title"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


class VendorHttp:
    """Requests to one vendor API; every failure becomes a ``ProviderFailure`` with a cause and a fix."""

    def __init__(
        self,
        vendor: str,
        http: httpx.Client,
        unauthorized: Callable[[httpx.Response], ProviderFailure],
        headers: Callable[[], dict[str, str]],
        forbidden_fix: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.http = http
        self._unauthorized = unauthorized
        self._headers = headers
        self._forbidden_fix = forbidden_fix or f"Grant the integration's identity the permission {vendor} names"

    def send(self, method: str, url: str, *, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> httpx.Response:
        """The response when its status is in ``ok``; otherwise the failure the status means."""
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise unreachable(self.vendor, url, exc) from None
        if response.status_code in ok:
            return response
        raise self.failure(response)

    def failure(self, response: httpx.Response) -> ProviderFailure:
        status, message = response.status_code, message_of(response)
        where = f"{response.request.method} {response.request.url.copy_with(query=None)}"
        if status == 401:
            return self._unauthorized(response)
        if status == 403:
            return ProviderFailure(
                "GATEWAY_PERMISSION_DENIED",
                f"{self.vendor} refused {where} (403): {message}",
                self._forbidden_fix,
            )
        if status == 404:
            return ProviderFailure(
                "GATEWAY_NOT_FOUND",
                f"{self.vendor} has no {where} (404): {message}",
                "Check the integration's config (names and ids) and the product's gateway target",
            )
        return ProviderFailure(
            "GATEWAY_REQUEST_FAILED",
            f"{self.vendor} answered {status} to {where}: {message}",
            f"Check the {self.vendor} configuration named in the detail, then retry",
        )


def unreachable(vendor: str, url: str, exc: Exception) -> ProviderFailure:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else f"failed ({type(exc).__name__})"
    return ProviderFailure(
        "GATEWAY_UNREACHABLE",
        f"The request to {vendor} at {httpx.URL(url).copy_with(query=None)} {kind}: {exc}",
        f"Check the {vendor} URL in the integration's config and that it accepts connections from Tollgate",
    )


def json_body(response: httpx.Response, vendor: str) -> dict[str, Any]:
    """The answer's JSON object (every vendor call Tollgate makes answers one), else GATEWAY_REQUEST_FAILED."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderFailure(
            "GATEWAY_REQUEST_FAILED",
            f"{vendor} answered {response.request.url.copy_with(query=None)} with something that is not a JSON object",
            f"Check that the integration's URL points at the {vendor} management API",
        )
    return body
