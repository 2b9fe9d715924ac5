"""Code written for Stripe Billing's meter events, with only the API base changed, meters usage in Tollgate:
the real ``stripe`` client (v1 ``MeterEvent.create`` and the v2 meter event session + stream) against the
local stack, answered in Stripe's shapes and error shapes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from tests.e2e.ingest_kit import unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def meter(t):
    return t.meter(event_name=unique("stripe.tokens"), function="SUM", field="quantity")


@pytest.fixture
def global_stripe(t):
    """stripe's module-level configuration, as Stripe's docs show it, restored afterwards (v1 is
    form-encoded: ``tollgate.api.entry`` lets form bodies through on the Stripe-compatible routes only)."""
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = t.owner_key, f"{t.server.url}/compat/stripe"
    yield stripe
    stripe.api_key, stripe.api_base = saved


def test_v1_meter_events_from_the_stripe_client_show_in_usage_and_a_resend_counts_once(t, meter, global_stripe):
    sent = stripe.billing.MeterEvent.create(
        event_name=meter["event_name"],
        payload={"stripe_customer_id": t.ext, "value": "25"},
        identifier="inv-line-1",
        timestamp=int(time.time()) - 60,
    )
    assert (sent.object, sent.identifier, sent.event_name) == ("billing.meter_event", "inv-line-1", meter["event_name"])
    assert sent.payload.to_dict() == {"stripe_customer_id": t.ext, "value": "25"}
    again = stripe.billing.MeterEvent.create(
        event_name=meter["event_name"],
        payload={"stripe_customer_id": t.ext, "value": "25"},
        identifier="inv-line-1",
        timestamp=sent.timestamp,
    )
    assert again.identifier == "inv-line-1"
    stripe.billing.MeterEvent.create(
        event_name=meter["event_name"], payload={"stripe_customer_id": t.ext, "value": "5"}
    )
    t.wait_usage(t.ext, meter["event_name"], 30, timeout=15)


def test_v1_errors_come_back_as_the_stripe_clients_own_exceptions(t, meter, global_stripe):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.billing.MeterEvent.create(
            event_name="no.such.meter", payload={"stripe_customer_id": t.ext, "value": "1"}
        )
    assert unknown.value.code == "meter_not_found" and unknown.value.param == "event_name"
    assert unknown.value.http_status == 400 and "no.such.meter" in str(unknown.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as customer:
        stripe.billing.MeterEvent.create(
            event_name=meter["event_name"], payload={"stripe_customer_id": "cus_nobody", "value": "1"}
        )
    assert customer.value.code == "customer_not_found" and customer.value.param == "payload[stripe_customer_id]"
    with pytest.raises(stripe.InvalidRequestError) as value:
        stripe.billing.MeterEvent.create(
            event_name=meter["event_name"], payload={"stripe_customer_id": t.ext, "value": "x"}
        )
    assert value.value.param == "payload[value]"


def test_v1_with_a_customer_key_sends_for_its_own_customer(t, meter, global_stripe):
    stripe.api_key = t.key(kind="customer", customer_id=t.c["id"], name="stripe")
    stripe.billing.MeterEvent.create(
        event_name=meter["event_name"], payload={"stripe_customer_id": t.ext, "value": "4"}
    )
    t.wait_usage(t.ext, meter["event_name"], 4, timeout=15)


def test_v2_meter_event_session_and_stream_from_the_stripe_client_show_in_usage(t, meter):
    base = f"{t.server.url}/compat/stripe"
    client = stripe.StripeClient(t.owner_key, base_addresses={"api": base, "meter_events": base})
    session = client.v2.billing.meter_event_session.create()
    assert session.object == "v2.billing.meter_event_session" and session.authentication_token
    stream = stripe.StripeClient(session.authentication_token, base_addresses={"api": base, "meter_events": base})
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    stream.v2.billing.meter_event_stream.create(
        {
            "events": [
                {
                    "event_name": meter["event_name"],
                    "identifier": f"v2-{i}",
                    "payload": {"stripe_customer_id": t.ext, "value": str(i + 1)},
                    "timestamp": at,
                }
                for i in range(10)
            ]
        }
    )
    t.wait_usage(t.ext, meter["event_name"], 55, timeout=15)
    with pytest.raises(stripe.InvalidRequestError):
        stream.v2.billing.meter_event_stream.create(
            {"events": [{"event_name": "no.such.meter", "payload": {"stripe_customer_id": t.ext, "value": "1"}}]}
        )
