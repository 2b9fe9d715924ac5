"""Drift: what Tollgate would push, as a JSON Patch (RFC 6902) from the gateway's document to Tollgate's.

Both documents come from a provider (``read`` and ``render``) and are normalized here before the diff:

- order-insensitive: every list is sorted (by the canonical JSON of its normalized items);
- type-normalized: whole floats and Decimals become ints, numeric strings become numbers (moto answers a
  patched ``quota.limit`` as ``"1000"``), so ``1000``, ``1000.0`` and ``"1000"`` compare equal.

The patch is ``jsonpatch.make_patch(read, rendered)``: applied to what the gateway holds, it gives what
Tollgate would push. What the gateway holds that Tollgate does not own (its document's ``"unmanaged"``
object: an extra stage, plugin or route) is listed leaf by leaf (``/unmanaged/stages/abc123:beta``), so
the diff and a failed restore name each one.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import jsonpatch

UNMANAGED = "unmanaged"
MAX_DIFF_OPS = 200  # what a link stores and shows; ``diff_truncated`` says when there were more
_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,12})?")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def normalize(doc: Any) -> Any:
    """The document with sorted lists and canonical numbers (see the module docstring)."""
    if isinstance(doc, dict):
        return {str(k): normalize(v) for k, v in sorted(doc.items(), key=lambda kv: str(kv[0]))}
    if isinstance(doc, list | tuple | set | frozenset):
        items = [normalize(v) for v in doc]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(doc, bool) or doc is None:
        return doc
    if isinstance(doc, int):
        return doc
    if isinstance(doc, float | Decimal):
        value = Decimal(str(doc))
        return _number(value) if value.is_finite() else str(doc)
    if isinstance(doc, str) and _NUMBER.fullmatch(doc):
        return _number(Decimal(doc))
    return doc


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _leaf_removals(value: Any, parts: tuple[str, ...]) -> list[dict[str, Any]]:
    if isinstance(value, dict) and value:
        return [op for k, v in value.items() for op in _leaf_removals(v, (*parts, str(k)))]
    return [{"op": "remove", "path": _pointer(*parts)}]


def _expand_unmanaged(ops: list[dict[str, Any]], read: dict[str, Any]) -> list[dict[str, Any]]:
    """A removal of (part of) ``/unmanaged`` becomes one removal per thing the gateway holds there."""
    expanded: list[dict[str, Any]] = []
    for op in ops:
        path = op.get("path", "")
        if op.get("op") == "remove" and (path == "/" + UNMANAGED or path.startswith(f"/{UNMANAGED}/")):
            try:
                value = jsonpatch.JsonPointer(path).resolve(read)
            except (jsonpatch.JsonPointerException, KeyError, IndexError, TypeError):
                expanded.append(op)
                continue
            parts = tuple(jsonpatch.JsonPointer(path).parts)
            expanded.extend(_leaf_removals(value, parts))
        else:
            expanded.append(op)
    return expanded


def diff(read: dict[str, Any], rendered: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON Patch that turns the gateway's ``read`` document into Tollgate's ``rendered`` one."""
    before, after = normalize(read), normalize(rendered)
    after.pop(UNMANAGED, None)  # Tollgate never owns unmanaged config: only the gateway's side has it
    if not before.get(UNMANAGED):
        before.pop(UNMANAGED, None)
    ops = [_redacted(op) for op in jsonpatch.make_patch(before, after).patch]
    return sorted(_expand_unmanaged(ops, before), key=lambda op: (op.get("path", ""), op.get("op", "")))


# Fields of a provider's document holding a live gateway credential (Kong: the key-auth key and the
# consumer's custom_id are the usage identifier): a diff names them but never shows their value.
SECRET_FIELDS = frozenset({"key_auth", "custom_id"})
REDACTED = "<redacted>"


def _hide(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS else _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return value


def _redacted(op: dict[str, Any]) -> dict[str, Any]:
    if "value" not in op:
        return dict(op)
    secret = SECRET_FIELDS & set(str(op.get("path", "")).split("/"))
    return {**op, "value": REDACTED if secret else _hide(op["value"])}


def paths(ops: list[dict[str, Any]]) -> list[str]:
    """The paths a patch touches, in order, without repeats."""
    return list(dict.fromkeys(str(op.get("path", "")) for op in ops))


def describe(ops: list[dict[str, Any]], limit: int = 10) -> str:
    """``/usage_plans/p-v1/quota/limit, /unmanaged/stages/abc:beta`` (and how many more)."""
    named = paths(ops)
    shown = ", ".join(named[:limit])
    return shown + (f" and {len(named) - limit} more" if len(named) > limit else "")
