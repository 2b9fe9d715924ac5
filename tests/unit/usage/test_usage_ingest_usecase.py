"""The ingestion use case over in-memory fakes: customers (external id, subscription, the customer key's
own), meters, the idempotency outcomes, the rate limit, domain events, single-event answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.fakes.catalog import InMemoryCatalogRepository
from tests.fakes.usage import Customers, DictSettings, FixedLimiter, InMemoryUsageEventStore, ListOutbox, Subscriptions
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.catalog.meters import MeterAction, new_meter
from tollgate.domain.customers import Customer
from tollgate.domain.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge, TooManyRequests
from tollgate.domain.usage.events import EventStatus
from tollgate.ports.usage import IngestSettings
from tollgate.usecases.ingest import IngestDeps, ingest, update_settings

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
T = "ten_1"
OWNER = Caller(tenant_id=T, kind=KeyKind.OPERATOR, key_id="key_owner", role=Role.OWNER)


@pytest.fixture
def deps() -> IngestDeps:
    catalog = InMemoryCatalogRepository()
    catalog.add_meter(
        new_meter(
            meter_id="mtr_1",
            tenant_id=T,
            data={"event_name": "model.usage", "aggregation": {"function": "SUM", "field": "properties.credits"}},
            at=NOW,
        ),
        [],
    )
    customers = Customers(Customer("cus_1", T, "cust_123", NOW), Customer("cus_2", T, "cust_456", NOW))
    subs = Subscriptions(
        SimpleNamespace(tenant_id=T, external_id="sub_ext", customer_id="cus_2", subscription_id="sub_1")
    )
    return IngestDeps(
        events=InMemoryUsageEventStore(),
        customers=customers,
        subscriptions=subs,
        catalog=catalog,
        limiter=FixedLimiter(),
        settings=DictSettings(),
        outbox=ListOutbox(),
        defaults=IngestSettings(1000, 1000, 90),
    )


def send(deps, events, *, caller=OWNER, single=False, at=NOW, request_id="r1"):
    return ingest(deps, caller, events, single=single, received_at=at, request_id=request_id)


def ev(event_id="e1", credits=2, customer="cust_123", **extra):
    return {
        "event_id": event_id,
        "event_name": "model.usage",
        "external_customer_id": customer,
        "properties": {"credits": credits},
        **extra,
    }


def test_accepted_duplicate_and_conflict(deps):
    r = send(deps, [ev("e1"), ev("e2", Decimal("0.5"))])
    assert (r.accepted, r.duplicates, r.rejected) == (2, 0, [])
    stored = deps.events.events[(T, "e2")]
    assert stored.value == Decimal("0.5") and stored.customer_id == "cus_1" and stored.status is EventStatus.ACCEPTED
    r = send(deps, [ev("e1"), ev("e2", 9)], at=NOW + timedelta(seconds=5), request_id="r2")
    assert (r.accepted, r.duplicates, [x.code.value for x in r.rejected]) == (0, 1, ["IDEMPOTENCY_CONFLICT"])
    assert len(deps.events.inserted) == 2
    assert [e.status for e in deps.events.log] == ["DUPLICATE", "REJECTED"]


def test_a_retried_call_that_stored_the_event_reports_it_accepted(deps):
    """The insert ran but its answer was lost; the retry of the call finds the event with this request's
    own receipt time and the same payload: it is this request's, accepted (not a duplicate)."""
    send(deps, [ev("e1")], at=NOW)
    deps.events.inserted.clear()
    r = send(deps, [ev("e1")], at=NOW)  # the same request (same received_at) retried internally
    assert (r.accepted, r.duplicates) == (1, 0) and deps.events.inserted == []


def test_customers_by_external_id_subscription_or_the_customer_key(deps):
    r = send(
        deps,
        [
            ev("a", customer="nobody"),
            {
                "event_id": "b",
                "event_name": "model.usage",
                "external_subscription_id": "sub_ext",
                "properties": {"credits": 1},
            },
            ev("c", customer=None),
        ],
    )
    assert [x.code.value for x in r.rejected] == ["CUSTOMER_NOT_FOUND", "MISSING_CUSTOMER"]
    assert deps.events.events[(T, "b")].customer_id == "cus_2"
    key = Caller(tenant_id=T, kind=KeyKind.CUSTOMER, key_id="key_c", customer_id="cus_1")
    r = send(
        deps,
        [
            ev("d", customer=None),
            ev("e"),
            ev("f", customer="cust_456"),
            {**ev("g", customer=None), "external_subscription_id": "sub_ext"},
        ],
        caller=key,
    )
    assert r.accepted == 2 and [x.code.value for x in r.rejected] == ["CUSTOMER_NOT_ALLOWED", "CUSTOMER_NOT_ALLOWED"]
    with pytest.raises(Forbidden):
        send(deps, [ev("h", customer="cust_456")], caller=key, single=True)


def test_meter_not_found_with_did_you_mean_and_archived(deps):
    r = send(deps, [ev("a") | {"event_name": "Model.Usage"}])
    assert r.rejected[0].code.value == "METER_NOT_FOUND" and "Did you mean 'model.usage'" in r.rejected[0].detail
    meter = deps.catalog.get_meter(T, "mtr_1")
    archived = meter.apply(MeterAction.ARCHIVE, NOW)
    deps.catalog.save_meter(replace(archived, revision=meter.revision + 1), meter, [])
    r = send(deps, [ev("b")])
    assert r.rejected[0].code.value == "METER_ARCHIVED"


def test_single_events_answer_with_a_status_when_the_request_itself_is_wrong(deps):
    with pytest.raises(BadRequest) as raised:
        send(deps, [ev(timestamp="2026-01-01T00:00:00Z")], single=True)
    assert raised.value.code == "TIMESTAMP_TOO_OLD"
    send(deps, [ev("x")])
    with pytest.raises(Conflict):
        send(deps, [ev("x", 5)], single=True)
    r = send(deps, [ev("y") | {"event_name": "nope"}], single=True)  # a setup problem: 202 with the rejection
    assert r.rejected[0].code.value == "METER_NOT_FOUND"
    assert any(e.code == "TIMESTAMP_TOO_OLD" for e in deps.events.log)  # logged before answering 400


def test_batch_size_and_rate_limits(deps):
    with pytest.raises(PayloadTooLarge):
        send(deps, [ev(f"e{i}") for i in range(1001)])
    update_settings(deps, T, {"rate_limit_per_second": 10})
    send(deps, [ev(f"a{i}") for i in range(6)])
    with pytest.raises(TooManyRequests) as raised:
        send(deps, [ev(f"b{i}") for i in range(6)])
    assert raised.value.retry_after == 1
    send(deps, [ev(f"b{i}") for i in range(6)], at=NOW + timedelta(seconds=1))  # the next window
    with pytest.raises(TooManyRequests):
        send(deps, [ev(f"c{i}") for i in range(11)], at=NOW + timedelta(seconds=2))


def test_domain_events_once_per_stored_batch_and_per_rejecting_request(deps):
    batch = [ev("e1"), ev("e2"), ev("bad", customer="nobody")]
    send(deps, batch, request_id="r1")
    send(deps, batch, at=NOW + timedelta(seconds=3), request_id="r2")  # a retry after a timeout
    kinds = sorted(e.type for e in deps.outbox.events.values())
    assert kinds == ["usage.batch_accepted", "usage.events_rejected", "usage.events_rejected"]
    accepted = next(e for e in deps.outbox.events.values() if e.type == "usage.batch_accepted")
    assert accepted.data["events"] == 2 and accepted.occurred_at == NOW


def test_the_index_lists_stored_events_and_late_ones_apart(deps):
    send(deps, [ev("on-time"), ev("late", timestamp=(NOW - timedelta(hours=30)).isoformat())])
    (entry,) = deps.events.index
    assert entry.accepted == {"on-time"} and entry.late == {"late"}


# -- issue 13: every event judged before anything is written -------------------------------------------


def _storable(*texts) -> bool:
    try:
        for text in texts:
            (text or "").encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_lone_surrogates_reject_their_events_only_and_a_resend_works(deps):
    bad = {5: "event_id", 11: "external_customer_id", 17: "event_name", 23: "key", 29: "value"}
    batch = []
    for n in range(30):
        e = ev(f"e{n}")
        where = bad.get(n)
        if where == "key":
            e["properties"] = {"credits": 1, "\udc00x": 1}
        elif where == "value":
            e["properties"] = {"credits": 1, "note": "\udc00x"}
        elif where:
            e[where] = "\udc00x"
        batch.append(e)
    r = send(deps, batch)
    assert (r.accepted, [(x.index, x.code.value) for x in r.rejected]) == (25, [(n, "INVALID_EVENT") for n in bad])
    assert len(deps.events.inserted) == 25
    for line in deps.events.log:  # what the event log stores can be stored
        assert _storable(line.detail, line.payload, line.event_id, line.external_customer_id, line.event_name)
    again = send(deps, batch, at=NOW + timedelta(seconds=5), request_id="r2")
    assert (again.accepted, again.duplicates, len(again.rejected)) == (0, 25, 5)
    assert len(deps.events.inserted) == 25


def test_an_oversized_distinct_value_is_rejected(deps):
    deps.catalog.add_meter(
        new_meter(
            meter_id="mtr_u",
            tenant_id=T,
            data={"event_name": "users", "aggregation": {"function": "UNIQUE_COUNT", "field": "properties.user"}},
            at=NOW,
        ),
        [],
    )
    events = [
        {"event_id": f"u{n}", "event_name": "users", "external_customer_id": "cust_123", "properties": {"user": user}}
        for n, user in enumerate(["a" * 256, "a" * 257, "é" * 129, Decimal("1E+300")])
    ]
    r = send(deps, events)
    assert r.accepted == 1
    assert [(x.index, x.code.value) for x in r.rejected] == [(n, "AGGREGATION_FIELD_INVALID") for n in (1, 2, 3)]


@pytest.mark.parametrize("value", [True, False, 0, 3651, "5", Decimal("5"), 10**30])
def test_settings_are_whole_numbers_in_range_and_booleans_are_not_numbers(deps, value):
    from tollgate.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        update_settings(deps, T, {"retention_days": value})
    assert error.value.extra["field"] == "retention_days"
    assert deps.settings.get(T) == {}


def test_business_metrics_count_accepted_duplicate_and_rejected_events_by_code(deps, monkeypatch):
    recorded: list[tuple[str, float, dict]] = []
    monkeypatch.setattr(
        "tollgate.usecases.ingest.count", lambda name, value=1, **dims: recorded.append((name, value, dims))
    )
    send(deps, [ev("e1"), ev("e2"), ev("e3", customer="nobody"), ev("e4", "two")])
    send(deps, [ev("e1")], at=NOW + timedelta(seconds=1), request_id="r2")
    assert recorded == [
        ("EventsAccepted", 2, {}),
        ("EventsRejected", 1, {"code": "AGGREGATION_FIELD_NOT_NUMERIC"}),
        ("EventsRejected", 1, {"code": "CUSTOMER_NOT_FOUND"}),
        ("EventsDuplicate", 1, {}),
    ]
