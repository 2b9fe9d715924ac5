"""What the catalog routers (products, meters, plans) share: their permissions, the metadata and
filters schemas, and the response helpers.

Reads need ``catalog:read`` (OWNER, ADMIN, MEMBER), writes ``catalog:write`` (OWNER, ADMIN); BILLING_ADMIN
has neither (seed 000). Another tenant's id answers the same 404 as an unknown one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import WithJsonSchema

from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339

CallerDep = Annotated[Caller, Depends(current_caller)]
READ = requires(Permission.CATALOG_READ)
WRITE = requires(Permission.CATALOG_WRITE)

_SCALAR = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
Metadata = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": _SCALAR,
            "description": "Up to 50 keys; string, integer or boolean values.",
        }
    ),
]
Filters = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": _SCALAR,
            "description": 'Exact-match conditions on event properties, e.g. {"model": "gpt-4"}.',
        }
    ),
]


def timestamp_or_none(value: datetime | None) -> str | None:
    return to_rfc3339(value) if value else None


def created(model: ApiModel) -> Response:
    return Response(201, "application/json", model.model_dump(mode="json"))


def sent_fields(body: ApiModel) -> dict[str, Any]:
    """What the client sent (a PATCH changes only those), as plain JSON values."""
    return body.model_dump(mode="json", exclude_unset=True)
