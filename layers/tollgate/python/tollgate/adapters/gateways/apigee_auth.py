"""Apigee's credentials: an OAuth 2.0 access token as given, or one minted from a Google service-account key
file with the ``google-auth`` library (the JWT-bearer grant at the key file's ``token_uri``), sent over
Tollgate's httpx client. Google refusing the key (deleted, disabled) is the seed's "OAuth token expired"."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from google.auth import exceptions, transport
from google.oauth2 import service_account

from tollgate.adapters.gateways._http import TIMEOUT, unreachable
from tollgate.ports.gateway_providers import ProviderFailure

TOKEN_EXPIRED = "APIGEE_TOKEN_EXPIRED"
TOKEN_FIX = "Re-authorize the integration"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class _Response(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _HttpxRequest(transport.Request):
    """google-auth's transport interface over an httpx client."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> transport.Response:
        try:
            response = self.http.request(method, url, content=body, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise exceptions.TransportError(str(exc)) from exc
        return _Response(response)


GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def service_account_token(key_json: str, http: httpx.Client) -> str:
    """An access token for the key file's service account (cloud-platform scope), or the failure it meets."""
    try:
        info = {"token_uri": GOOGLE_TOKEN_URI, **json.loads(key_json)}  # absent: Google's (checked when stored)
        credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (ValueError, KeyError, TypeError) as exc:
        raise ProviderFailure(
            TOKEN_EXPIRED,
            f"Apigee: the service-account key file cannot be used ({type(exc).__name__}: {exc}).",
            TOKEN_FIX,
        ) from None
    try:
        credentials.refresh(_HttpxRequest(http))
    except exceptions.TransportError as exc:
        raise unreachable("Google OAuth", str(info.get("token_uri") or "the token endpoint"), exc) from None
    except exceptions.RefreshError as exc:
        reason = exc.args[0] if exc.args else exc
        raise ProviderFailure(
            TOKEN_EXPIRED,
            f"Apigee: OAuth token expired — Google refused the service account's key: {reason}",
            TOKEN_FIX,
        ) from None
    return str(credentials.token)
