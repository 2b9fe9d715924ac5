"""AWS API Gateway (REST): render, read and apply a product's DesiredGateway (issue 19).

What Tollgate pushes to the linked REST API (``target``: ``{"rest_api_id", "stage"}``):

- the REST API's ``apiKeySource`` = ``AUTHORIZER``: Tollgate keeps customer keys only as hashes, so it
  cannot push their values; the gateway's Lambda authorizer returns the subscription's Tollgate-generated
  usage identifier as ``usageIdentifierKey`` and API Gateway throttles and counts that API key;
- a usage plan per published plan version on the target stage, with the throttle and quota, tagged
  ``tollgate:tenant``, ``tollgate:product`` and ``tollgate:plan_version`` (how Tollgate finds what it owns);
- an API key per subscription (name ``tollgate-<subscription_id>``, value = the usage identifier), in its
  version's usage plan, disabled once the subscription is cancelled or expired.

The document (``render`` = what Tollgate would push, ``read`` = what the gateway holds) is keyed by
Tollgate ids. Stages of a managed usage plan other than the target, and API keys in it that Tollgate did
not create, are the tenant's own: ``read`` lists them under ``unmanaged`` and ``apply`` leaves them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate.domain.integrations.desired import DesiredGateway, GatewayPlan
from tollgate.domain.integrations.drift import normalize
from tollgate.ports.gateway_providers import ProviderFailure

TAG_TENANT, TAG_PRODUCT, TAG_VERSION = "tollgate:tenant", "tollgate:product", "tollgate:plan_version"
KEY_PREFIX = "tollgate-"
# Every API Gateway call sync, drift check and restore make: (boto3 operation, IAM action, resource path);
# ``aws.PERMISSIONS`` (the role template) includes them, and a refused one is reported naming them.
SYNC_CALLS: tuple[tuple[str, str, str], ...] = (
    ("get_rest_api", "apigateway:GET", "/restapis/*"),
    ("update_rest_api", "apigateway:PATCH", "/restapis/*"),
    ("get_usage_plans", "apigateway:GET", "/usageplans"),
    ("create_usage_plan", "apigateway:POST", "/usageplans"),
    ("update_usage_plan", "apigateway:PATCH", "/usageplans/*"),
    ("delete_usage_plan", "apigateway:DELETE", "/usageplans/*"),
    ("get_usage_plan_keys", "apigateway:GET", "/usageplans/*/keys"),
    ("create_usage_plan_key", "apigateway:POST", "/usageplans/*/keys"),
    ("delete_usage_plan_key", "apigateway:DELETE", "/usageplans/*/keys/*"),
    ("get_api_keys", "apigateway:GET", "/apikeys"),
    ("create_api_key", "apigateway:POST", "/apikeys"),
    ("update_api_key", "apigateway:PATCH", "/apikeys/*"),
    ("delete_api_key", "apigateway:DELETE", "/apikeys/*"),
)
# Tags given at creation (create_usage_plan, create_api_key) also need this one.
TAG_CALL = ("tag_resource", "apigateway:PUT", "/tags/*")
PAGE = 500  # API Gateway's largest page
_FIX_TARGET = "Check the link's target: PUT /v1/products/{product_id}/gateway with the right rest_api_id and stage."
_FIX_ROLE = "Check the CloudFormation template was applied (GET /v1/integrations/aws/role-template)"


def _stage(desired: DesiredGateway) -> str:
    return f"{desired.target.get('rest_api_id', '')}:{desired.target.get('stage', '')}"


def _plan_doc(desired: DesiredGateway, plan: GatewayPlan) -> dict[str, Any]:
    throttle, quota = plan.throttle, plan.quota
    return {
        "name": f"{desired.product_name} {plan.name}"[:255],
        "stages": [_stage(desired)],
        "throttle": None
        if throttle is None
        else {"rate_limit": throttle.rate_per_second, "burst_limit": throttle.burst},
        "quota": None if quota is None else {"limit": quota.limit, "period": quota.period, "offset": 0},
        "tags": {TAG_TENANT: desired.tenant_id, TAG_PRODUCT: desired.product_id, TAG_VERSION: plan.plan_version_id},
    }


def render(desired: DesiredGateway) -> dict[str, Any]:
    return {
        "rest_api": {"api_key_source": "AUTHORIZER"},
        "usage_plans": {p.plan_version_id: _plan_doc(desired, p) for p in desired.plans},
        "keys": {
            k.subscription_id: {"usage_plan": k.plan_version_id, "value": k.usage_identifier, "enabled": k.enabled}
            for k in desired.keys
        },
    }


def failure(error: Exception, desired: DesiredGateway) -> ProviderFailure:
    """A botocore error as the seed's cause and fix (when the call did not map it already)."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    message = str(response.get("Error", {}).get("Message", "")) or code or str(error)
    operation = getattr(error, "operation_name", "") or "a call"
    if code == "NotFoundException":
        fix = _FIX_TARGET.replace("{product_id}", desired.product_id)
        return ProviderFailure("GATEWAY_NOT_FOUND", f"AWS API Gateway: {message} (target {_stage(desired)}).", fix)
    if code in ("AccessDeniedException", "UnauthorizedException", "AccessDenied"):
        detail = f"AWS: IAM role permissions insufficient: API Gateway refused {operation}: {message}."
        return ProviderFailure("AWS_ROLE_PERMISSIONS_INSUFFICIENT", detail, _FIX_ROLE)
    detail = f"AWS API Gateway could not complete {operation}: {message}."
    return ProviderFailure(
        "GATEWAY_UNREACHABLE", detail, "Retry later; check the integration with its Test Connection."
    )


def client_caller(client: Any) -> Callable[..., Any]:
    """``call(operation, **kwargs)`` straight on a boto3 ``apigateway`` client."""
    return lambda operation, **kwargs: getattr(client, operation)(**kwargs)


def _stages(plan: dict[str, Any]) -> list[str]:
    return [f"{s['apiId']}:{s['stage']}" for s in plan.get("apiStages", [])]


class AwsGatewaySync:
    """Render/read/apply on one account's API Gateway. ``call(operation, **kwargs)`` makes one boto3
    ``apigateway`` call as the tenant's role (``aws.AwsApiGatewayProvider.call``, which names a refused
    permission; or ``client_caller``)."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self.call = call

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        return render(desired)

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._read(desired)
        except (BotoCoreError, ClientError) as error:  # AWS's answers → the seed's causes (never a 5xx)
            raise failure(error, desired) from error

    def apply(self, desired: DesiredGateway) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._apply(desired)
        except (BotoCoreError, ClientError) as error:
            raise failure(error, desired) from error

    # -- reading -------------------------------------------------------------------------------------------
    def _pages(self, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        position = None
        while True:
            answer = self.call(operation, limit=PAGE, **kwargs, **({"position": position} if position else {}))
            items.extend(answer.get("items", []))
            position = answer.get("position")
            if not position:
                return items

    def _managed_plans(self, desired: DesiredGateway) -> dict[str, dict[str, Any]]:
        """plan version id → the usage plan Tollgate created for this tenant's product."""
        found = {}
        for plan in self._pages("get_usage_plans"):
            tags = plan.get("tags") or {}
            if tags.get(TAG_TENANT) == desired.tenant_id and tags.get(TAG_PRODUCT) == desired.product_id:
                found[str(tags.get(TAG_VERSION, plan["id"]))] = plan
        return found

    def _keys_by_id(self) -> dict[str, dict[str, Any]]:
        return {k["id"]: k for k in self._pages("get_api_keys", includeValues=True)}

    def _read(self, desired: DesiredGateway) -> dict[str, Any]:
        api = self.call("get_rest_api", restApiId=desired.target.get("rest_api_id", ""))
        plans, api_keys = self._managed_plans(desired), self._keys_by_id()
        usage_plans: dict[str, Any] = {}
        keys: dict[str, Any] = {}
        unmanaged: dict[str, dict[str, Any]] = {}
        for version_id, plan in plans.items():
            extra = {s: True for s in _stages(plan) if s != _stage(desired)}
            if extra:
                unmanaged.setdefault(version_id, {})["stages"] = extra
            usage_plans[version_id] = {
                "name": plan.get("name", ""),
                "stages": [s for s in _stages(plan) if s == _stage(desired)],
                "throttle": _throttle(plan.get("throttle")),
                "quota": _quota(plan.get("quota")),
                "tags": {k: v for k, v in (plan.get("tags") or {}).items() if k.startswith("tollgate:")},
            }
            for member in self._pages("get_usage_plan_keys", usagePlanId=plan["id"]):
                key = api_keys.get(member["id"], member)
                name = str(key.get("name", ""))
                if not name.startswith(KEY_PREFIX):
                    unmanaged.setdefault(version_id, {}).setdefault("keys", {})[member["id"]] = True
                    continue
                keys[name.removeprefix(KEY_PREFIX)] = {
                    "usage_plan": version_id,
                    "value": key.get("value", member.get("value")),
                    "enabled": bool(key.get("enabled", False)),
                }
        doc: dict[str, Any] = {
            "rest_api": {"api_key_source": api.get("apiKeySource", "HEADER")},
            "usage_plans": usage_plans,
            "keys": keys,
        }
        if unmanaged:
            doc["unmanaged"] = {"usage_plans": unmanaged}
        return doc

    # -- applying ------------------------------------------------------------------------------------------
    def _apply(self, desired: DesiredGateway) -> None:
        api_id = desired.target.get("rest_api_id", "")
        if self.call("get_rest_api", restApiId=api_id).get("apiKeySource") != "AUTHORIZER":
            source = [{"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"}]
            self.call("update_rest_api", restApiId=api_id, patchOperations=source)
        wanted = render(desired)
        plans = self._managed_plans(desired)
        plan_ids = {v: self._put_plan(plans.get(v), doc, _stage(desired)) for v, doc in wanted["usage_plans"].items()}
        api_keys = {str(k.get("name")): k for k in self._keys_by_id().values()}
        members = {p: {m["id"] for m in self._pages("get_usage_plan_keys", usagePlanId=p)} for p in plan_ids.values()}
        for sub_id, key in wanted["keys"].items():
            self._put_key(sub_id, key, api_keys.get(KEY_PREFIX + sub_id), plan_ids, members)
        for version_id, plan in plans.items():  # a version no longer published: its usage plan goes
            if version_id not in wanted["usage_plans"]:
                self._delete_plan(plan)

    def _put_plan(self, plan: dict[str, Any] | None, doc: dict[str, Any], stage: str) -> str:
        api_id, stage_name = stage.split(":", 1)
        if plan is None:
            stages = [{"apiId": api_id, "stage": stage_name}]
            created = self.call(
                "create_usage_plan", name=doc["name"], apiStages=stages, tags=doc["tags"], **_limits(doc)
            )
            return str(created["id"])
        ops = _plan_patch(plan, doc, stage)
        if ops:
            self.call("update_usage_plan", usagePlanId=plan["id"], patchOperations=ops)
        return str(plan["id"])

    def _put_key(
        self,
        sub_id: str,
        key: dict[str, Any],
        existing: dict[str, Any] | None,
        plan_ids: dict[str, str],
        members: dict[str, set[str]],
    ) -> None:
        if existing is not None and existing.get("value") != key["value"]:  # a key's value cannot change
            self.call("delete_api_key", apiKey=existing["id"])
            existing = None
        if existing is None:
            tags = {"tollgate:subscription": sub_id}
            existing = self.call(
                "create_api_key", name=KEY_PREFIX + sub_id, value=key["value"], enabled=key["enabled"], tags=tags
            )
        elif bool(existing.get("enabled")) != key["enabled"]:
            enabled = [{"op": "replace", "path": "/enabled", "value": str(key["enabled"]).lower()}]
            self.call("update_api_key", apiKey=existing["id"], patchOperations=enabled)
        target_plan = plan_ids[key["usage_plan"]]
        for plan_id, member_ids in members.items():  # one usage plan per key: its version's
            if plan_id != target_plan and existing["id"] in member_ids:
                self.call("delete_usage_plan_key", usagePlanId=plan_id, keyId=existing["id"])
        if existing["id"] not in members.get(target_plan, set()):
            self.call("create_usage_plan_key", usagePlanId=target_plan, keyId=existing["id"], keyType="API_KEY")

    def _delete_plan(self, plan: dict[str, Any]) -> None:
        for member in self._pages("get_usage_plan_keys", usagePlanId=plan["id"]):
            self.call("delete_usage_plan_key", usagePlanId=plan["id"], keyId=member["id"])
        if _stages(plan):
            ops = [{"op": "remove", "path": "/apiStages", "value": s} for s in _stages(plan)]
            self.call("update_usage_plan", usagePlanId=plan["id"], patchOperations=ops)
        self.call("delete_usage_plan", usagePlanId=plan["id"])


def _throttle(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {"rate_limit": value.get("rateLimit"), "burst_limit": value.get("burstLimit")}


def _quota(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {"limit": value.get("limit"), "period": value.get("period"), "offset": value.get("offset", 0)}


def _limits(doc: dict[str, Any]) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if doc["throttle"]:
        limits["throttle"] = {"rateLimit": doc["throttle"]["rate_limit"], "burstLimit": doc["throttle"]["burst_limit"]}
    if doc["quota"]:
        limits["quota"] = {"limit": doc["quota"]["limit"], "period": doc["quota"]["period"], "offset": 0}
    return limits


def _plan_patch(plan: dict[str, Any], doc: dict[str, Any], stage: str) -> list[dict[str, str]]:
    """The PATCH operations that make an existing usage plan carry ``doc`` (extra stages are left alone)."""
    ops: list[dict[str, str]] = []
    if plan.get("name") != doc["name"]:
        ops.append({"op": "replace", "path": "/name", "value": doc["name"]})
    if stage not in _stages(plan):
        ops.append({"op": "add", "path": "/apiStages", "value": stage})
    have_throttle, have_quota = normalize(_throttle(plan.get("throttle"))), normalize(_quota(plan.get("quota")))
    throttle, quota = doc["throttle"], doc["quota"]
    if throttle is None and have_throttle is not None:
        ops.append({"op": "remove", "path": "/throttle"})
    elif throttle is not None and have_throttle != normalize(throttle):
        ops.append({"op": "replace", "path": "/throttle/rateLimit", "value": str(throttle["rate_limit"])})
        ops.append({"op": "replace", "path": "/throttle/burstLimit", "value": str(throttle["burst_limit"])})
    if quota is None and have_quota is not None:
        ops.append({"op": "remove", "path": "/quota"})
    elif quota is not None and have_quota != normalize(quota):
        ops.append({"op": "replace", "path": "/quota/limit", "value": str(quota["limit"])})
        ops.append({"op": "replace", "path": "/quota/period", "value": quota["period"]})
    return ops
