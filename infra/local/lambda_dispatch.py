"""Run Lambda functions in-process when moto invokes them (moto's Lambda would need Docker).

This replaces ``LambdaSimpleBackend.invoke`` (a moto internal, see shared/aws-local-facts.md; moto is
pinned) with a dispatcher that looks the function name up in a registry of Python handlers. A handler
exception becomes a Lambda function error (``x-amz-function-error: Unhandled``) whose ``errorType``
is the exception's class name, so Step Functions Retry/Catch match it as they would on AWS.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.aws_calls import calls_of
from infra.local.moto_internals import is_replaced, replace

Handler = Callable[[dict, Any], Any]

_registry: dict[str, tuple[Handler, bool]] = {}
_lock = threading.RLock()
# One handler runs at a time in the process: moto's in-memory backends are not safe for concurrent
# writers (Step Functions' Map runs tasks on several threads). Handlers run under this lock.
LOCK = threading.RLock()


@dataclass
class LocalContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


def register(function_name: str, handler: Handler, *, serialize: bool = True) -> None:
    """Route invocations of ``function_name`` to ``handler``. With ``serialize=False`` the handler runs
    without LOCK and must take it itself around any AWS access (tests that block on purpose use this)."""
    with _lock:
        _registry[function_name] = (handler, serialize)


def unregister_all() -> None:
    with _lock:
        _registry.clear()


def lookup(function_name: str) -> Handler:
    name = function_name.split(":function:")[-1].split(":")[0]
    with _lock:
        if name not in _registry:
            raise KeyError(f"no in-process handler registered for Lambda function {name!r}")
        handler, serialize = _registry[name]
    declared = _declared_name(name)

    def recorded(event: Any, context: Any) -> Any:
        with calls_of(declared):  # its AWS calls are recorded under its name (infra.local.aws_calls)
            return handler(event, context)

    if not serialize:
        return recorded

    def serialized(event: Any, context: Any) -> Any:
        with LOCK:
            return recorded(event, context)

    return serialized


def _declared_name(local_name: str) -> str:
    """``tollgate-bill-run-tasks`` -> ``bill_run_tasks`` (the name in functions.json), else as is."""
    from infra import definitions
    from infra.local.environment import function_name

    return next((n for n in definitions.functions() if function_name(n) == local_name), local_name)


def invoke_local(function_name: str, event: Any) -> Any:
    """Call a registered handler directly, the way Lambda would (API requests, queue and stream pollers)."""
    name = function_name.split(":function:")[-1]
    return lookup(name)(event, LocalContext(function_name=name))


def _dispatching_invoke(self, function_name, qualifier, body, headers, response_headers):
    name = function_name.split(":function:")[-1].split(":")[0]
    event = json.loads(body) if body else {}
    try:
        result = lookup(name)(event, LocalContext(function_name=name))
    except Exception as exc:  # a function error, as Lambda reports it
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result, default=str).encode()


def install() -> None:
    """Patch moto (once: until ``moto_internals.restore_all()``)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if not is_replaced(LambdaSimpleBackend, "invoke"):
        replace(LambdaSimpleBackend, "invoke", _dispatching_invoke)
