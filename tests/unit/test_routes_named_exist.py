"""Truthful hints: every route a user is sent to exists (issue 12 item 7).

Problem details, docstrings and the README name routes as ``METHOD /v1/...`` (the README's API table
also as ``POST/GET /v1/...``); each one must be an operation of the OpenAPI document, with path
parameters compared by position (``{id}``, ``{invoice_id}`` and ``<tenant_id>`` are the same)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tollgate.api.app import create_app
from tollgate.api.routers import all_routers

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# "PUT /v1/settings/payments", "GET/DELETE /v1/api-keys/{key_id}", "POST /v1/webhooks/stripe/<tenant>"
NAMED = re.compile(r"\b((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*)\s+`?(/v1/[^\s`'\"),;]*)")


def normalise(path: str) -> str:
    """Path parameters as ``{}`` (f-strings' ``{{id}}`` and ``{invoice.id}`` included)."""
    path = path.split("?")[0].rstrip(".:/").replace("{{", "{").replace("}}", "}")
    return re.sub(r"\{[^}/]*\}|<[^>/]*>", "{}", path)


def exists(method: str, path: str, operations: set[tuple[str, str]]) -> bool:
    """Whether an operation matches; a concrete segment (``/versions/1``) matches a parameter."""
    segments = normalise(path).split("/")
    for op_method, template in operations:
        parts = template.split("/")
        if op_method != method or len(parts) != len(segments):
            continue
        if all(t == s or t == "{}" for t, s in zip(parts, segments, strict=True)):
            return True
    return False


@pytest.fixture(scope="module")
def operations() -> set[tuple[str, str]]:
    doc = json.loads(create_app(*all_routers()).get_openapi_json_schema(title="t", version="1"))
    return {(method.upper(), normalise(path)) for path, item in doc["paths"].items() for method in item}


def named_routes() -> list[tuple[str, str, str]]:
    """(where, method, path) for every route named in the README and in the code under layers/."""
    sources = [ROOT / "README.md", *sorted((ROOT / "layers").rglob("*.py"))]
    found = []
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for match in NAMED.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{source.relative_to(ROOT)}:{line}"
            for method in match.group(1).split("/"):
                found.append((where, method, match.group(2)))
    return found


def test_the_scan_finds_the_routes_it_should(operations):
    named = {(m, normalise(p)) for _, m, p in named_routes()}
    assert ("PUT", "/v1/settings/payments") in named and ("DELETE", "/v1/api-keys/{}") in named
    assert exists("POST", "/v1/plans/{plan_id}/versions/1/publish", operations)
    assert not exists("PUT", "/v1/payment-settings", operations)  # the hint issue 12 found


def test_every_route_named_in_a_detail_docstring_or_the_readme_exists(operations):
    missing = [
        f"{where}: {method} {path}" for where, method, path in named_routes() if not exists(method, path, operations)
    ]
    assert not missing, "routes named but not in the OpenAPI document:\n" + "\n".join(missing)
