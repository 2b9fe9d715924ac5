"""Products: what a tenant sells (an API, a service); plans may point at one.

Lifecycle (``PRODUCT_TRANSITIONS``; anything else is a 409 Conflict)::

    DRAFT     --update-->  DRAFT
    DRAFT     --publish--> PUBLISHED
    DRAFT     --archive--> ARCHIVED
    PUBLISHED --update-->  PUBLISHED
    PUBLISHED --archive--> ARCHIVED
    ARCHIVED  is final: no edit, no publish, no second archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import MAX_DESCRIPTION, metadata, text, transition
from tollgate.domain.errors import Conflict, InvalidInput


class ProductStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class ProductAction(StrEnum):
    UPDATE = "update"
    PUBLISH = "publish"
    ARCHIVE = "archive"


PRODUCT_TRANSITIONS: dict[tuple[ProductStatus, ProductAction], ProductStatus] = {
    (ProductStatus.DRAFT, ProductAction.UPDATE): ProductStatus.DRAFT,
    (ProductStatus.DRAFT, ProductAction.PUBLISH): ProductStatus.PUBLISHED,
    (ProductStatus.DRAFT, ProductAction.ARCHIVE): ProductStatus.ARCHIVED,
    (ProductStatus.PUBLISHED, ProductAction.UPDATE): ProductStatus.PUBLISHED,
    (ProductStatus.PUBLISHED, ProductAction.ARCHIVE): ProductStatus.ARCHIVED,
}

_REFUSALS = {
    (ProductStatus.PUBLISHED, ProductAction.PUBLISH): "it is already published",
    (ProductStatus.ARCHIVED, ProductAction.UPDATE): "archived products cannot be edited",
    (ProductStatus.ARCHIVED, ProductAction.PUBLISH): "archived products cannot be published again",
    (ProductStatus.ARCHIVED, ProductAction.ARCHIVE): "it is already archived",
}

# The action a PATCH of ``status`` asks for.
_ACTION_FOR_STATUS = {ProductStatus.PUBLISHED: ProductAction.PUBLISH, ProductStatus.ARCHIVED: ProductAction.ARCHIVE}

EDITABLE = frozenset({"name", "description", "metadata"})


@dataclass(frozen=True)
class Product:
    product_id: str
    tenant_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    status: ProductStatus = ProductStatus.DRAFT
    metadata: dict[str, Any] = field(default_factory=dict)
    published_at: datetime | None = None
    archived_at: datetime | None = None
    revision: int = 1  # bumped by every save; a save is conditional on the revision it replaces

    @property
    def subject(self) -> str:
        return f"Product {self.product_id}"

    def apply(self, action: ProductAction, at: datetime) -> Product:
        """The product after ``action`` (a Conflict if the lifecycle table does not allow it)."""
        status = transition(PRODUCT_TRANSITIONS, self.status, action, subject=self.subject, refusals=_REFUSALS)
        return replace(
            self,
            status=status,
            updated_at=at,
            published_at=at if action is ProductAction.PUBLISH else self.published_at,
            archived_at=at if action is ProductAction.ARCHIVE else self.archived_at,
        )

    def edited(self, changes: Mapping[str, Any], at: datetime) -> Product:
        """Apply a PATCH: ``name``/``description``/``metadata`` (an update), then ``status`` if it moves."""
        unknown = set(changes) - EDITABLE - {"status"}
        if unknown:
            name = min(unknown)
            raise InvalidInput(f"{name} cannot be changed", field=name)
        product = self
        fields = {k: v for k, v in changes.items() if k in EDITABLE}
        if fields:
            product = product.apply(ProductAction.UPDATE, at)
            product = replace(product, **_validated({**_editable(self), **fields}))
        if changes.get("status") is not None:
            try:
                target = ProductStatus(changes["status"])
            except ValueError:
                raise InvalidInput("status must be DRAFT, PUBLISHED or ARCHIVED", field="status") from None
            if target is not product.status:
                action = _ACTION_FOR_STATUS.get(target)
                if action is None:
                    raise Conflict(f"{self.subject} is {product.status.value}: it cannot go back to DRAFT.")
                product = product.apply(action, at)
        return product


def _editable(product: Product) -> dict[str, Any]:
    return {"name": product.name, "description": product.description, "metadata": product.metadata}


def _validated(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": text(values.get("name"), "name"),
        "description": text(values.get("description"), "description", required=False, max_length=MAX_DESCRIPTION),
        "metadata": metadata(values.get("metadata")),
    }


def new_product(*, product_id: str, tenant_id: str, data: Mapping[str, Any], at: datetime) -> Product:
    """A DRAFT product from ``{"name", "description"?, "metadata"?}``."""
    unknown = set(data) - EDITABLE
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=name)
    return Product(product_id=product_id, tenant_id=tenant_id, created_at=at, updated_at=at, **_validated(data))
