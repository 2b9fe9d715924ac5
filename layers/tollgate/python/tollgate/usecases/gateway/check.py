"""``POST /v1/gateway/check`` and Envoy's ext_authz: the decision for a customer key on a route.

An uncached decision reads one item (the key's access snapshot; the tenant's policies are cached in the
process). The plan's rate limit adds one conditional UpdateItem when the plan has one; a strict-mode
policy adds one conditional counter update per hard meter (zero overshoot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.errors import InvalidInput
from tollgate.domain.gateway.decision import Decision, decide, missing_key
from tollgate.domain.gateway.policy import Policy, first_covering, parse_increments
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState
from tollgate.domain.keys import hash_key
from tollgate.usecases.gateway.policies import tenant_policies
from tollgate.usecases.gateway.repos import GatewayRepos
from tollgate.usecases.gateway.snapshots import load

DEFAULT_TTL = 60
MAX_KEY = 512


@dataclass(frozen=True)
class Answer:
    decision: Decision
    policy: Policy | None
    snapshot: AccessSnapshot | None
    reason: str | None = None

    @property
    def cache_ttl_seconds(self) -> int:
        if self.decision.allowed and self.snapshot is not None and self.snapshot.rate_limit is not None:
            return 0  # a cached allowed answer would never see the plan's rate limit
        if self.policy is None:
            return DEFAULT_TTL
        return 0 if self.policy.strict and self.decision.allowed else self.policy.cache_ttl_seconds

    def to_json(self) -> dict[str, Any]:
        s = self.snapshot
        out = {
            "allowed": self.decision.allowed,
            "status": self.decision.status(self.policy),
            "problem": self.decision.problem(self.policy),
            "headers": self.decision.headers(),
            "subscription_id": s.subscription_id if s else None,
            "customer_id": s.customer_id if s else None,
            "usage_identifier": s.usage_identifier if s and self.decision.allowed else None,
            "policy": _policy_json(self.policy),
            "meters": self.decision.meters,
            "cache_ttl_seconds": self.cache_ttl_seconds,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def _policy_json(policy: Policy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    data = policy.to_json()
    for key in ("created_at", "updated_at"):
        data.pop(key)
    return data


def counter_period(snapshot: AccessSnapshot, meter: str) -> str:
    m = snapshot.meters[meter]
    return m.period_start.isoformat() if m.period_start else "-"


def _strict(
    repos: GatewayRepos, s: AccessSnapshot, increments: Mapping[str, Decimal], now: datetime
) -> dict[str, Decimal]:
    """Take every hard meter's increment from its counter; a refusal gives back what was taken and
    returns the counter it found (the decision then denies on it)."""
    taken: list[tuple[str, Decimal]] = []
    for name, inc in increments.items():
        m = s.meters.get(name)
        if m is None or not m.hard or m.limit is None or s.subscription_id is None:
            continue
        ok, before = repos.store.take_counter(
            s.tenant_id, s.subscription_id, name, counter_period(s, name), inc, m.limit, m.used_at(now)
        )
        if not ok:
            for done, amount in taken:
                repos.store.give_back(s.tenant_id, s.subscription_id, done, counter_period(s, done), amount)
            return {name: before}
        taken.append((name, inc))
    return {}


def _rate_retry(repos: GatewayRepos, s: AccessSnapshot, now: datetime) -> int | None:
    if s.rate_limit is None or s.subscription_id is None:
        return None
    limit, window = s.rate_limit
    epoch = int(now.timestamp())
    start = epoch - epoch % window
    if repos.store.take_rate(s.tenant_id, s.subscription_id, start, limit, window):
        return None
    return max(1, start + window - epoch)


def evaluate(
    repos: GatewayRepos,
    snapshot: AccessSnapshot | None,
    policy: Policy | None,
    increments: Mapping[str, Decimal],
    now: datetime,
    *,
    consume: bool = True,
) -> Decision:
    """The decision; with ``consume`` the plan's rate limit and strict counters are taken."""
    decision = decide(snapshot, policy, increments, now)
    if not decision.allowed or not consume or snapshot is None:
        return decision
    retry = _rate_retry(repos, snapshot, now)
    if retry is not None:
        return decide(snapshot, policy, increments, now, rate_retry_after=retry)
    if policy is not None and policy.strict:
        found = _strict(repos, snapshot, increments, now)
        if found:
            return decide(snapshot, policy, increments, now, used=found)
    return decision


def snapshot_of(repos: GatewayRepos, tenant_id: str, api_key: str) -> AccessSnapshot | None:
    return load(repos, tenant_id, hash_key(api_key)) if len(api_key) <= MAX_KEY else None


def check(repos: GatewayRepos, tenant_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    method, path = body.get("method"), body.get("path")
    if (method is None) != (path is None):
        raise InvalidInput(
            "send both method and path (one route), or neither (every policy)",
            field="method" if method is None else "path",
        )
    explicit = parse_increments(body["meters"], "meters") if body.get("meters") else None
    policies = tenant_policies(repos, tenant_id)
    api_key = (body.get("api_key") or "").strip()
    now = repos.clock()
    if method is None:
        return _all_policies(repos, tenant_id, policies, api_key, now)
    policy = first_covering(policies, str(method), str(path))
    if policy is None and not explicit:
        return Answer(Decision(True), None, None, "NOT_COVERED").to_json()
    increments = explicit or (policy.meters if policy else {})
    if not api_key:
        header, scheme = (policy.auth_header, policy.auth_scheme) if policy else ("Authorization", "Bearer")
        return Answer(missing_key(header, scheme), policy, None).to_json()
    snapshot = snapshot_of(repos, tenant_id, api_key)
    return Answer(evaluate(repos, snapshot, policy, increments, now), policy, snapshot).to_json()


def _all_policies(
    repos: GatewayRepos, tenant_id: str, policies: list[Policy], api_key: str, now: datetime
) -> dict[str, Any]:
    """Every policy's answer for the key (the Lambda authorizer's one cached policy document); the key's
    own refusal (missing, unknown, revoked) is the top-level answer. Nothing is consumed here."""
    if not api_key:
        key_level: Decision | None = missing_key("Authorization", "Bearer")
        snapshot = None
    else:
        snapshot = snapshot_of(repos, tenant_id, api_key)
        key_level = (
            decide(snapshot, None, {}, now) if snapshot is None or snapshot.key_state is not KeyState.ACTIVE else None
        )
    decisions = []
    for policy in policies if key_level is None else []:
        answer = Answer(
            evaluate(repos, snapshot, policy, policy.meters, now, consume=False), policy, snapshot
        ).to_json()
        decisions.append({k: answer[k] for k in ("policy", "allowed", "status", "problem", "headers", "meters")})
    ttls = [p.cache_ttl_seconds for p in policies] or [DEFAULT_TTL]
    if key_level is None and snapshot is not None and snapshot.rate_limit is not None:
        ttls = [0]  # a rate-limited plan is asked every time
    top = key_level or Decision(True)
    return {
        "allowed": top.allowed,
        "status": top.status(None),
        "problem": top.problem(None),
        "headers": top.headers(),
        "decisions": decisions,
        "subscription_id": snapshot.subscription_id if snapshot else None,
        "customer_id": snapshot.customer_id if snapshot else None,
        "usage_identifier": snapshot.usage_identifier if snapshot and top.allowed else None,
        "cache_ttl_seconds": min(ttls),
    }


def remaining_headers(decision: Decision) -> dict[str, str]:
    return {
        f"X-Tollgate-Remaining-{name}": view["remaining"]
        for name, view in decision.meters.items()
        if view.get("remaining") is not None
    }


def token_of(value: str | None, scheme: str) -> str:
    """The key in an auth header value: after ``<scheme> `` (case-insensitive), or the whole value."""
    value = (value or "").strip()
    if not scheme:
        return value
    given, _, token = value.partition(" ")
    return token.strip() if given.lower() == scheme.lower() else ""
