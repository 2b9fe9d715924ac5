"""Every (state, action) of every catalog lifecycle is either the documented move or a 409 Conflict,
and the use cases follow the same tables (published plan versions are immutable)."""

from datetime import UTC, datetime
from itertools import product as pairs

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.catalog import (
    METER_TRANSITIONS,
    PRODUCT_TRANSITIONS,
    VERSION_TRANSITIONS,
    Aggregation,
    AggregationFunction,
    Meter,
    MeterAction,
    MeterStatus,
    PlanVersion,
    Product,
    ProductAction,
    ProductStatus,
    VersionAction,
    VersionContent,
    VersionStatus,
)
from tollgate.domain.errors import Conflict
from tollgate.usecases import catalog

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)
CALLER = Caller("ten_a", KeyKind.OPERATOR, "key_1", Role.OWNER)


def test_the_documented_tables():
    assert PRODUCT_TRANSITIONS == {
        (ProductStatus.DRAFT, ProductAction.UPDATE): ProductStatus.DRAFT,
        (ProductStatus.DRAFT, ProductAction.PUBLISH): ProductStatus.PUBLISHED,
        (ProductStatus.DRAFT, ProductAction.ARCHIVE): ProductStatus.ARCHIVED,
        (ProductStatus.PUBLISHED, ProductAction.UPDATE): ProductStatus.PUBLISHED,
        (ProductStatus.PUBLISHED, ProductAction.ARCHIVE): ProductStatus.ARCHIVED,
    }
    assert METER_TRANSITIONS == {
        (MeterStatus.ACTIVE, MeterAction.UPDATE): MeterStatus.ACTIVE,
        (MeterStatus.ACTIVE, MeterAction.ARCHIVE): MeterStatus.ARCHIVED,
        (MeterStatus.ARCHIVED, MeterAction.ACTIVATE): MeterStatus.ACTIVE,
    }
    assert VERSION_TRANSITIONS == {
        (VersionStatus.DRAFT, VersionAction.EDIT): VersionStatus.DRAFT,
        (VersionStatus.DRAFT, VersionAction.PUBLISH): VersionStatus.PUBLISHED,
        (VersionStatus.DRAFT, VersionAction.ARCHIVE): VersionStatus.ARCHIVED,
        (VersionStatus.PUBLISHED, VersionAction.ARCHIVE): VersionStatus.ARCHIVED,
    }


def a_product(status: ProductStatus) -> Product:
    return Product("prod_1", "ten_a", "Weather API", T0, T0, status=status)


def a_meter(status: MeterStatus) -> Meter:
    return Meter("mtr_1", "ten_a", "calls", "api.calls", Aggregation(AggregationFunction.COUNT), T0, T0, status=status)


def a_version(status: VersionStatus) -> PlanVersion:
    return PlanVersion("plan_1", "ten_a", 1, "USD", VersionContent(), T0, T0, status=status)


@pytest.mark.parametrize("state, action", list(pairs(ProductStatus, ProductAction)))
def test_every_product_state_and_action(state, action):
    product = a_product(state)
    if (state, action) in PRODUCT_TRANSITIONS:
        moved = product.apply(action, T1)
        assert moved.status is PRODUCT_TRANSITIONS[(state, action)]
        assert moved.updated_at == T1
    else:
        with pytest.raises(Conflict) as refused:
            product.apply(action, T1)
        assert "prod_1" in refused.value.detail and state.value in refused.value.detail


@pytest.mark.parametrize("state, action", list(pairs(MeterStatus, MeterAction)))
def test_every_meter_state_and_action(state, action):
    meter = a_meter(state)
    if (state, action) in METER_TRANSITIONS:
        assert meter.apply(action, T1).status is METER_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(Conflict) as refused:
            meter.apply(action, T1)
        assert "mtr_1" in refused.value.detail and state.value in refused.value.detail


@pytest.mark.parametrize("state, action", list(pairs(VersionStatus, VersionAction)))
def test_every_plan_version_state_and_action(state, action):
    version = a_version(state)
    if (state, action) in VERSION_TRANSITIONS:
        assert version.apply(action, T1).status is VERSION_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(Conflict) as refused:
            version.apply(action, T1)
        assert "plan_1 version 1" in refused.value.detail and state.value in refused.value.detail


def test_archive_stamps_the_time_and_publish_stamps_the_time():
    published = a_version(VersionStatus.DRAFT).apply(VersionAction.PUBLISH, T1)
    assert published.published_at == T1 and published.archived_at is None
    assert published.apply(VersionAction.ARCHIVE, T1).archived_at == T1
    assert a_meter(MeterStatus.ACTIVE).apply(MeterAction.ARCHIVE, T1).archived_at == T1
    assert a_meter(MeterStatus.ARCHIVED).apply(MeterAction.ACTIVATE, T1).archived_at is None


def test_a_published_version_says_it_is_immutable_and_to_create_a_new_version():
    with pytest.raises(Conflict) as refused:
        a_version(VersionStatus.PUBLISHED).with_content(VersionContent(), T1)
    assert "published versions are immutable; create a new version" in refused.value.detail


# -- the same lifecycle through the use cases ------------------------------------------------------


def plan_in_state(repo, state: VersionStatus) -> str:
    plan, _ = catalog.create_plan(repo, CALLER, {"name": "Pro", "currency": "USD"})
    if state is VersionStatus.PUBLISHED:
        catalog.publish_plan_version(repo, CALLER, plan.plan_id, 1)
    elif state is VersionStatus.ARCHIVED:
        catalog.archive_plan_version(repo, CALLER, plan.plan_id, 1)
    return plan.plan_id


USE_CASES = {
    VersionAction.EDIT: lambda repo, plan_id: catalog.replace_draft(repo, CALLER, plan_id, 1, {"fees": []}),
    VersionAction.PUBLISH: lambda repo, plan_id: catalog.publish_plan_version(repo, CALLER, plan_id, 1),
    VersionAction.ARCHIVE: lambda repo, plan_id: catalog.archive_plan_version(repo, CALLER, plan_id, 1),
}


@pytest.mark.parametrize("state, action", list(pairs(VersionStatus, VersionAction)))
def test_every_plan_version_state_and_action_through_the_use_cases(state, action):
    repo = InMemoryCatalogRepository()
    plan_id = plan_in_state(repo, state)
    before = list(repo.events)
    if (state, action) in VERSION_TRANSITIONS:
        _, version = USE_CASES[action](repo, plan_id)
        assert version.status is VERSION_TRANSITIONS[(state, action)]
        assert repo.get_version("ten_a", plan_id, 1).status is version.status
        assert len(repo.events) == len(before) + 1
    else:
        with pytest.raises(Conflict):
            USE_CASES[action](repo, plan_id)
        assert repo.get_version("ten_a", plan_id, 1).status is state  # nothing changed
        assert repo.events == before


@pytest.mark.parametrize("state, action", list(pairs(ProductStatus, ProductAction)))
def test_every_product_state_and_action_through_the_use_cases(state, action):
    repo = InMemoryCatalogRepository()
    product = catalog.create_product(repo, CALLER, {"name": "Weather API"})
    if state is not ProductStatus.DRAFT:
        catalog.update_product(repo, CALLER, product.product_id, {"status": state.value})
    run = {
        ProductAction.UPDATE: lambda: catalog.update_product(repo, CALLER, product.product_id, {"name": "Renamed"}),
        ProductAction.PUBLISH: lambda: catalog.update_product(
            repo, CALLER, product.product_id, {"status": "PUBLISHED"}
        ),
        ProductAction.ARCHIVE: lambda: catalog.archive_product(repo, CALLER, product.product_id),
    }[action]
    before = list(repo.events)
    if (state, action) in PRODUCT_TRANSITIONS:
        assert run().status is PRODUCT_TRANSITIONS[(state, action)]
        assert len(repo.events) > len(before)
    elif (state, action) == (ProductStatus.PUBLISHED, ProductAction.PUBLISH):
        # PATCH states the wanted status: asking for the status it already has changes nothing.
        assert run() == repo.get_product("ten_a", product.product_id)
        assert repo.events == before
    else:
        with pytest.raises(Conflict):
            run()
        assert repo.get_product("ten_a", product.product_id).status is state
        assert repo.events == before


def test_a_product_cannot_go_back_to_draft():
    repo = InMemoryCatalogRepository()
    product = catalog.create_product(repo, CALLER, {"name": "Weather API"})
    catalog.update_product(repo, CALLER, product.product_id, {"status": "PUBLISHED"})
    with pytest.raises(Conflict) as refused:
        catalog.update_product(repo, CALLER, product.product_id, {"status": "DRAFT"})
    assert "DRAFT" in refused.value.detail


@pytest.mark.parametrize("state, action", list(pairs(MeterStatus, MeterAction)))
def test_every_meter_state_and_action_through_the_use_cases(state, action):
    repo = InMemoryCatalogRepository()
    meter = catalog.create_meter(repo, CALLER, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}})
    if state is MeterStatus.ARCHIVED:
        catalog.archive_meter(repo, CALLER, meter.meter_id)
    run = {
        MeterAction.UPDATE: lambda: catalog.update_meter(repo, CALLER, meter.meter_id, {"name": "API calls"}),
        MeterAction.ARCHIVE: lambda: catalog.archive_meter(repo, CALLER, meter.meter_id),
        MeterAction.ACTIVATE: lambda: catalog.activate_meter(repo, CALLER, meter.meter_id),
    }[action]
    if (state, action) in METER_TRANSITIONS:
        assert run().status is METER_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(Conflict):
            run()
        assert repo.get_meter("ten_a", meter.meter_id).status is state
