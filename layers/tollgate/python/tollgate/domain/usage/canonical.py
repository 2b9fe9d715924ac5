"""Canonical JSON: compact, keys sorted (by default), Decimals written as the exact numbers they are.

The payload hash of an event (and so the id derived from it) is defined over this text, so it is
byte-stable: for a tree without Decimals it is exactly ``json.dumps(value, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``, and a Decimal is written as ``str(value)`` (``2.50``,
``1E+3``), never through a float. Nothing is marked in-band: a client's string is always written as a
string, whatever it contains.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

_SEPARATORS = (",", ":")


def canonical_json(value: Any, *, sort_keys: bool = True) -> str:
    """Compact JSON (sorted keys by default); Decimals (numbers with a fraction, parsed exactly) are
    written as the number they were, never through a float. Raises TypeError for anything else that is
    not JSON (like ``json.dumps``)."""
    try:  # the common case, at C speed: no Decimal in the tree
        return json.dumps(value, sort_keys=sort_keys, separators=_SEPARATORS, ensure_ascii=False)
    except TypeError:
        pass
    parts: list[str] = []
    _write(value, sort_keys, parts)
    return "".join(parts)


def _write(value: Any, sort_keys: bool, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None or isinstance(value, bool | int | float):
        out.append(json.dumps(value))  # null, true/false, int and float exactly as json.dumps writes them
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(str(value))
    elif isinstance(value, dict):
        _write_object(value, sort_keys, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _write(item, sort_keys, out)
        out.append("]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _write_object(value: dict[Any, Any], sort_keys: bool, out: list[str]) -> None:
    items = [(_key(k), v) for k, v in value.items()]
    if sort_keys:
        items.sort(key=lambda kv: kv[0])
    out.append("{")
    for n, (key, item) in enumerate(items):
        if n:
            out.append(",")
        out.append(encode_basestring(key))
        out.append(":")
        _write(item, sort_keys, out)
    out.append("}")


def _key(key: Any) -> str:
    """A key as json.dumps writes it: strings as they are, numbers, booleans and null as their JSON text."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
