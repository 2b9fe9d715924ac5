"""Envoy ext_authz (HTTP mode): Envoy forwards the client's request line and headers to
``/v1/gateway/ext-authz/<original path>``; the answer's status is the decision. Allowed: 200 with
``X-Tollgate-Subscription-Id``, ``X-Tollgate-Customer-Id`` and ``X-Tollgate-Remaining-<meter>`` (Envoy
copies them upstream when configured to); denied: the problem itself (401/403/429, or the status the
policy's ``error_overrides`` maps it to)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tollgate.domain.gateway.decision import Decision, missing_key
from tollgate.domain.gateway.policy import first_covering
from tollgate.usecases.authorize import header
from tollgate.usecases.gateway.check import evaluate, remaining_headers, snapshot_of, token_of
from tollgate.usecases.gateway.policies import tenant_policies
from tollgate.usecases.gateway.repos import GatewayRepos

PREFIX = "/v1/gateway/ext-authz"


def ext_authz(
    repos: GatewayRepos, tenant_id: str, method: str, path: str, headers: Mapping[str, str] | None
) -> tuple[int, dict[str, str], dict[str, Any] | None]:
    """(status, headers, problem body or None) for the original request ``method path``."""
    original = path[len(PREFIX) :] if path.startswith(PREFIX + "/") else path
    policy = first_covering(tenant_policies(repos, tenant_id), method, original)
    if policy is None:
        return 200, {"X-Tollgate-Decision": "NOT_COVERED"}, None
    api_key = token_of(header(dict(headers or {}), policy.auth_header), policy.auth_scheme)
    snapshot = None
    if not api_key:
        decision: Decision = missing_key(policy.auth_header, policy.auth_scheme)
    else:
        snapshot = snapshot_of(repos, tenant_id, api_key)
        decision = evaluate(repos, snapshot, policy, policy.meters, repos.clock())
    if not decision.allowed:
        return decision.status(policy), decision.headers(), decision.problem(policy)
    out = {
        "X-Tollgate-Subscription-Id": (snapshot.subscription_id if snapshot else None) or "",
        "X-Tollgate-Customer-Id": (snapshot.customer_id if snapshot else None) or "",
        **remaining_headers(decision),
    }
    return 200, out, None
