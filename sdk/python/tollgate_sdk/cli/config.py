"""Where the CLI finds the API and its key, and the HTTP calls it makes.

Order: command-line options, then ``TOLLGATE_API_URL`` / ``TOLLGATE_API_KEY`` / ``TOLLGATE_TENANT_ID``, then
the config file written by ``tollgate login`` (``config.json`` in the user's config dir, mode 0600;
``TOLLGATE_CONFIG_DIR`` moves it), then ``.local/bootstrap.json`` of a ``make run`` in this directory or a
parent (a laptop with the local stack needs no login at all).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import httpx

from tollgate_sdk._transport import headers as auth_headers


class CliError(click.ClickException):
    """An error the CLI prints as one clear line (exit code 1)."""


def config_dir() -> Path:
    if override := os.environ.get("TOLLGATE_CONFIG_DIR"):
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "tollgate"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "tollgate"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "tollgate"


def config_path() -> Path:
    return config_dir() / "config.json"


def save_config(values: dict[str, str]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def find_bootstrap(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".local" / "bootstrap.json"
        if candidate.is_file():
            return candidate
    return None


def read_bootstrap(path: Path) -> dict[str, str]:
    boot = json.loads(path.read_text())
    return {"api_url": boot["api_url"], "api_key": boot["operator_key"], "tenant_id": boot["tenant_id"]}


@dataclass
class Profile:
    api_url: str
    api_key: str
    tenant_id: str | None
    source: str


def resolve_profile(api_url: str | None, api_key: str | None, tenant_id: str | None) -> Profile:
    found: dict[str, Any] = {}
    source = "options"
    path = config_path()
    if path.is_file():
        found, source = json.loads(path.read_text()), str(path)
    elif (boot := find_bootstrap()) is not None:
        found, source = read_bootstrap(boot), str(boot)
    url = api_url or os.environ.get("TOLLGATE_API_URL") or found.get("api_url")
    key = api_key or os.environ.get("TOLLGATE_API_KEY") or found.get("api_key")
    tenant = tenant_id or os.environ.get("TOLLGATE_TENANT_ID") or found.get("tenant_id")
    if not url or not key:
        raise CliError("Not logged in: run `tollgate login` (or set TOLLGATE_API_URL and TOLLGATE_API_KEY).")
    return Profile(url.rstrip("/"), key, tenant, source)


class Api:
    """The HTTP calls of one command; an error answer becomes a CliError with the API's own detail."""

    def __init__(self, profile: Profile, timeout: float = 30.0):
        self.profile = profile
        self.http = httpx.Client(
            base_url=profile.api_url,
            headers=auth_headers(profile.api_key, profile.tenant_id, False),
            timeout=timeout,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"Cannot reach {self.profile.api_url}: {exc}") from None
        if response.status_code >= 400:
            raise CliError(describe_problem(response))
        if not response.content:
            return {}
        return json.loads(response.content, parse_float=Decimal)

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def iterate(self, path: str, page_size: int = 100, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list route, page by page: each next page asks ``starting_after`` = the
        previous page's ``next_cursor``, while ``has_more``."""
        params.pop("limit", None)
        cursor = None
        while True:
            page = self.get(path, limit=page_size, starting_after=cursor, **params)
            yield from page.get("data") or []
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return

    def pages(self, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
        """The first ``limit`` items of a list route."""
        return list(itertools.islice(self.iterate(path, min(100, max(1, limit)), **params), limit))


def describe_problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("detail") or body.get("title")):
        code = f" {body['code']}" if body.get("code") else ""
        return f"{response.status_code}{code}: {body.get('detail') or body.get('title')}"
    return f"{response.status_code}: {response.text[:300]}"
