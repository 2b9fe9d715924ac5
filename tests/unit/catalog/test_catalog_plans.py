"""Plans and versions: creation, validation of prices against the plan currency, versioning,
publishing (meters must exist and be active), superseded versions and the current version."""

from decimal import Decimal

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.catalog import BillingInterval, EntitlementReset, FeeTiming, VersionStatus
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.usecases import catalog

A = Caller("ten_a", KeyKind.OPERATOR, "key_a", Role.OWNER)
B = Caller("ten_b", KeyKind.OPERATOR, "key_b", Role.OWNER)


@pytest.fixture
def repo():
    return InMemoryCatalogRepository()


@pytest.fixture
def meter_id(repo):
    return catalog.create_meter(repo, A, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}}).meter_id


def graduated(currency="USD"):
    return {
        "model": "graduated",
        "currency": currency,
        "tiers": [{"up_to": 1000, "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.002"}],
    }


def plan_data(meter_id, **extra):
    return {
        "name": "Pro",
        "currency": "USD",
        "billing_interval": "MONTH",
        "fees": [{"name": "Platform fee", "amount": "49.00", "timing": "in_advance"}],
        "usage_prices": [{"meter_id": meter_id, "price": graduated()}],
        "minimum_commitment": "100",
        "entitlements": [{"meter_id": meter_id, "limit": 100000, "hard": True, "reset": "PERIODIC"}],
        **extra,
    }


def test_creating_a_plan_creates_version_1_as_a_draft(repo, meter_id):
    plan, version = catalog.create_plan(
        repo, A, plan_data(meter_id, trial_days=14, metadata={"max_payment_overdue_days": 5}, code="pro-usd")
    )
    assert plan.plan_id.startswith("plan_")
    assert (plan.currency, plan.billing_interval, plan.trial_days, plan.code) == (
        "USD",
        BillingInterval.MONTH,
        14,
        "pro-usd",
    )
    assert plan.grace_period_days == 5
    assert (plan.current_version, plan.latest_version) == (None, 1)
    assert (version.version, version.status) == (1, VersionStatus.DRAFT)
    content = version.content
    assert content.fees[0].amount == Decimal("49.00") and content.fees[0].timing is FeeTiming.IN_ADVANCE
    assert content.usage_prices[0].price.model == "graduated"
    assert content.minimum_commitment == Decimal(100)
    assert (
        content.entitlements[0].limit == Decimal(100000) and content.entitlements[0].reset is EntitlementReset.PERIODIC
    )
    assert [e.type for e in repo.events][-2:] == ["plan.created", "plan_version.created"]


def test_the_grace_period_defaults_to_three_days(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Free", "currency": "EUR"})
    assert plan.grace_period_days == 3


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"currency": "usd"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"billing_interval": "WEEK"}, "billing_interval"),
        ({"trial_days": -1}, "trial_days"),
        ({"metadata": {"max_payment_overdue_days": "three"}}, "metadata.max_payment_overdue_days"),
        ({"metadata": {"ratio": 0.5}}, "metadata.ratio"),
        ({"name": ""}, "name"),
        ({"fees": [{"name": "Platform", "amount": "9.999"}]}, "fees[0].amount"),
        ({"fees": [{"name": "Platform", "amount": 9.99}]}, "fees[0].amount"),
        ({"fees": [{"name": "Platform", "amount": "-1"}]}, "fees[0].amount"),
        ({"fees": [{"name": "Platform", "amount": "1", "timing": "monthly"}]}, "fees[0].timing"),
        ({"minimum_commitment": "-5"}, "minimum_commitment"),
        ({"entitlements": [{"meter_id": "mtr_x", "limit": "-1"}]}, "entitlements[0].limit"),
        ({"entitlements": [{"meter_id": "mtr_x", "limit": 5, "reset": "DAILY"}]}, "entitlements[0].reset"),
        ({"usage_prices": [{"meter_id": "mtr_x", "price": graduated("EUR")}]}, "usage_prices[0].price.currency"),
        (
            {
                "usage_prices": [
                    {
                        "meter_id": "mtr_x",
                        "price": {**graduated(), "tiers": [{"up_to": 10}, {"up_to": 5}, {"up_to": None}]},
                    }
                ]
            },
            "usage_prices[0].price.tiers[1].up_to",
        ),
        (
            {
                "usage_prices": [
                    {"meter_id": "mtr_x", "price": graduated()},
                    {"meter_id": "mtr_x", "price": graduated()},
                ]
            },
            "usage_prices[1].meter_id",
        ),
    ],
)
def test_invalid_plans_name_the_field(repo, extra, field):
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD", **extra})
    assert invalid.value.extra["field"] == field
    assert field in invalid.value.detail or field.split(".")[-1] in invalid.value.detail


def test_jpy_and_kwd_amounts_follow_their_minor_units(repo):
    catalog.create_plan(repo, A, {"name": "JP", "currency": "JPY", "fees": [{"name": "Base", "amount": "1000"}]})
    with pytest.raises(InvalidInput):
        catalog.create_plan(repo, A, {"name": "JP", "currency": "JPY", "fees": [{"name": "Base", "amount": "1000.5"}]})
    catalog.create_plan(repo, A, {"name": "KW", "currency": "KWD", "fees": [{"name": "Base", "amount": "1.250"}]})


def test_a_plan_can_point_at_an_existing_product_of_its_tenant_only(repo):
    product = catalog.create_product(repo, A, {"name": "Weather API"})
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD", "product_id": product.product_id})
    assert plan.product_id == product.product_id
    other = catalog.create_product(repo, B, {"name": "Theirs"})
    with pytest.raises(InvalidInput) as invalid:
        catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD", "product_id": other.product_id})
    assert invalid.value.extra["field"] == "product_id" and other.product_id in invalid.value.detail


def test_publishing_makes_the_version_current_and_immutable(repo, meter_id):
    plan, _ = catalog.create_plan(repo, A, plan_data(meter_id))
    plan, published = catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    assert published.status is VersionStatus.PUBLISHED and published.published_at is not None
    assert plan.current_version == 1
    with pytest.raises(Conflict) as immutable:
        catalog.replace_draft(repo, A, plan.plan_id, 1, {"fees": []})
    assert "published versions are immutable; create a new version" in immutable.value.detail
    assert repo.get_version("ten_a", plan.plan_id, 1).content == published.content
    event = repo.events[-1]
    assert event.type == "plan_version.published"
    assert (
        event.data["plan_id"] == plan.plan_id and event.data["version"] == 1 and event.data["meter_ids"] == [meter_id]
    )


def test_a_published_version_is_immutable_even_with_an_invalid_payload(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD"})
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    with pytest.raises(Conflict):
        catalog.replace_draft(repo, A, plan.plan_id, 1, {"fees": "nonsense"})


def test_a_new_version_copies_the_latest_and_supersedes_on_publish(repo, meter_id):
    plan, v1 = catalog.create_plan(repo, A, plan_data(meter_id))
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    plan, v2 = catalog.create_plan_version(repo, A, plan.plan_id)
    assert (v2.version, v2.status, v2.content) == (2, VersionStatus.DRAFT, v1.content)
    assert plan.latest_version == 2 and plan.current_version == 1
    _, v2 = catalog.replace_draft(repo, A, plan.plan_id, 2, {"fees": [{"name": "Platform fee", "amount": "59.00"}]})
    assert v2.content.fees[0].amount == Decimal("59.00") and v2.content.usage_prices == ()
    plan, _ = catalog.publish_plan_version(repo, A, plan.plan_id, 2)
    plan, versions = catalog.get_plan_with_versions(repo, A, plan.plan_id)
    assert plan.current_version == 2
    v1_now, v2_now = versions
    # Version 1 stays PUBLISHED for the subscriptions pinned to it, but is superseded.
    assert v1_now.status is VersionStatus.PUBLISHED and v1_now.superseded(plan)
    assert v2_now.status is VersionStatus.PUBLISHED and not v2_now.superseded(plan)
    assert v1_now.content.fees[0].amount == Decimal("49.00")
    assert repo.events[-1].data["previous_version"] == 1


def test_only_one_draft_at_a_time(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD"})
    with pytest.raises(Conflict) as refused:
        catalog.create_plan_version(repo, A, plan.plan_id)
    assert "DRAFT version (1)" in refused.value.detail
    catalog.archive_plan_version(repo, A, plan.plan_id, 1)
    _, v2 = catalog.create_plan_version(repo, A, plan.plan_id)
    assert v2.version == 2


def test_archiving_the_current_version_falls_back_to_the_previous_published_one(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD"})
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    catalog.create_plan_version(repo, A, plan.plan_id)
    catalog.publish_plan_version(repo, A, plan.plan_id, 2)
    plan, archived = catalog.archive_plan_version(repo, A, plan.plan_id, 2)
    assert archived.status is VersionStatus.ARCHIVED and plan.current_version == 1
    plan, _ = catalog.archive_plan_version(repo, A, plan.plan_id, 1)
    assert plan.current_version is None
    assert [e.type for e in repo.events].count("plan_version.archived") == 2


def test_archiving_a_superseded_version_keeps_the_current_one(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD"})
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    catalog.create_plan_version(repo, A, plan.plan_id)
    catalog.publish_plan_version(repo, A, plan.plan_id, 2)
    plan, _ = catalog.archive_plan_version(repo, A, plan.plan_id, 1)
    assert plan.current_version == 2


def test_publishing_needs_every_referenced_meter_to_exist_and_be_active(repo, meter_id):
    plan, _ = catalog.create_plan(
        repo, A, {"name": "Pro", "currency": "USD", "entitlements": [{"meter_id": "mtr_missing", "limit": 10}]}
    )
    with pytest.raises(Conflict) as missing:
        catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    assert "mtr_missing" in missing.value.detail and "does not exist" in missing.value.detail
    catalog.replace_draft(repo, A, plan.plan_id, 1, {"entitlements": [{"meter_id": meter_id, "limit": 10}]})
    catalog.archive_meter(repo, A, meter_id)
    with pytest.raises(Conflict) as archived:
        catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    assert meter_id in archived.value.detail and "ARCHIVED" in archived.value.detail
    assert repo.get_version("ten_a", plan.plan_id, 1).status is VersionStatus.DRAFT
    catalog.activate_meter(repo, A, meter_id)
    catalog.publish_plan_version(repo, A, plan.plan_id, 1)


def test_another_tenants_meter_cannot_be_published_into_a_plan(repo):
    theirs = catalog.create_meter(repo, B, {"event_name": "api.calls", "aggregation": {"function": "COUNT"}})
    plan, _ = catalog.create_plan(
        repo, A, {"name": "Pro", "currency": "USD", "entitlements": [{"meter_id": theirs.meter_id, "limit": 10}]}
    )
    with pytest.raises(Conflict) as missing:
        catalog.publish_plan_version(repo, A, plan.plan_id, 1)
    assert "does not exist" in missing.value.detail


def test_plan_fields_can_change_but_not_currency_or_interval(repo):
    plan, _ = catalog.create_plan(repo, A, {"name": "Pro", "currency": "USD"})
    updated = catalog.update_plan(repo, A, plan.plan_id, {"name": "Pro 2", "metadata": {"max_payment_overdue_days": 7}})
    assert updated.name == "Pro 2" and updated.grace_period_days == 7
    for field in ("currency", "billing_interval"):
        with pytest.raises(InvalidInput) as refused:
            catalog.update_plan(repo, A, plan.plan_id, {field: "EUR"})
        assert refused.value.extra["field"] == field


def test_unknown_and_foreign_plans_and_versions_are_not_found(repo):
    theirs, _ = catalog.create_plan(repo, B, {"name": "Theirs", "currency": "USD"})
    mine, _ = catalog.create_plan(repo, A, {"name": "Mine", "currency": "USD"})
    for call in (
        lambda: catalog.get_plan(repo, A, theirs.plan_id),
        lambda: catalog.get_plan_version(repo, A, theirs.plan_id, 1),
        lambda: catalog.create_plan_version(repo, A, theirs.plan_id),
        lambda: catalog.publish_plan_version(repo, A, theirs.plan_id, 1),
        lambda: catalog.archive_plan_version(repo, A, theirs.plan_id, 1),
        lambda: catalog.replace_draft(repo, A, theirs.plan_id, 1, {}),
        lambda: catalog.update_plan(repo, A, theirs.plan_id, {"name": "x"}),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.detail == f"Plan not found: {theirs.plan_id}"
    with pytest.raises(NotFound) as no_version:
        catalog.get_plan_version(repo, A, mine.plan_id, 7)
    assert no_version.value.detail == f"Plan version not found: {mine.plan_id} version 7"


def test_version_content_round_trips_through_its_json(repo, meter_id):
    from tollgate.domain.catalog import parse_content

    _, version = catalog.create_plan(repo, A, plan_data(meter_id))
    assert parse_content(version.content.to_json(), "USD") == version.content
