"""IAM, locally, where a gateway integration needs it: assuming a tenant's role and acting as it.

moto enforces no IAM by default (``INITIAL_NO_AUTH_ACTION_COUNT`` is infinite), and turning its
enforcement on for everything would refuse the local stack's own fake credentials. Here it is turned on
for exactly two kinds of request, with moto's own evaluator (``moto.iam.access_control``):

- ``sts:AssumeRole`` of a role that exists in moto: the role's trust policy must allow the caller's account
  (``arn:aws:iam::<caller account>:root``, the principal the role template names) with the request's
  ``sts:ExternalId``. A role that does not exist cannot be assumed (moto would hand out credentials).
- Any request signed with credentials moto's STS issued by AssumeRole: the role's inline and attached
  policies must allow it (moto's ``IAMRequest.check_action_permitted``). API Gateway's IAM actions are HTTP
  verbs on resource paths, not operation names: ``GetUsagePlans`` is ``apigateway:GET`` on
  ``arn:aws:apigateway:<region>::/usageplans``; they are evaluated that way, as IAM does.

Everything else keeps moto's behaviour (no authentication). A refusal answers as AWS does: 403
``AccessDenied`` (moto's ``AccessDeniedError``).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from infra.local.moto_internals import is_replaced, original, replace

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/")


def _signed_by(headers: Any) -> tuple[str, str, str] | None:
    """(access key id, region, service) of a SigV4 request."""
    match = _CREDENTIAL.search(headers.get("Authorization") or "")
    return (match[1], match[2], match[3]) if match else None


def _assumed_role(account_id: str, access_key_id: str) -> Any:
    from moto.sts.models import sts_backends

    backend = sts_backends[account_id]["aws"]
    return backend.get_assumed_role_from_access_key(access_key_id)


def _deny(user_arn: str, action: str) -> None:
    from moto.iam.access_control import AccessDeniedError

    raise AccessDeniedError(user_arn=user_arn, action=action)


def _check_trust(handler: Any) -> None:
    """sts:AssumeRole: the target role's trust policy, for the caller's account and ExternalId."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends
    from moto.iam.utils import format_incoming_conditional_values

    role_arn = (handler.querystring.get("RoleArn") or [""])[0]
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    caller = f"arn:aws:iam::{handler.current_account}:root"
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # not a role moto knows: AWS refuses to assume it
        _deny(caller, "sts:AssumeRole")
        return
    trust = IAMPolicy(_document(role.assume_role_policy_document))
    conditions = format_incoming_conditional_values(handler.querystring)
    # IAM reads a bare account id in a trust policy as that account's root; moto compares principals as text.
    principals = (caller, handler.current_account)
    if all(
        trust.is_action_permitted("sts:AssumeRole", role_arn, p, conditions) != PermissionResult.PERMITTED
        for p in principals
    ):
        _deny(caller, "sts:AssumeRole")


def _check_role_session(handler: Any, iam_request_cls: type, resource: str, region: str, service: str) -> None:
    """A request made with an assumed role's credentials: the role's policies must allow it (an explicit Deny
    wins, else any Allow: moto's own ``check_action_permitted``, over the documents as moto's evaluator reads them)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    request = iam_request_cls(
        account_id=handler.current_account,
        method=handler.method,
        path=handler.raw_path,
        data=handler.data,
        body=handler.raw_body,
        headers=handler.headers,
        action=handler._get_action(),
    )
    if service == "apigateway":  # IAM: the HTTP verb on the resource path
        request._action = f"apigateway:{handler.method}"
        resource = f"arn:aws:apigateway:{region}::{urlsplit(handler.raw_path).path}"
    results = {IAMPolicy(_document(p)).is_action_permitted(request._action, resource) for p in _policies(request)}
    if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
        request._raise_access_denied()


def _policies(request: Any) -> list[Any]:
    return list(request._access_key.collect_policies())


def _document(policy: Any) -> Any:
    """moto keeps a role's inline policy as JSON text, except when CloudFormation created the role: then it is
    the document itself (its evaluator would fail on it), so it is written out as JSON text here."""
    if isinstance(policy, dict) and "policy_document" not in policy:
        return json.dumps(policy)
    return policy


def install() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    name = "_authenticate_and_authorize_action"
    if is_replaced(ActionAuthenticatorMixin, name):
        return
    moto_own = original(ActionAuthenticatorMixin, name)

    def authenticate(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        signed = _signed_by(self.headers)
        if signed is not None:
            key, region, service = signed
            if self.headers.get("X-Amz-Security-Token") and _assumed_role(self.current_account, key) is not None:
                _check_role_session(self, iam_request_cls, resource, region, service)
                return
            if service == "sts" and self._get_action() == "AssumeRole":
                _check_trust(self)
        moto_own(self, iam_request_cls, resource)

    replace(ActionAuthenticatorMixin, name, authenticate)
