"""Which AWS operations each function performs, recorded while the local stack runs (for the IAM
conformance check, ``tests/iam_conformance.py``).

moto does not enforce IAM, so a role that lacks an action still works locally. To catch that, every
boto3 call made *inside* a function's invocation is recorded under that function's name: the in-process
Lambda dispatcher (:mod:`infra.local.lambda_dispatch`) sets :data:`CURRENT_FUNCTION` around each
handler, and a botocore ``before-parameter-build`` hook (installed in botocore's built-in handlers, the
way moto installs its own stub, so every client made afterwards has it) records the service, the
operation and the request parameters that name resources. Calls made outside a function (the local
stack creating resources, its pollers, a test's own checks) are not recorded.

The record is process-wide and lives as long as the process: every local stack of a test session feeds
it, and the conformance check reads it at the end.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: The declared function (``bill_run_tasks``) whose handler runs in this thread, if any.
CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("tollgate_function", default=None)

# The request parameters that name the resources an operation acts on, per service (the rest is data:
# a DynamoDB item's ``Key`` is not recorded, or the record would grow with every item touched).
_RESOURCE_PARAMS = {
    "dynamodb": ("TableName", "IndexName"),
    "dynamodbstreams": ("StreamArn",),
    "s3": ("Bucket", "Key", "CopySource"),
    "sqs": ("QueueUrl",),
    "stepfunctions": ("stateMachineArn", "executionArn"),
    "secretsmanager": ("SecretId", "Name"),
    "sts": ("RoleArn",),
    "lambda": ("FunctionName",),
    "ses": ("Source",),
    "sesv2": ("FromEmailAddress", "EmailIdentity"),
}


@dataclass(frozen=True)
class Call:
    """One kind of call: ``function`` called ``service``'s ``operation`` naming these resources."""

    function: str
    service: str  # botocore's service name: dynamodb, dynamodbstreams, s3, ses, sesv2, events, ...
    operation: str  # PutItem, BatchExecuteStatement, ...
    params: tuple[tuple[str, Any], ...]  # the resource-naming parameters, made hashable

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


_calls: set[Call] = set()
_lock = threading.Lock()


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _resource_params(service: str, params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The parameters that name resources; for multi-item operations, only their tables and kinds."""
    picked: dict[str, Any] = {k: params[k] for k in _RESOURCE_PARAMS.get(service, ()) if k in params}
    if "ShardIterator" in params:  # dynamodbstreams:GetRecords: an iterator starts with its stream's ARN
        picked["StreamArn"] = str(params["ShardIterator"]).split("|", 1)[0]
    if "Statements" in params:  # BatchExecuteStatement: the statements' text (kind and table)
        picked["Statements"] = sorted({s["Statement"] for s in params["Statements"]})
    if "TransactStatements" in params:  # ExecuteTransaction
        picked["Statements"] = sorted({s["Statement"] for s in params["TransactStatements"]})
    if "Statement" in params:  # ExecuteStatement
        picked["Statements"] = [params["Statement"]]
    if "RequestItems" in params:  # BatchGetItem / BatchWriteItem: the tables
        picked["Tables"] = sorted(params["RequestItems"])
    if "TransactItems" in params:  # TransactWriteItems / TransactGetItems: (kind, table) pairs
        picked["Items"] = sorted(
            {(kind, body["TableName"]) for item in params["TransactItems"] for kind, body in item.items()}
        )
    if "Entries" in params:  # events:PutEvents: the buses
        picked["EventBuses"] = sorted({e.get("EventBusName") or "default" for e in params["Entries"]})
    if "Delete" in params and isinstance(params["Delete"], dict):  # s3:DeleteObjects: the keys
        picked["Keys"] = sorted({o["Key"] for o in params["Delete"].get("Objects", [])})
    return _freeze(picked)


#: A client acting as a tenant's role (a gateway integration) says so in its user agent; its calls are
#: recorded as ``<function>:tenant-role`` (checked against the role template, not the function's role).
TENANT_ROLE_AGENT = "tollgate-tenant-role"
TENANT_ROLE_SUFFIX = ":tenant-role"


def _record(params: dict[str, Any], model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
    function = CURRENT_FUNCTION.get()
    if function is None:
        return
    config = (context or {}).get("client_config")
    if TENANT_ROLE_AGENT in (getattr(config, "user_agent_extra", None) or ""):
        function += TENANT_ROLE_SUFFIX
    service = model.service_model.service_name
    call = Call(function, service, model.name, _resource_params(service, params))
    with _lock:
        _calls.add(call)


_HANDLER = ("before-parameter-build", _record)


def install() -> None:
    """Record from now on: every botocore session created afterwards carries the hook."""
    import botocore.handlers

    if _HANDLER not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(_HANDLER)


def uninstall() -> None:
    import botocore.handlers

    while _HANDLER in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.remove(_HANDLER)


@contextmanager
def calls_of(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside the block to ``function`` (a declared function's name)."""
    token = CURRENT_FUNCTION.set(function)
    try:
        yield
    finally:
        CURRENT_FUNCTION.reset(token)


@contextmanager
def unrecorded() -> Iterator[None]:
    """Leave the AWS calls made inside the block out of the record (a test's own resources, which the
    synthesized template does not have)."""
    token = CURRENT_FUNCTION.set(None)
    try:
        yield
    finally:
        CURRENT_FUNCTION.reset(token)


def recorded() -> set[Call]:
    with _lock:
        return set(_calls)
