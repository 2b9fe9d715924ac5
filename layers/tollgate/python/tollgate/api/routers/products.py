"""Products (DRAFT -> PUBLISHED -> ARCHIVED): what a tenant sells; plans may name one."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.api.routers.catalog_common import (
    READ,
    WRITE,
    CallerDep,
    Metadata,
    created,
    sent_fields,
    timestamp_or_none,
)
from tollgate.domain.catalog import Product, ProductStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.usecases import catalog

router = Router()


class ProductIn(ApiModel):
    name: str
    description: str = ""
    metadata: Metadata = Field(default_factory=dict)


class ProductPatch(ApiModel):
    name: str | None = None
    description: str | None = None
    metadata: Metadata | None = None
    status: ProductStatus | None = Field(default=None, description="PUBLISHED to publish, ARCHIVED to archive.")


class ProductOut(ApiModel):
    id: str
    name: str
    description: str
    status: ProductStatus
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    published_at: str | None
    archived_at: str | None


class ProductList(PageFields):
    data: list[ProductOut]


def product_out(p: Product) -> ProductOut:
    return ProductOut(
        id=p.product_id,
        name=p.name,
        description=p.description,
        status=p.status,
        metadata=p.metadata,
        created_at=to_rfc3339(p.created_at),
        updated_at=to_rfc3339(p.updated_at),
        published_at=timestamp_or_none(p.published_at),
        archived_at=timestamp_or_none(p.archived_at),
    )


@router.post(
    "/v1/products",
    openapi_extensions=WRITE,
    tags=["products"],
    summary="Create a product (DRAFT)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": ProductOut}}}},
)
def create_product(body: ProductIn, caller: CallerDep) -> Response[ProductOut]:
    return created(product_out(catalog.create_product(wiring.catalog_repository(), caller, sent_fields(body))))


@router.get("/v1/products", openapi_extensions=READ, tags=["products"], summary="List products")
def list_products(
    caller: CallerDep,
    status: Annotated[ProductStatus | None, Query()] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> ProductList:
    page = wiring.catalog_repository().page_products(
        caller.tenant_id, status=status, limit=limit, cursor=starting_after
    )
    return ProductList(data=[product_out(p) for p in page.data], **page_fields(page))


@router.get("/v1/products/<product_id>", openapi_extensions=READ, tags=["products"], summary="Get a product")
def get_product(product_id: str, caller: CallerDep) -> ProductOut:
    return product_out(catalog.get_product(wiring.catalog_repository(), caller, product_id))


@router.patch(
    "/v1/products/<product_id>",
    openapi_extensions=WRITE,
    tags=["products"],
    summary="Update a product (name, description, metadata; status PUBLISHED or ARCHIVED)",
)
def update_product(product_id: str, body: ProductPatch, caller: CallerDep) -> ProductOut:
    return product_out(catalog.update_product(wiring.catalog_repository(), caller, product_id, sent_fields(body)))


@router.delete("/v1/products/<product_id>", openapi_extensions=WRITE, tags=["products"], summary="Archive a product")
def archive_product(product_id: str, caller: CallerDep) -> ProductOut:
    return product_out(catalog.archive_product(wiring.catalog_repository(), caller, product_id))
