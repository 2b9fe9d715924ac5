"""Shared API models: every request and response model of the API derives from ``ApiModel``."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _admits_number_not_bool(annotation: Any) -> bool:
    """True for int/float fields (optional or in a union) that do not also admit a bool."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = get_args(annotation)
        return bool not in members and any(_admits_number_not_bool(m) for m in members)
    return annotation in (int, float)


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads true/false as 1/0 for int and float fields: "retention_days": true
        # would be stored as 1 day. A JSON boolean is never a number here.
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and _admits_number_not_bool(field.annotation):
                raise ValueError("must be a number, not a boolean")
        return value
