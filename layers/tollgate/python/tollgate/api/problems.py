"""RFC 7807 problem details: every 4xx/5xx answer Tollgate gives has this shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

PROBLEM_JSON = "application/problem+json"
# Echoed input is bounded: a detail or path quoting a 100 KB header or id is cut, not sent back whole.
MAX_DETAIL_CHARS = 2000
MAX_INSTANCE_CHARS = 1000


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_body(status: int, title: str, detail: str, instance: str, code: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": _bounded(detail, MAX_DETAIL_CHARS),
        "instance": _bounded(quote(instance, safe="/:@!$&'()*+,;=-._~%"), MAX_INSTANCE_CHARS),
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_proxy_response(status: int, title: str, detail: str, instance: str, code: str, **extra: Any) -> dict:
    """A complete API Gateway proxy response, for answers given outside the resolver."""
    headers = {"Content-Type": PROBLEM_JSON}
    return {
        "statusCode": status,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "body": json.dumps(problem_body(status, title, detail, instance, code, **extra)),
        "isBase64Encoded": False,
    }
