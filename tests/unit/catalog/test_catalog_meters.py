"""Meters (billable units): validation, unique event names, the exact and case-insensitive lookups,
archive/activate, and the definition lock while a published plan version uses the meter."""

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.catalog import AggregationFunction, MeterStatus, UsageReset
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.usecases import catalog

A = Caller("ten_a", KeyKind.OPERATOR, "key_a", Role.ADMIN)
B = Caller("ten_b", KeyKind.OPERATOR, "key_b", Role.ADMIN)
TOKENS = {"event_name": "model.usage", "aggregation": {"function": "SUM", "field": "properties.tokens"}}


@pytest.fixture
def repo():
    return InMemoryCatalogRepository()


def test_a_meter_is_created_active_with_its_definition_and_an_event(repo):
    meter = catalog.create_meter(
        repo, A, {**TOKENS, "code": "tokens", "filters": {"model": "gpt-4"}, "usage_reset": "CUMULATIVE"}
    )
    assert meter.meter_id.startswith("mtr_") and meter.status is MeterStatus.ACTIVE
    assert meter.aggregation.function is AggregationFunction.SUM and meter.aggregation.field == "properties.tokens"
    assert meter.aggregation.path == ("properties", "tokens")
    assert meter.usage_reset is UsageReset.CUMULATIVE and meter.filters == {"model": "gpt-4"}
    assert meter.name == "model.usage"  # defaults to the event name
    assert [e.type for e in repo.events] == ["meter.created"]
    assert repo.events[0].data["event_name"] == "model.usage"


@pytest.mark.parametrize("function", ["SUM", "MAX", "UNIQUE_COUNT", "LATEST", "AVG"])
def test_every_function_but_count_needs_a_field(repo, function):
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_meter(repo, A, {"event_name": "e", "aggregation": {"function": function}})
    assert invalid.value.extra["field"] == "aggregation.field"
    assert "aggregation.field" in invalid.value.detail and function in invalid.value.detail


@pytest.mark.parametrize("field", ["quantity", "properties.tokens", "properties.usage.tokens", "properties.user_id"])
def test_fields_are_quantity_or_a_property_path(repo, field):
    meter = catalog.create_meter(
        repo, A, {"event_name": f"e.{field}", "aggregation": {"function": "SUM", "field": field}}
    )
    assert meter.aggregation.field == field


def test_count_takes_no_field(repo):
    assert (
        catalog.create_meter(
            repo, A, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}}
        ).aggregation.field
        is None
    )
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_meter(repo, A, {"event_name": "x", "aggregation": {"function": "COUNT", "field": "quantity"}})
    assert invalid.value.extra["field"] == "aggregation.field"


def test_a_bare_property_name_is_refused_with_a_hint(repo):
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_meter(repo, A, {"event_name": "x", "aggregation": {"function": "SUM", "field": "credits"}})
    assert 'did you mean "properties.credits"' in invalid.value.detail


@pytest.mark.parametrize(
    "data, field",
    [
        ({"aggregation": {"function": "COUNT"}}, "event_name"),
        ({"event_name": "", "aggregation": {"function": "COUNT"}}, "event_name"),
        ({"event_name": " model.usage", "aggregation": {"function": "COUNT"}}, "event_name"),
        ({"event_name": "e", "aggregation": {"function": "MEDIAN", "field": "quantity"}}, "aggregation.function"),
        ({"event_name": "e"}, "aggregation"),
        ({"event_name": "e", "aggregation": {"function": "COUNT"}, "usage_reset": "DAILY"}, "usage_reset"),
        ({"event_name": "e", "aggregation": {"function": "COUNT"}, "filters": {"model": 1.5}}, "filters.model"),
        (
            {"event_name": "e", "aggregation": {"function": "COUNT"}, "filters": {"properties.model": "x"}},
            "filters.properties.model",
        ),
        ({"event_name": "e", "aggregation": {"function": "COUNT"}, "colour": "red"}, "colour"),
    ],
)
def test_invalid_meters_name_the_field(repo, data, field):
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_meter(repo, A, data)
    assert invalid.value.extra["field"] == field


def test_event_names_are_unique_among_active_meters_only(repo):
    first = catalog.create_meter(repo, A, TOKENS)
    with pytest.raises(Conflict) as taken:
        catalog.create_meter(repo, A, {"event_name": "model.usage", "aggregation": {"function": "COUNT"}})
    assert first.meter_id in taken.value.detail and "model.usage" in taken.value.detail
    # Case matters: Model.Usage is another event name.
    catalog.create_meter(repo, A, {"event_name": "Model.Usage", "aggregation": {"function": "COUNT"}})
    # Another tenant has its own names.
    catalog.create_meter(repo, B, TOKENS)
    # Once archived, the name is free again; reactivating the old one is then refused.
    catalog.archive_meter(repo, A, first.meter_id)
    second = catalog.create_meter(repo, A, TOKENS)
    with pytest.raises(Conflict) as again:
        catalog.activate_meter(repo, A, first.meter_id)
    assert second.meter_id in again.value.detail


def test_renaming_an_active_meter_onto_a_taken_event_name_is_refused(repo):
    catalog.create_meter(repo, A, TOKENS)
    other = catalog.create_meter(repo, A, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}})
    with pytest.raises(Conflict):
        catalog.update_meter(repo, A, other.meter_id, {"event_name": "model.usage"})
    renamed = catalog.update_meter(repo, A, other.meter_id, {"event_name": "api.requests"})
    assert repo.find_meter_by_event_name("ten_a", "api.requests") == renamed
    # The old name was released.
    catalog.create_meter(repo, A, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}})


def test_lookup_by_exact_event_name_prefers_the_active_meter(repo):
    old = catalog.create_meter(repo, A, TOKENS)
    catalog.archive_meter(repo, A, old.meter_id)
    assert repo.find_meter_by_event_name("ten_a", "model.usage").meter_id == old.meter_id  # archived, but found
    new = catalog.create_meter(repo, A, TOKENS)
    assert repo.find_meter_by_event_name("ten_a", "model.usage").meter_id == new.meter_id
    assert repo.find_meter_by_event_name("ten_a", "Model.Usage") is None  # case-sensitive
    assert repo.find_meter_by_event_name("ten_b", "model.usage") is None  # tenant-scoped


def test_lookup_ignoring_case_finds_the_did_you_mean_candidates(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    found = repo.find_meters_by_event_name_ignoring_case("ten_a", "Model.Usage")
    assert [m.meter_id for m in found] == [meter.meter_id]
    assert repo.find_meters_by_event_name_ignoring_case("ten_b", "Model.Usage") == []


def test_listing_by_event_name_is_exact(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    catalog.create_meter(repo, A, {"event_name": "Model.Usage", "aggregation": {"function": "COUNT"}})
    assert [m.meter_id for m in catalog.list_meters(repo, A, event_name="model.usage")] == [meter.meter_id]
    assert len(catalog.list_meters(repo, A)) == 2
    assert catalog.list_meters(repo, A, status=MeterStatus.ARCHIVED) == []


def test_filters_match_exactly_on_properties(repo):
    meter = catalog.create_meter(repo, A, {**TOKENS, "filters": {"model": "gpt-4", "tier.level": 2, "cached": False}})
    props = {"model": "gpt-4", "tier": {"level": 2}, "cached": False, "tokens": 10}
    assert meter.matches("model.usage", props)
    assert not meter.matches("Model.Usage", props)
    assert not meter.matches("model.usage", {**props, "model": "GPT-4"})
    assert not meter.matches("model.usage", {"model": "gpt-4"})
    assert not meter.matches("model.usage", {**props, "cached": 0})  # False is not 0
    assert not meter.matches("model.usage", {**props, "tier": {"level": "2"}})


def test_another_tenants_meter_is_not_found(repo):
    meter = catalog.create_meter(repo, B, TOKENS)
    for call in (
        lambda: catalog.get_meter(repo, A, meter.meter_id),
        lambda: catalog.update_meter(repo, A, meter.meter_id, {"name": "x"}),
        lambda: catalog.archive_meter(repo, A, meter.meter_id),
        lambda: catalog.activate_meter(repo, A, meter.meter_id),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.detail == f"Meter not found: {meter.meter_id}"


# -- the definition lock ----------------------------------------------------------------------------


def published_with(repo, meter_id: str) -> str:
    plan, _ = catalog.create_plan(
        repo,
        A,
        {
            "name": "Pro",
            "currency": "USD",
            "usage_prices": [
                {"meter_id": meter_id, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}}
            ],
        },
    )
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    return plan.plan_id


@pytest.mark.parametrize(
    "change",
    [
        {"aggregation": {"function": "MAX", "field": "properties.tokens"}},
        {"aggregation": {"function": "SUM", "field": "properties.credits"}},
        {"event_name": "model.tokens"},
        {"filters": {"model": "gpt-4"}},
        {"usage_reset": "CUMULATIVE"},
    ],
)
def test_the_definition_of_a_meter_in_a_published_version_cannot_change(repo, change):
    meter = catalog.create_meter(repo, A, TOKENS)
    plan_id = published_with(repo, meter.meter_id)
    with pytest.raises(Conflict) as locked:
        catalog.update_meter(repo, A, meter.meter_id, change)
    assert f"plan {plan_id} version 1" in locked.value.detail
    assert next(iter(change)) in locked.value.detail
    assert locked.value.extra["plan_id"] == plan_id and locked.value.extra["version"] == 1
    assert repo.get_meter("ten_a", meter.meter_id).aggregation == meter.aggregation


def test_descriptive_fields_and_an_unchanged_definition_may_still_change(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    published_with(repo, meter.meter_id)
    updated = catalog.update_meter(
        repo,
        A,
        meter.meter_id,
        {"name": "Tokens", "description": "LLM tokens", "code": "tok", "aggregation": TOKENS["aggregation"]},
    )
    assert (updated.name, updated.code) == ("Tokens", "tok")


def test_the_lock_lifts_when_the_last_published_version_using_it_is_archived(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    plan_id = published_with(repo, meter.meter_id)
    assert {(r.plan_id, r.version) for r in repo.get_meter("ten_a", meter.meter_id).published_in} == {(plan_id, 1)}
    catalog.archive_plan_version(repo, A, plan_id, 1)
    assert repo.get_meter("ten_a", meter.meter_id).published_in == frozenset()
    changed = catalog.update_meter(
        repo, A, meter.meter_id, {"aggregation": {"function": "MAX", "field": "properties.tokens"}}
    )
    assert changed.aggregation.function is AggregationFunction.MAX


def test_a_draft_using_a_meter_does_not_lock_it(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    catalog.create_plan(
        repo,
        A,
        {"name": "Pro", "currency": "USD", "entitlements": [{"meter_id": meter.meter_id, "limit": 1000}]},
    )
    catalog.update_meter(repo, A, meter.meter_id, {"aggregation": {"function": "COUNT"}})


def test_an_archived_meter_cannot_be_edited_until_activated(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    catalog.archive_meter(repo, A, meter.meter_id)
    with pytest.raises(Conflict) as refused:
        catalog.update_meter(repo, A, meter.meter_id, {"name": "x"})
    assert "activate" in refused.value.detail
    catalog.activate_meter(repo, A, meter.meter_id)
    assert catalog.update_meter(repo, A, meter.meter_id, {"name": "x"}).name == "x"
    assert [e.type for e in repo.events] == ["meter.created", "meter.archived", "meter.activated", "meter.updated"]
    assert len({e.event_id for e in repo.events}) == 4


def test_a_stale_write_is_a_conflict(repo):
    meter = catalog.create_meter(repo, A, TOKENS)
    stale = repo.get_meter("ten_a", meter.meter_id)
    catalog.update_meter(repo, A, meter.meter_id, {"name": "first"})
    from dataclasses import replace

    with pytest.raises(Conflict):
        repo.save_meter(replace(stale, name="second", revision=stale.revision + 1), stale, [])
