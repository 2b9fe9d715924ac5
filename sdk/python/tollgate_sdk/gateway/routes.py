"""Route patterns, matched exactly as the server matches them (GATEWAY.md).

A pattern is ``"METHOD /path"``; ``*`` matches any characters (``/`` included) and ``METHOD`` may be
``*``. Among several policies the first one (in creation order: the order the server listed or first
answered them) that matches wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> tuple[str, re.Pattern[str]]:
    method, _, path = pattern.strip().partition(" ")
    regex = ".*".join(re.escape(part) for part in path.strip().split("*"))
    return method.strip().upper() or "*", re.compile(f"^{regex}$")


def route_matches(pattern: str, method: str, path: str) -> bool:
    want, regex = _compiled(pattern)
    return (want in ("*", method.upper())) and regex.match(path) is not None


def policy_matches(policy: Mapping[str, Any], method: str, path: str) -> bool:
    return any(route_matches(p, method, path) for p in policy.get("routes") or ())


def first_match(policies: Iterable[Mapping[str, Any]], method: str, path: str) -> Mapping[str, Any] | None:
    for policy in policies:
        if policy_matches(policy, method, path):
            return policy
    return None
