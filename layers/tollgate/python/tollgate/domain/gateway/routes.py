"""Route patterns ``"METHOD /path"``: ``*`` matches any characters (``/`` included) and ``METHOD`` may be
``*``. Methods compare case-insensitively, paths exactly."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tollgate.domain.errors import InvalidInput

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*")
MAX_ROUTES = 50
MAX_ROUTE = 500


def parse_route(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ROUTE:
        raise InvalidInput(f'{field} must be "METHOD /path" such as "GET /api/widgets*"', field=field)
    method, _, path = value.strip().partition(" ")
    method, path = method.upper(), path.strip()
    if method not in METHODS:
        raise InvalidInput(f"{field}: method '{method[:10]}' must be one of {', '.join(METHODS)}", field=field)
    if not path.startswith("/") or any(c.isspace() or not c.isprintable() for c in path):
        raise InvalidInput(f"{field}: the path must start with / and hold no spaces (e.g. /api/widgets*)", field=field)
    return f"{method} {path}"


@lru_cache(maxsize=4096)
def _regex(path_glob: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in path_glob), re.DOTALL)


def route_matches(route: str, method: str, path: str) -> bool:
    want_method, _, glob = route.partition(" ")
    if want_method != "*" and want_method != method.upper():
        return False
    return _regex(glob).fullmatch(path) is not None
