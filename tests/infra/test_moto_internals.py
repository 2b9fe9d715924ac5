"""The moto internals the local stack replaces or calls are pinned: each still exists on the pinned moto
with the parameters our code passes, so a moto upgrade that moves one fails here instead of the local
stack silently running moto's own (slow or Docker-bound) code. And ``LocalStack.stop()`` puts moto back."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from importlib import metadata

import pytest

from infra import definitions
from infra.local.moto_internals import PATCHED, original

#: (module, class, attribute) -> the leading parameters the replacement (or the call) relies on.
SIGNATURES: dict[tuple[str, str, str], list[str]] = {
    (
        "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction",
        "_wait_interval",
    ): [
        "self",
        "env",
        "wait_seconds",
    ],
    ("moto.awslambda_simple.models", "LambdaSimpleBackend", "invoke"): [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ],
    ("moto.dynamodb.models", "DynamoDBBackend", "transact_write_items"): ["self", "transact_items"],
    ("moto.dynamodb.models", "DynamoDBBackend", "batch_execute_statement"): ["self", "statements"],
    # The query patch reads index_name as the 8th positional argument after self (args[6] after hash_key).
    ("moto.dynamodb.models.table", "Table", "query"): [
        "self",
        "hash_key",
        "range_comparison",
        "range_objs",
        "limit",
        "exclusive_start_key",
        "scan_index_forward",
        "projection_expressions",
        "index_name",
    ],
    ("moto.dynamodb.models.table", "Table", "all_items"): ["self"],
    ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler", "get_records"): ["self"],
    ("moto.dynamodb.responses", "DynamoHandler", "serialized"): ["self", "action_result"],
    ("moto.core.authorization", "ActionAuthenticatorMixin", "_authenticate_and_authorize_action"): [
        "self",
        "iam_request_cls",
        "resource",
    ],
    # Called by the replacements.
    ("moto.dynamodb.models", "DynamoDBBackend", "get_item"): ["self", "table_name", "keys"],
    ("moto.dynamodb.models", "DynamoDBBackend", "get_table"): ["self", "table_name"],
    ("moto.dynamodb.models", "DynamoDBBackend", "put_item"): ["self", "table_name", "item_attrs"],
    ("moto.dynamodb.models", "DynamoDBBackend", "delete_item"): ["self", "table_name", "key"],
    ("moto.dynamodb.models", "DynamoDBBackend", "update_item"): ["self", "table_name", "key", "update_expression"],
    ("moto.dynamodb.models.table", "Table", "get_item"): ["self", "hash_key", "range_key"],
    ("moto.dynamodbstreams.models", "DynamoDBStreamsBackend", "get_records"): ["self", "iterator_arn", "limit"],
    ("moto.core.responses", "BaseResponse", "_get_param"): ["self", "param_name"],
    ("moto.core.responses", "BaseResponse", "_get_action"): ["self"],
}
#: Keyword arguments the replacements pass.
KEYWORDS: dict[tuple[str, str, str], set[str]] = {
    ("moto.dynamodb.models", "DynamoDBBackend", "put_item"): {
        "expression_attribute_names", "expression_attribute_values",
    },
    ("moto.dynamodb.models", "DynamoDBBackend", "delete_item"): {
        "expression_attribute_names", "expression_attribute_values",
    },
    ("moto.dynamodb.models", "DynamoDBBackend", "update_item"): {
        "update_expression", "expression_attribute_names", "expression_attribute_values",
    },
    ("moto.dynamodb.models.table", "Table", "query"): {"index_name"},
}  # fmt: skip


def _attribute(module: str, cls: str, name: str):
    """moto's own attribute, even while a local stack of this test session has replaced it."""
    return original(getattr(importlib.import_module(module), cls), name)


def test_moto_is_the_pinned_version() -> None:
    pinned = next(d for d in _dev_dependencies() if d.startswith("moto["))
    assert pinned.endswith(f"=={metadata.version('moto')}"), pinned


def _dev_dependencies() -> list[str]:
    import tomllib

    return tomllib.loads((definitions.REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "dev"
    ]


def test_every_replaced_attribute_is_pinned() -> None:
    assert set(PATCHED) <= set(SIGNATURES)


@pytest.mark.parametrize("target", sorted(SIGNATURES), ids=lambda t: f"{t[1]}.{t[2]}")
def test_a_moto_internal_still_has_the_parameters_we_use(target: tuple[str, str, str]) -> None:
    parameters = list(inspect.signature(_attribute(*target)).parameters)
    expected = SIGNATURES[target]
    assert parameters[: len(expected)] == expected, parameters
    assert KEYWORDS.get(target, set()) <= set(parameters), parameters


def test_the_helpers_the_transaction_patch_calls_exist() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb import exceptions
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.models.dynamo_type import DynamoType

    assert list(inspect.signature(get_filter_expression).parameters) == ["expr", "names", "values"]
    assert "item" in inspect.signature(exceptions.ConditionalCheckFailed).parameters
    for name in (
        "MultipleTransactionsException",
        "TooManyTransactionsException",
        "TransactionCanceledException",
        "TransactWriteSingleOpException",
    ):
        assert issubclass(getattr(exceptions, name), Exception), name
    assert "result" in inspect.signature(ActionResult).parameters
    assert callable(DynamoType)


_STOP_PROBE = """
import importlib, json
from infra.local.moto_internals import PATCHED, original, is_replaced
from infra.local.stack import LocalStack

def owner(module, cls):
    return getattr(importlib.import_module(module), cls)

before = {t: owner(t[0], t[1]).__dict__.get(t[2]) for t in PATCHED}
stack = LocalStack(run_workers=False).start()
replaced = all(is_replaced(owner(m, c), a) for m, c, a in PATCHED)
changed = all(owner(m, c).__dict__.get(a) is not before[(m, c, a)] for m, c, a in PATCHED)
stack.stop()
restored = all(owner(m, c).__dict__.get(a) is before[(m, c, a)] for m, c, a in PATCHED)
left = [a for m, c, a in PATCHED if is_replaced(owner(m, c), a)]
print(json.dumps({"replaced": replaced, "changed": changed, "restored": restored, "left": left}))
"""


def test_stopping_the_local_stack_puts_the_moto_originals_back() -> None:
    """In a fresh interpreter: moto's classes are process-wide and the test session's own local stack
    may be running."""
    import json

    root = definitions.REPO_ROOT
    env = {**os.environ, "PYTHONPATH": f"{root / 'layers' / 'tollgate' / 'python'}{os.pathsep}{root}"}
    out = subprocess.run(
        [sys.executable, "-c", _STOP_PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"replaced": True, "changed": True, "restored": True, "left": []}
