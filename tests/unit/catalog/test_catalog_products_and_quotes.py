"""Products (CRUD, 404 wording, tenant isolation) and the quote use case's field-naming details."""

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.catalog import ProductStatus
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.usecases import catalog, prices

A = Caller("ten_a", KeyKind.OPERATOR, "key_a", Role.OWNER)
B = Caller("ten_b", KeyKind.OPERATOR, "key_b", Role.OWNER)


@pytest.fixture
def repo():
    return InMemoryCatalogRepository()


def test_product_crud(repo):
    product = catalog.create_product(
        repo, A, {"name": "Weather API", "description": "Forecasts", "metadata": {"tier": "gold"}}
    )
    assert product.product_id.startswith("prod_") and product.status is ProductStatus.DRAFT
    assert catalog.get_product(repo, A, product.product_id) == product
    renamed = catalog.update_product(repo, A, product.product_id, {"name": "Weather API v2"})
    assert (
        renamed.name == "Weather API v2" and renamed.description == "Forecasts" and renamed.metadata == {"tier": "gold"}
    )
    published = catalog.update_product(repo, A, product.product_id, {"status": "PUBLISHED"})
    assert published.status is ProductStatus.PUBLISHED and published.published_at is not None
    archived = catalog.archive_product(repo, A, product.product_id)
    assert archived.status is ProductStatus.ARCHIVED and archived.archived_at is not None
    assert [p.product_id for p in catalog.list_products(repo, A, status=ProductStatus.ARCHIVED)] == [product.product_id]
    assert catalog.list_products(repo, A, status=ProductStatus.DRAFT) == []
    assert [e.type for e in repo.events] == [
        "product.created",
        "product.updated",
        "product.published",
        "product.archived",
    ]


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "metadata": {"k": {"nested": 1}}}, "metadata.k"),
        ({"name": "x", "price": "9"}, "price"),
    ],
)
def test_invalid_products_name_the_field(repo, data, field):
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_product(repo, A, data)
    assert invalid.value.extra["field"] == field


def test_a_missing_product_is_a_404_echoing_the_id(repo):
    with pytest.raises(NotFound) as missing:
        catalog.get_product(repo, A, "prod_x")
    assert missing.value.detail == "Product not found: prod_x"


def test_another_tenants_product_answers_the_same_404(repo):
    theirs = catalog.create_product(repo, B, {"name": "Theirs"})
    for call in (
        lambda: catalog.get_product(repo, A, theirs.product_id),
        lambda: catalog.update_product(repo, A, theirs.product_id, {"name": "mine now"}),
        lambda: catalog.archive_product(repo, A, theirs.product_id),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.detail == f"Product not found: {theirs.product_id}"
    assert catalog.list_products(repo, A) == []
    assert repo.get_product("ten_b", theirs.product_id).name == "Theirs"


TIERS = [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": None, "unit_amount": "0.05"}]


def test_quote_returns_the_engines_quote():
    result = prices.quote_price({"model": "graduated", "currency": "USD", "tiers": TIERS}, "15000")
    assert result.to_json()["amount"] == "800.00"


@pytest.mark.parametrize(
    "price, quantity, field",
    [
        (
            {"model": "graduated", "currency": "USD", "tiers": [{"up_to": 1000}, {"up_to": 500}, {"up_to": None}]},
            "1",
            "tiers[1].up_to",
        ),
        ({"model": "volume", "currency": "USD", "tiers": [{"up_to": 1000}, {"up_to": 5000}]}, "1", "tiers[1].up_to"),
        ({"model": "per_unit", "currency": "USD", "unit_amount": "-1"}, "1", "unit_amount"),
        ({"model": "per_unit", "currency": "USD", "unit_amount": "0.0000000000000000001"}, "1", "unit_amount"),
        ({"model": "per_unit", "currency": "XYZ", "unit_amount": "1"}, "1", "currency"),
        ({"model": "per_unit", "currency": "USD", "unit_amount": "1"}, "-5", "quantity"),
        ({"model": "per_unit", "currency": "USD", "unit_amount": "1"}, 1.5, "quantity"),
    ],
)
def test_quote_errors_name_the_field_in_the_detail_too(price, quantity, field):
    with pytest.raises(InvalidInput) as invalid:
        prices.quote_price(price, quantity)
    assert invalid.value.extra["field"] == field
    assert field in invalid.value.detail
