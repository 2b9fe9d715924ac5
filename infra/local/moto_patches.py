"""Contained patches of moto internals the local stack relies on (moto is pinned in pyproject.toml).

PartiQL batch inserts: ingestion writes raw events as ``INSERT INTO "t" VALUE {'a': ?, ...}``
statements in ``BatchExecuteStatement`` calls (a conditional insert per event, 25 per call). moto's
PartiQL engine cannot bind parameters in INSERT and re-reads every table per statement, so statements
of exactly that shape are executed here as DynamoDB does: the item is put unless its key exists, in
which case that statement answers ``DuplicateItem`` (AWS: "Duplicate primary key exists in table").
Any other batch goes to moto's own implementation.

Reads: moto answers through a generic, shape-driven response serializer that costs about 0.5 ms per
item returned (2 ms per stream record): 40 s to stream 20,000 usage events, 30 s to scan the tables after
them. Stream ``GetRecords`` and the DynamoDB reads (GetItem, BatchGetItem, Query, Scan) return DynamoDB JSON
already, so the patched handlers write it out with ``json.dumps`` (timestamps as epoch seconds, as the JSON
protocol does); what botocore parses is the same.

Queries and scans: moto's Query on a table's key (not an index) sorts every item of the table to pick
the partition's, which makes each query O(table) (seconds once a table holds tens of thousands of usage
events). The patch hands the query only the partition it asks for; moto then sorts and filters as before.
Scans (and index queries) still sort the whole table, but by the keys' plain values (what moto's key
comparisons compare) instead of through a Python comparison method per pair: same order, far less time.

DynamoDB transactions: moto deep-copies every table a transaction touches before applying it item by
item, and swaps the copy back in when a condition fails. That makes each transaction cost the size
of the whole table (a bill run over 10,000 subscriptions became quadratic), replaces the table object
(stranding stream iterators) and lets a stream reader see records of a transaction that never
happened. ``transact_write_items`` here is two-phase instead, as DynamoDB behaves: every condition is
evaluated first against the current items; only if all hold are the writes applied (the few touched
items are snapshotted to undo a write that moto itself rejects half way). ``TX_LOCK`` serializes
transactions with the local stack's stream reads.

Single-item writes: DynamoDB applies a conditional PutItem, UpdateItem or DeleteItem atomically (two
callers can never both pass ``used <= :most`` on the same item). moto evaluates the condition and then
writes, with no lock between: concurrent callers both passed it (50 threads against a strict-mode limit
of 100 got 118 grants). They run under ``TX_LOCK`` here, as one step, like DynamoDB.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime

from infra.local.moto_internals import is_replaced, replace

TX_LOCK = threading.RLock()


def install() -> None:
    """Patch moto (once: until ``moto_internals.restore_all()``)."""
    from moto.dynamodb.models import DynamoDBBackend

    if is_replaced(DynamoDBBackend, "transact_write_items"):
        return

    def transact_write_items(self, transact_items):
        with TX_LOCK:
            return _two_phase_transaction(self, transact_items)

    replace(DynamoDBBackend, "transact_write_items", transact_write_items)
    for name in ("put_item", "update_item", "delete_item"):
        replace(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name)))
    replace(DynamoDBBackend, "batch_execute_statement", _batch_insert(DynamoDBBackend.batch_execute_statement))
    _fast_get_records()
    _partition_query()


def _partition_query() -> None:
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        if index_name and hash_key is not None:
            # A GSI query: moto sorts every item of the table and then filters. Hand it only the items
            # whose index hash attribute equals the queried value (a plain comparison per item).
            attr = _index_hash_attr(self, index_name)
            if attr is not None:
                wanted = (hash_key.type, hash_key.value)
                candidates = [
                    item
                    for hash_set in self.items.values()
                    for item in (hash_set.values() if self.range_key_attr else [hash_set])
                    if (v := item.attrs.get(attr)) is not None and (v.type, v.value) == wanted
                ]
                return _with_items(self, candidates, original, hash_key, *args, **kwargs)
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        return _with_items(self, partition, original, hash_key, *args, **kwargs)

    replace(Table, "query", query)

    def all_items(self):
        scoped = getattr(_SCOPED_ITEMS, "value", None)
        if scoped is not None and scoped[0] is self:
            return scoped[1]
        items = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        if self.range_key_attr:
            return sorted(
                items,
                key=lambda x: (
                    (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else (x.hash_key.cast_value,)
                ),
            )
        return sorted(items, key=lambda x: x.hash_key.cast_value)

    replace(Table, "all_items", all_items)


#: The items one query of one table scans, for this thread only: several threads (the stack's pollers, a
#: test's own calls) query the same table at once, so the scope cannot be an attribute of the table.
_SCOPED_ITEMS = threading.local()


def _with_items(table, items, original, hash_key, *args, **kwargs):
    previous = getattr(_SCOPED_ITEMS, "value", None)
    _SCOPED_ITEMS.value = (table, items)
    try:
        return original(table, hash_key, *args, **kwargs)
    finally:
        _SCOPED_ITEMS.value = previous


def _index_hash_attr(table, index_name: str):
    for index in list(getattr(table, "global_indexes", [])) + list(getattr(table, "indexes", [])):
        if index.name == index_name:
            return next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None)
    return None


def _epoch(value):
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _fast_get_records() -> None:
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def get_records(self):
        limit = self._get_param("Limit")
        result = self.backend.get_records(self._get_param("ShardIterator"), 1000 if limit is None else limit)
        return json.dumps(result, default=_epoch)

    replace(DynamoDBStreamsHandler, "get_records", get_records)

    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    fast = {"GetItem", "BatchGetItem", "Query", "Scan"}
    original = DynamoHandler.serialized

    def serialized(self, action_result: ActionResult):
        result = action_result.result
        if self._get_action() in fast and isinstance(result, dict):
            return (
                200,
                {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"},
                json.dumps(result, default=_epoch),
            )
        return original(self, action_result)

    replace(DynamoHandler, "serialized", serialized)


_INSERT = re.compile(r"""^\s*INSERT\s+INTO\s+"([^"]+)"\s+VALUE\s+\{(.*)\}\s*$""", re.DOTALL | re.IGNORECASE)
_PAIR = re.compile(r"""'([^']+)'\s*:\s*\?""")


def _parse_insert(statement: dict):
    match = _INSERT.match(statement.get("Statement", ""))
    if not match:
        return None
    table_name, body = match.groups()
    names = _PAIR.findall(body)
    params = statement.get("Parameters") or []
    if len(names) != len(params) or _PAIR.sub("", body).replace(",", "").strip():
        return None
    return table_name, dict(zip(names, params, strict=True))


def _batch_insert(original):
    from moto.dynamodb.models.dynamo_type import DynamoType

    def batch_execute_statement(self, statements):
        parsed = [_parse_insert(s) for s in statements]
        if not parsed or any(p is None for p in parsed):
            return original(self, statements)
        responses = []
        for table_name, item in parsed:
            if table_name not in self.tables:
                responses.append({"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}})
                continue
            table = self.tables[table_name]
            hash_key = DynamoType(item[table.hash_key_attr])
            range_key = DynamoType(item[table.range_key_attr]) if table.range_key_attr else None
            if table.get_item(hash_key, range_key) is not None:
                responses.append(
                    {
                        "TableName": table_name,
                        "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
                    }
                )
                continue
            self.put_item(table_name, item)  # key checked absent just above (moto runs one call at a time)
            responses.append({"TableName": table_name})
        return responses

    return batch_execute_statement


def _atomic(write):
    """A single-item write evaluated and applied as one step (DynamoDB's per-item atomicity)."""

    def atomic(self, *args, **kwargs):
        with TX_LOCK:
            return write(self, *args, **kwargs)

    return atomic


def _two_phase_transaction(backend, transact_items):
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    ops = _operations(backend, transact_items)
    # Phase 1: evaluate every condition; write nothing.
    errors = [_condition_error(backend, op) for op in ops]
    if any(error[0] is not None for error in errors):
        raise TransactionCanceledException(errors)
    # Phase 2: apply.
    _apply(backend, ops)


_Operation = tuple[str, dict, str, dict]  # (operation type, operation, table name, key)


def _operations(backend, transact_items) -> list[_Operation]:
    """Validate the shape of every operation (one per item, each key once) and resolve its key."""
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactWriteSingleOpException

    seen: set[tuple[str, str]] = set()
    ops: list[_Operation] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        table = backend.get_table(table_name)
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        marker = (str(table_name), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        ops.append((op_type, op, table_name, key))
    return ops


def _condition_error(backend, operation: _Operation) -> tuple:
    """``(None, None, None)`` if the operation's condition holds, else its cancellation reason."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    _, op, table_name, key = operation
    original_item = None
    try:
        current = backend.get_item(table_name, key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
        return (None, None, None)
    except ConditionalCheckFailed as e:
        return ("ConditionalCheckFailed", str(e.message), original_item)
    except Exception as e:
        return (type(e).__name__, str(e), original_item)


def _apply(backend, ops: list[_Operation]) -> None:
    """Apply the writes; the touched items are snapshotted first, to undo a write moto rejects half way."""
    import copy

    snapshots = []
    for op_type, _op, table_name, key in ops:
        if op_type != "ConditionCheck":
            current = backend.get_item(table_name, key)
            snapshots.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    try:
        for op_type, op, table_name, key in ops:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                backend.put_item(
                    table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Delete":
                backend.delete_item(
                    table_name, key, expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Update":
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, attributes in snapshots:
            if attributes is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, attributes)
        raise
