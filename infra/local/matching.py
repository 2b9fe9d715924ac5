"""Event-pattern matching (EventBridge / Lambda event-source filters), the subset Tollgate's
definitions use: exact values in lists, ``{"prefix": ...}``, ``{"exists": bool}``, nested objects."""

from __future__ import annotations

from typing import Any


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, expected in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(expected, dict):
            if not present or not matches(expected, value):
                return False
            continue
        if not _any_of(expected, value, present):
            return False
    return True


def _any_of(options: list[Any], value: Any, present: bool) -> bool:
    for option in options:
        if isinstance(option, dict):
            if "prefix" in option and isinstance(value, str) and value.startswith(option["prefix"]):
                return True
            if "exists" in option and option["exists"] == present:
                return True
        elif present and (value == option or (isinstance(value, list) and option in value)):
            return True
    return False
