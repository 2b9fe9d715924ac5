"""The one place where the local stack replaces attributes of moto's classes (moto is pinned).

Every replacement goes through :func:`replace`, which records the original, so that
:func:`restore_all` (called by ``LocalStack.stop()``) puts moto back exactly as it was. The attributes
replaced are listed in :data:`PATCHED`; ``tests/infra/test_moto_internals.py`` pins each of them
(it exists, with the signature our replacement assumes) so that a moto upgrade that moves one fails a
test instead of silently running moto's own code.
"""

from __future__ import annotations

import threading
from typing import Any

#: ``(module, class, attribute)`` of everything :func:`replace` is used on.
PATCHED: tuple[tuple[str, str, str], ...] = (
    ("moto.awslambda_simple.models", "LambdaSimpleBackend", "invoke"),
    ("moto.dynamodb.models", "DynamoDBBackend", "transact_write_items"),
    ("moto.dynamodb.models", "DynamoDBBackend", "batch_execute_statement"),
    ("moto.dynamodb.models", "DynamoDBBackend", "put_item"),
    ("moto.dynamodb.models", "DynamoDBBackend", "update_item"),
    ("moto.dynamodb.models", "DynamoDBBackend", "delete_item"),
    ("moto.dynamodb.models.table", "Table", "query"),
    ("moto.dynamodb.models.table", "Table", "all_items"),
    ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler", "get_records"),
    ("moto.dynamodb.responses", "DynamoHandler", "serialized"),
    # Assumed roles' trust and policies are enforced (infra/local/moto_iam.py).
    ("moto.core.authorization", "ActionAuthenticatorMixin", "_authenticate_and_authorize_action"),
    # Step Functions Wait states wait on the local clock (infra/local/time_travel.py).
    (
        "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction",
        "_wait_interval",
    ),
)

_INHERITED = object()  # the attribute came from a base class: restoring deletes our override
_lock = threading.Lock()
_originals: list[tuple[type, str, Any]] = []


def replace(owner: type, name: str, replacement: Any) -> Any:
    """Set ``owner.name`` to ``replacement`` and return the original (an ``AttributeError`` if moto no
    longer has it: the patch would be dead)."""
    original = getattr(owner, name)
    with _lock:
        _originals.append((owner, name, owner.__dict__.get(name, _INHERITED)))
        setattr(owner, name, replacement)
    return original


def restore_all() -> None:
    """Undo every :func:`replace`, newest first."""
    with _lock:
        while _originals:
            owner, name, original = _originals.pop()
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def original(owner: type, name: str) -> Any:
    """moto's own ``owner.name``, whether or not a running local stack replaced it."""
    with _lock:
        first = next((o for w, n, o in _originals if w is owner and n == name), None)
    if first is None:
        return getattr(owner, name)
    return getattr(owner.__mro__[1], name) if first is _INHERITED else first


def is_replaced(owner: type, name: str) -> bool:
    with _lock:
        return any(o is owner and n == name for o, n, _ in _originals)
