"""Contained patches of moto internals the local stack relies on (moto is pinned in pyproject.toml).

DynamoDB transactions: moto applies a transaction's writes to the live table and, if a condition
fails, swaps in a deep copy taken before. A stream reader that looks in between sees records of a
transaction that never happened (real DynamoDB never emits those). ``TX_LOCK`` serializes moto's
transactions with the local stack's stream reads, so readers only ever see committed records.
"""

from __future__ import annotations

import threading

TX_LOCK = threading.RLock()
_patched = False


def install() -> None:
    global _patched
    if _patched:
        return
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):  # noqa: ANN001
        with TX_LOCK:
            return original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items
    _patched = True
