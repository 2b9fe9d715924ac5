"""Monetization policies: create, read, list (paginated), replace, delete; and the tenant's policies as
the check reads them (cached in the process for ``POLICY_CACHE_SECONDS``; a write in this process
invalidates at once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.gateway.policy import Policy, parse_policy
from tollgate.domain.ids import new_id
from tollgate.domain.paging import invalid_cursor
from tollgate.usecases.gateway.repos import GatewayRepos

MAX_POLICIES = 100
POLICY_CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, list[Policy]]] = {}
_lock = threading.Lock()


def _forget(tenant_id: str) -> None:
    with _lock:
        _cache.pop(tenant_id, None)


def tenant_policies(repos: GatewayRepos, tenant_id: str) -> list[Policy]:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(tenant_id)
    if hit and hit[0] > now:
        return hit[1]
    policies = repos.store.list_policies(tenant_id)
    with _lock:
        _cache[tenant_id] = (now + POLICY_CACHE_SECONDS, policies)
    return policies


def _not_found(policy_id: str) -> NotFound:
    return NotFound(
        f"Policy not found: {policy_id[:64]}. List the tenant's policies with GET /v1/gateway/policies.",
        code="POLICY_NOT_FOUND",
    )


def _policy_id() -> str:
    """``pol_`` + the creation time in microseconds (hex) + random: ids sort in creation order, which
    breaks ties between policies created in the same microsecond of the clock."""
    return f"pol_{time.time_ns() // 1000:013x}{new_id('', 6)[1:]}"


def create_policy(repos: GatewayRepos, tenant_id: str, data: Mapping[str, Any]) -> Policy:
    if len(repos.store.list_policies(tenant_id)) >= MAX_POLICIES:
        raise InvalidInput(f"A tenant has at most {MAX_POLICIES} policies; delete one first.", code="TOO_MANY_POLICIES")
    policy = parse_policy(data, policy_id=_policy_id(), tenant_id=tenant_id, now=repos.clock())
    repos.store.put_policy(policy, new=True)
    _forget(tenant_id)
    return policy


def get_policy(repos: GatewayRepos, tenant_id: str, policy_id: str) -> Policy:
    policy = repos.store.get_policy(tenant_id, policy_id)
    if policy is None:
        raise _not_found(policy_id)
    return policy


def list_policies(
    repos: GatewayRepos, tenant_id: str, *, limit: int, starting_after: str | None
) -> tuple[list[Policy], bool]:
    policies = repos.store.list_policies(tenant_id)
    if starting_after:
        ids = [p.policy_id for p in policies]
        if starting_after not in ids:
            raise invalid_cursor()
        policies = policies[ids.index(starting_after) + 1 :]
    return policies[:limit], len(policies) > limit


def replace_policy(repos: GatewayRepos, tenant_id: str, policy_id: str, data: Mapping[str, Any]) -> Policy:
    before = get_policy(repos, tenant_id, policy_id)
    policy = parse_policy(
        data, policy_id=policy_id, tenant_id=tenant_id, now=repos.clock(), created_at=before.created_at
    )
    repos.store.put_policy(policy, new=False)
    _forget(tenant_id)
    return policy


def delete_policy(repos: GatewayRepos, tenant_id: str, policy_id: str) -> None:
    if not repos.store.delete_policy(tenant_id, policy_id):
        raise _not_found(policy_id)
    _forget(tenant_id)
