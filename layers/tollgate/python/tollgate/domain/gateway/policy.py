"""Monetization policies: which routes are checked and metered, by which meter increments, and how the
gateway caches and fails (issue 15, seed 002 ``MonetizationInboundPolicy``).

Fields (``parse_policy`` validates them; each InvalidInput names its field):

- ``name``; ``routes``: ``"METHOD /path*"`` patterns (``routes``); the first policy in creation order
  whose routes match a request wins;
- ``meters``: meter event name -> increment per request (a positive number);
- ``meter_on_status_codes``: Zuplo syntax (``status_codes``), default ``"200-299"``;
- ``cache_ttl_seconds`` (1 to 3600, default 60), ``max_stale_seconds`` (0 to 86400, default 3600);
- ``fail_policy``: ``allow_known`` (default) | ``allow_all`` | ``deny_all``;
- ``auth_header`` (default ``Authorization``) and ``auth_scheme`` (default ``Bearer``; ``""``: the raw key);
- ``limit_mode``: ``cached`` (default) | ``strict`` (one conditional counter update per request);
- ``error_overrides``: ``{"USAGE_LIMIT_REACHED": {"status": 429, "extra": {...}}}``;
- ``features``: boolean features the routes need (the plan's ``metadata.features``, comma separated);
- ``threshold_percentages``: when ``entitlement.threshold_reached`` fires (default 80 and 100).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.gateway import status_codes
from tollgate.domain.gateway.codes import OVERRIDABLE
from tollgate.domain.gateway.routes import MAX_ROUTES, parse_route, route_matches
from tollgate.domain.money import plain, to_decimal


class FailPolicy(StrEnum):
    ALLOW_KNOWN = "allow_known"
    ALLOW_ALL = "allow_all"
    DENY_ALL = "deny_all"


class LimitMode(StrEnum):
    CACHED = "cached"
    STRICT = "strict"


MAX_METERS = 20
MAX_INCREMENT = Decimal(1_000_000_000)
MAX_TTL, MAX_STALE = 3600, 86400
DEFAULT_THRESHOLDS = (80, 100)
FIELDS = frozenset(
    {
        "name",
        "routes",
        "meters",
        "meter_on_status_codes",
        "cache_ttl_seconds",
        "max_stale_seconds",
        "fail_policy",
        "auth_header",
        "auth_scheme",
        "limit_mode",
        "error_overrides",
        "features",
        "threshold_percentages",
    }
)


@dataclass(frozen=True)
class Override:
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    policy_id: str
    tenant_id: str
    name: str
    routes: tuple[str, ...]
    meters: dict[str, Decimal]
    status_ranges: status_codes.Ranges
    created_at: datetime
    updated_at: datetime
    cache_ttl_seconds: int = 60
    max_stale_seconds: int = 3600
    fail_policy: FailPolicy = FailPolicy.ALLOW_KNOWN
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    limit_mode: LimitMode = LimitMode.CACHED
    error_overrides: dict[str, Override] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    threshold_percentages: tuple[int, ...] = DEFAULT_THRESHOLDS

    def covers(self, method: str, path: str) -> bool:
        return any(route_matches(r, method, path) for r in self.routes)

    def meters_status(self, status: int) -> bool:
        return status_codes.covers(self.status_ranges, status)

    @property
    def strict(self) -> bool:
        return self.limit_mode is LimitMode.STRICT

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "routes": list(self.routes),
            "meters": {k: _number(v) for k, v in self.meters.items()},
            "meter_on_status_codes": status_codes.text(self.status_ranges),
            "cache_ttl_seconds": self.cache_ttl_seconds,
            "max_stale_seconds": self.max_stale_seconds,
            "fail_policy": self.fail_policy.value,
            "auth_header": self.auth_header,
            "auth_scheme": self.auth_scheme,
            "limit_mode": self.limit_mode.value,
            "error_overrides": {k: {"status": o.status, "extra": o.extra} for k, o in self.error_overrides.items()},
            "features": list(self.features),
            "threshold_percentages": list(self.threshold_percentages),
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
        }


def _number(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else plain(value)


def first_covering(policies: list[Policy], method: str, path: str) -> Policy | None:
    """The first policy (creation order) whose routes match ``method path``."""
    return next((p for p in policies if p.covers(method, path)), None)


def parse_increments(value: Any, name: str) -> dict[str, Decimal]:
    if not isinstance(value, Mapping) or len(value) > MAX_METERS:
        raise InvalidInput(
            f"{name} must be an object of meter event name -> increment (at most {MAX_METERS})", field=name
        )
    out: dict[str, Decimal] = {}
    for key, raw in value.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 255:
            raise InvalidInput(f"{name}: meter event names are 1 to 255 characters", field=name)
        if isinstance(raw, float):
            raw = str(raw)
        amount = to_decimal(raw, f"{name}.{key[:40]}")
        if amount <= 0 or amount > MAX_INCREMENT:
            raise InvalidInput(
                f"{name}.{key[:40]} must be more than 0 and at most {MAX_INCREMENT}", field=f"{name}.{key[:40]}"
            )
        out[key] = amount
    return out


def _int(data: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{key} must be a whole number from {low} to {high}", field=key)
    return value


def _choice(data: Mapping[str, Any], key: str, kind: type[StrEnum], default: StrEnum) -> Any:
    value = data.get(key) or default
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{key} must be one of {', '.join(m.value for m in kind)}", field=key) from None


def _header(data: Mapping[str, Any], key: str, default: str, *, empty: bool) -> str:
    value = data.get(key, default)
    value = default if value is None else value
    ok = isinstance(value, str) and len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    if not ok or (not empty and not value):
        raise InvalidInput(f"{key} must be a header token (letters, digits, - and _), at most 64 characters", field=key)
    return value


def _overrides(value: Any) -> dict[str, Override]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > len(OVERRIDABLE):
        raise InvalidInput("error_overrides must map a denial code to {status, extra}", field="error_overrides")
    out: dict[str, Override] = {}
    for code, spec in value.items():
        where = f"error_overrides.{str(code)[:40]}"
        if code not in OVERRIDABLE:
            raise InvalidInput(f"{where}: not a denial code; use one of {', '.join(sorted(OVERRIDABLE))}", field=where)
        if not isinstance(spec, Mapping) or not set(spec) <= {"status", "extra"}:
            raise InvalidInput(f"{where} must be an object with status and/or extra", field=where)
        status = spec.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
            raise InvalidInput(f"{where}.status must be an HTTP status from 400 to 599", field=f"{where}.status")
        extra = spec.get("extra") or {}
        if not isinstance(extra, Mapping) or len(extra) > 10 or len(str(extra)) > 2000:
            raise InvalidInput(f"{where}.extra must be an object of at most 10 fields", field=f"{where}.extra")
        reserved = {"type", "title", "status", "code", "detail"} & set(extra)
        if reserved:
            raise InvalidInput(f"{where}.extra must not replace {', '.join(sorted(reserved))}", field=f"{where}.extra")
        out[code] = Override(status, dict(extra))
    return out


def _strings(value: Any, key: str, limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > limit
        or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)
    ):
        raise InvalidInput(f"{key} must be a list of at most {limit} names (1 to 64 characters)", field=key)
    return tuple(dict.fromkeys(value))


def _thresholds(value: Any) -> tuple[int, ...]:
    if value is None:
        return DEFAULT_THRESHOLDS
    ok = isinstance(value, list) and 0 < len(value) <= 10
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000 for v in value)
    if not ok:
        raise InvalidInput(
            "threshold_percentages must be 1 to 10 whole percentages (1 to 1000)", field="threshold_percentages"
        )
    return tuple(sorted(set(value)))


def parse_policy(
    data: Mapping[str, Any], *, policy_id: str, tenant_id: str, now: datetime, created_at: datetime | None = None
) -> Policy:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0][:40]}; a policy takes {', '.join(sorted(FIELDS))}", field=unknown[0][:40]
        )
    name = data.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        raise InvalidInput("name must be a string of at most 200 characters", field="name")
    routes = data.get("routes")
    if not isinstance(routes, list) or not routes or len(routes) > MAX_ROUTES:
        raise InvalidInput(f'routes must list 1 to {MAX_ROUTES} patterns such as "GET /api/widgets*"', field="routes")
    parsed_routes = tuple(dict.fromkeys(parse_route(r, f"routes[{i}]") for i, r in enumerate(routes)))
    return Policy(
        policy_id=policy_id,
        tenant_id=tenant_id,
        name=name,
        routes=parsed_routes,
        meters=parse_increments(data.get("meters") or {}, "meters"),
        status_ranges=status_codes.parse(data.get("meter_on_status_codes")),
        created_at=created_at or now,
        updated_at=now,
        cache_ttl_seconds=_int(data, "cache_ttl_seconds", 60, 1, MAX_TTL),
        max_stale_seconds=_int(data, "max_stale_seconds", 3600, 0, MAX_STALE),
        fail_policy=_choice(data, "fail_policy", FailPolicy, FailPolicy.ALLOW_KNOWN),
        auth_header=_header(data, "auth_header", "Authorization", empty=False),
        auth_scheme=_header(data, "auth_scheme", "Bearer", empty=True),
        limit_mode=_choice(data, "limit_mode", LimitMode, LimitMode.CACHED),
        error_overrides=_overrides(data.get("error_overrides")),
        features=_strings(data.get("features"), "features", 20),
        threshold_percentages=_thresholds(data.get("threshold_percentages")),
    )


def policy_from_json(data: Mapping[str, Any], tenant_id: str) -> Policy:
    """A stored policy (``Policy.to_json``), trusted."""
    from tollgate.domain.clock import parse_rfc3339

    policy = parse_policy(
        {k: v for k, v in data.items() if k in FIELDS},
        policy_id=data["policy_id"],
        tenant_id=tenant_id,
        now=parse_rfc3339(data["updated_at"]),
        created_at=parse_rfc3339(data["created_at"]),
    )
    return replace(policy)
