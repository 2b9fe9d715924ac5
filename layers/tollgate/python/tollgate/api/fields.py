"""Strict field types for request models: what a client sends is taken as it is or refused (422).

Pydantic's lax mode would read ``true`` as the integer 1, ``1.0`` as 1, ``"yes"`` as a boolean and a
number as a Unix time, and a plain ``str`` lets a lone surrogate through (DynamoDB cannot store it).
These types refuse all of that and bound every number before a use case does arithmetic with it; the
domain rules (``tollgate.domain.catalog.common``) then judge the values themselves.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from tollgate.domain.catalog.common import MAX_EXTERNAL_ID, MAX_NAME
from tollgate.domain.catalog.plans import MAX_TRIAL_DAYS, MAX_VERSION

Flag = StrictBool
VersionNumber = Annotated[StrictInt, Field(ge=1, le=MAX_VERSION, description=f"1 to {MAX_VERSION}.")]
# Bounded by the domain rule, whose 422 names the field: 0 to MAX_TRIAL_DAYS.
TrialDays = Annotated[StrictInt, Field(description=f"0 to {MAX_TRIAL_DAYS} days.")]
# Length-bounded strings: pydantic then reads them as Unicode text and refuses lone surrogates.
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_EXTERNAL_ID)]
ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_EXTERNAL_ID,
        description="Your own id: 1 to 255 printable characters, no leading or trailing whitespace.",
    ),
]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Timestamp = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"format": "date-time"},
        description="RFC 3339 with an offset, e.g. 2026-04-17T10:00:00Z.",
    ),
]
MetadataText = Annotated[str, Field(max_length=500)]
MetadataValue = MetadataText | StrictInt
