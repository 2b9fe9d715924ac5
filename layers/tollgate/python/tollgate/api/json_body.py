"""The request body at the edge: UTF-8 text, JSON nested at most MAX_DEPTH deep, valid JSON.

Every body reaches the routes through ``read_text`` and ``check_json``, before any recursive parser
sees it: a non-UTF-8 body, a body nested deeper than the limit (which would exhaust the parser's
recursion) and a body that is not JSON are each a 400 problem naming what to fix, answered in
linear time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

# Deeper than any Tollgate payload needs (events with nested properties stay well below it).
MAX_DEPTH = 64

# A JSON string, unrolled so that an unterminated string cannot make the regex backtrack.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]+")


@dataclass(frozen=True)
class BodyProblem:
    code: str
    detail: str


# What a compressed body may inflate to: API Gateway's own payload limit (10 MB), so a "zip bomb"
# costs at most that much memory and is refused with 413 past it.
MAX_DECODED_BYTES = 10 * 1024 * 1024
# Content-Encoding -> zlib window bits (gzip framing, zlib framing).
_DECODERS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
SUPPORTED_ENCODINGS = ("gzip", "deflate", "identity")
_GZIP_MAGIC = b"\x1f\x8b"


def decode_content(body: str, base64_encoded: bool, encoding: str) -> tuple[str, bool] | BodyProblem:
    """The body with its ``Content-Encoding`` undone, as ``(body, base64_encoded)`` for ``read_text``.

    A compressed body arrives base64-encoded (binary pass-through). When API Gateway already
    decompressed it (payload compression enabled on the API), it arrives as plain text and is taken
    as it is. Anything but gzip, deflate or identity is a 415; a body that does not inflate is a 400;
    one that inflates past ``MAX_DECODED_BYTES`` is a 413, found without inflating further."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return body, base64_encoded
    if name not in _DECODERS:
        return BodyProblem(
            "UNSUPPORTED_CONTENT_ENCODING",
            f"Content-Encoding {encoding.strip()[:40]!r} is not supported: send gzip, deflate or an uncompressed body.",
        )
    if not base64_encoded:
        return body, False  # already decompressed upstream: JSON text, not compressed bytes
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return BodyProblem("INVALID_BODY", "The request body could not be decoded (invalid base64).")
    if not _looks_compressed(raw, name):
        return body, True  # API Gateway inflated it and kept the header: take the bytes as they are
    inflater = zlib.decompressobj(_DECODERS[name])
    try:
        inflated = inflater.decompress(raw, MAX_DECODED_BYTES + 1)
        complete = inflater.eof and not inflater.unconsumed_tail
    except zlib.error as exc:
        return BodyProblem(
            "INVALID_CONTENT_ENCODING",
            f"The request body is not valid {name} data ({str(exc)[:120]}); compress the whole body once, "
            "or drop the Content-Encoding header.",
        )
    if len(inflated) > MAX_DECODED_BYTES:
        return BodyProblem(
            "PAYLOAD_TOO_LARGE",
            f"The request body inflates to more than {MAX_DECODED_BYTES // (1024 * 1024)} MB; send smaller batches.",
        )
    if not complete:
        return BodyProblem(
            "INVALID_CONTENT_ENCODING",
            f"The request body is truncated {name} data; compress the whole body once.",
        )
    return base64.b64encode(inflated).decode("ascii"), True


def _looks_compressed(raw: bytes, name: str) -> bool:
    if _DECODERS[name] == 31:
        return raw[:2] == _GZIP_MAGIC
    return len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0  # RFC 1950 header


def read_text(body: str, base64_encoded: bool) -> str | BodyProblem:
    """The body as text; a base64 body (API Gateway's binary pass-through) must decode to UTF-8."""
    if not base64_encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return BodyProblem("INVALID_BODY", "The request body could not be decoded (invalid base64).")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BodyProblem(
            "BODY_NOT_UTF8",
            f"The request body is not UTF-8 (invalid byte at offset {exc.start}). Send JSON encoded as UTF-8.",
        )


def nesting_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when arrays/objects in ``text`` nest deeper than ``limit`` (brackets inside strings ignored)."""
    depth = 0
    for run in _BRACKETS.findall(_STRING.sub("", text)):
        for char in run:
            depth += 1 if char in "[{" else -1
            if depth > limit:
                return True
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_json(text: str) -> BodyProblem | None:
    """None when ``text`` is JSON a route may parse; otherwise the problem to answer."""
    if nesting_depth_exceeds(text):
        return BodyProblem(
            "JSON_TOO_DEEP",
            f"The request body nests arrays/objects more than {MAX_DEPTH} levels deep; flatten it.",
        )
    try:
        json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        return BodyProblem("INVALID_JSON", f"The request body is not valid JSON ({str(exc)[:200]}).")
    return None


def lone_surrogate_at(value: Any, where: str = "$") -> str | None:
    """The JSON path of the first string (key or value) holding a lone UTF-16 surrogate (JSON
    "\\udc00"), which no store can encode as UTF-8; None when there is none."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate_at(key, f"{where} (a key)") or lone_surrogate_at(item, f"{where}.{_printable(key)}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_at(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")[:64]
