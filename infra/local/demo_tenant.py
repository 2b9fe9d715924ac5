"""The "Demo" tenant ``make run`` creates next to the empty one (issue 18): real data everywhere at once.

Built through the public API (the local gateway, in-process), exactly as a user would: a product, meters
of several aggregations (COUNT, SUM, UNIQUE_COUNT, MAX), a free plan and a paid plan with graduated usage
prices, entitlements and a 14-day trial, customers with payment methods (one card that declines), live
subscriptions started three weeks ago (one still in its trial) and seven days of hourly usage. The event
debugger, the usage query and the upcoming invoices show data at once; after ``POST /local/clock/advance``
bill runs, invoices, dunning (the declining card) do too.

``GATEWAY_POLICY_HOOKS``: callables ``(demo: DemoTenant, call) -> None`` run last, for the gateway
enforcement to put a policy on the demo tenant (``call(method, path, body)`` is the demo's API client).
Set ``TOLLGATE_DEMO=0`` to skip the demo tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tollgate.domain.clock import to_rfc3339, utcnow

if TYPE_CHECKING:
    from infra.local.http import LocalApiGateway
    from infra.local.stack import LocalStack

Call = Callable[..., Any]  # call(method, path, body=None) -> the JSON answer
GATEWAY_POLICY_HOOKS: list[Callable[[DemoTenant, Call], None]] = []

DAYS_OF_USAGE = 7
EVERY_HOURS = 4  # one batch of usage per customer every 4 hours: enough to see, quick to aggregate
STARTED_DAYS_AGO = 21
# external id, plan, payment method, api.calls events per batch
CUSTOMERS = (
    ("demo-acme", "pro", "pm_card_visa", 3),
    ("demo-globex", "pro", "pm_card_chargeDeclined", 2),  # its invoices go to dunning
    ("demo-initech", "pro-trial", "pm_card_visa", 1),  # still in its trial
    ("demo-hooli", "free", None, 1),
)


@dataclass
class DemoTenant:
    tenant_id: str
    operator_key: str
    meters: dict[str, str] = field(default_factory=dict)  # event name -> meter id
    plans: dict[str, str] = field(default_factory=dict)  # "free" | "pro" -> plan id
    customers: dict[str, str] = field(default_factory=dict)  # external id -> customer id
    subscriptions: dict[str, str] = field(default_factory=dict)  # external id -> subscription id
    events_sent: int = 0


def create_demo_tenant(stack: LocalStack, gateway: LocalApiGateway) -> DemoTenant:
    boot = stack.bootstrap_tenant("Demo")
    demo = DemoTenant(boot.tenant_id, boot.operator_key)
    call = _client(gateway, demo)
    product = call("POST", "/v1/products", {"name": "Demo API", "description": "The demo tenant's API product"})
    _meters(call, demo)
    _plans(call, demo, product["id"])
    _customers(call, demo)
    _usage(call, demo)
    for hook in GATEWAY_POLICY_HOOKS:
        hook(demo, call)
    return demo


def _client(gateway: LocalApiGateway, demo: DemoTenant) -> Call:
    headers = {
        "Authorization": f"Bearer {demo.operator_key}",
        "X-Tenant-Id": demo.tenant_id,
        "Content-Type": "application/json",
    }

    def call(method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        response = gateway.handle(method, path, "", dict(headers), data)
        status = int(response.get("statusCode", 500))
        if status >= 300:
            raise RuntimeError(f"demo tenant: {method} {path} answered {status}: {response.get('body')}")
        return json.loads(response["body"]) if response.get("body") else {}

    return call


def _meters(call: Call, demo: DemoTenant) -> None:
    for name, aggregation in (
        ("api.calls", {"function": "COUNT"}),
        ("tokens", {"function": "SUM", "field": "properties.tokens"}),
        ("active.users", {"function": "UNIQUE_COUNT", "field": "properties.user_id"}),
        ("storage.gb", {"function": "MAX", "field": "properties.gb"}),
    ):
        demo.meters[name] = call("POST", "/v1/meters", {"event_name": name, "aggregation": aggregation})["id"]


def _plans(call: Call, demo: DemoTenant, product_id: str) -> None:
    m = demo.meters
    graduated = {
        "model": "graduated",
        "currency": "USD",
        "tiers": [
            {"up_to": 1000, "unit_amount": "0.00"},
            {"up_to": 10000, "unit_amount": "0.01"},
            {"up_to": None, "unit_amount": "0.005"},
        ],
    }
    per_thousand = {"model": "package", "currency": "USD", "package_size": 1000, "package_amount": "0.20"}
    pro = {
        "name": "Pro",
        "currency": "USD",
        "product_id": product_id,
        "fees": [{"name": "Platform fee", "amount": "49.00", "timing": "in_advance"}],
        "usage_prices": [
            {"meter_id": m["api.calls"], "price": graduated},
            {"meter_id": m["tokens"], "price": per_thousand},
        ],
        "entitlements": [{"meter_id": m["api.calls"], "limit": "100000", "hard": False}],
    }
    free = {
        "name": "Free",
        "currency": "USD",
        "product_id": product_id,
        "fees": [],
        "entitlements": [{"meter_id": m["api.calls"], "limit": "1000", "hard": True}],
    }
    for key, body in (
        ("pro", pro),
        ("pro-trial", {**pro, "name": "Pro (14-day trial)", "trial_days": 14}),
        ("free", free),
    ):
        plan = call("POST", "/v1/plans", body)
        call("POST", f"/v1/plans/{plan['id']}/versions/1/publish")
        demo.plans[key] = plan["id"]


def _customers(call: Call, demo: DemoTenant) -> None:
    started = to_rfc3339(utcnow() - timedelta(days=STARTED_DAYS_AGO))
    for external_id, plan, method, _ in CUSTOMERS:
        body = {
            "external_id": external_id,
            "name": external_id.split("-")[1].title(),
            "email": f"billing@{external_id}.example",
        }
        customer = call("POST", "/v1/customers", body)
        demo.customers[external_id] = customer["id"]
        if method:
            call("PUT", f"/v1/customers/{customer['id']}/payment-method", {"payment_method": method})
        start = to_rfc3339(utcnow() - timedelta(days=3)) if plan == "pro-trial" else started
        sub = call(
            "POST", "/v1/subscriptions", {"customer_id": customer["id"], "plan_id": demo.plans[plan], "start_at": start}
        )
        demo.subscriptions[external_id] = sub["id"]


def _usage(call: Call, demo: DemoTenant) -> None:
    """Seven days of usage per customer, with event_ids (a resend of the demo counts nothing twice)."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    events: list[dict[str, Any]] = []
    for n, (external_id, _, _, per_hour) in enumerate(CUSTOMERS):
        for hour in range(0, DAYS_OF_USAGE * 24, EVERY_HOURS):
            at = to_rfc3339(now - timedelta(hours=hour, minutes=-n))
            for i in range(per_hour):
                events.append(
                    _event(f"{external_id}-{hour}-{i}", "api.calls", external_id, at, {"user_id": f"u{i + hour % 5}"})
                )
            events.append(
                _event(f"{external_id}-{hour}-t", "tokens", external_id, at, {"tokens": 150 * per_hour + hour})
            )
            if hour % 24 == 0:
                events.append(
                    _event(f"{external_id}-{hour}-u", "active.users", external_id, at, {"user_id": f"user-{hour % 7}"})
                )
                events.append(_event(f"{external_id}-{hour}-s", "storage.gb", external_id, at, {"gb": 2 + n}))
    for i in range(0, len(events), 1000):
        answer = call("POST", "/v1/ingest/events", {"events": events[i : i + 1000]})
        demo.events_sent += answer["accepted"] + answer["duplicates"]


def _event(event_id: str, name: str, customer: str, at: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_name": name,
        "external_customer_id": customer,
        "timestamp": at,
        "properties": properties,
    }
