"""The one way the DynamoDB adapters write a transaction.

``TransactWriteItems`` is cancelled for several reasons and only one of them is a lost race: a
``ConditionalCheckFailed`` on one of the items. ``TransactionConflict`` and throttling are transient
(retried here with backoff, like :func:`tollgate.adapters.dynamodb.retry.retrying`); anything else
(``ValidationError``, an item too large) is a bug and is raised as it is, never as a 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate.adapters.dynamodb.retry import ATTEMPTS, backoff, is_transient

TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class TransactionCancelled(Exception):
    """Raised when the cancellation reasons hold something other than failed conditions or transient faults."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"DynamoDB transaction cancelled: {reasons}")
        self.reasons = reasons


def cancellation_codes(exc: Any) -> list[str]:
    """The per-item codes of a ``TransactionCanceledException`` ("None" for an item that was fine)."""
    return [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]


def failed_conditions(codes: list[str]) -> list[int]:
    """Indexes of the items whose condition failed."""
    return [i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]


def transact_write(
    client: Any,
    items: list[dict[str, Any]],
    on_condition_failed: Callable[[list[int]], Exception],
    *,
    attempts: int = ATTEMPTS,
) -> None:
    """Write ``items`` in one transaction.

    A failed condition raises ``on_condition_failed(indexes)`` (the caller's domain error, e.g. a
    ``Conflict`` naming what changed); a transient cancellation or AWS fault is retried with jittered
    backoff up to ``attempts`` times; any other cancellation raises :class:`TransactionCancelled`."""
    for attempt in range(attempts):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except client.exceptions.TransactionCanceledException as exc:
            codes = cancellation_codes(exc)
            failed = failed_conditions(codes)
            if failed:
                raise on_condition_failed(failed) from exc
            if not set(codes) - {"None"} <= TRANSIENT_REASONS or attempt == attempts - 1:
                raise TransactionCancelled(codes) from exc
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
        backoff(attempt)
