"""The customers, subscriptions and meters an ingestion request names: each looked up once per request,
and the customer an event is for (its external id, its subscription's customer, or the customer key's own)."""

from __future__ import annotations

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.catalog.meters import Meter, MeterStatus
from tollgate.domain.customers import Customer
from tollgate.domain.subscriptions import Subscription
from tollgate.domain.usage.events import Code, IncomingEvent, Rejection
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository


class RequestLookups:
    """The customers, subscriptions and meters one request names, each looked up once."""

    def __init__(
        self,
        customers: CustomerRepository,
        subscriptions: SubscriptionRepository,
        catalog: CatalogRepository,
        caller: Caller,
    ) -> None:
        self.customers, self.subscriptions, self.catalog, self.caller = customers, subscriptions, catalog, caller
        self._customers: dict[str, Customer | None] = {}
        self._subscriptions: dict[str, Subscription | None] = {}
        self._meters: dict[str, tuple[Meter | None, list[Meter]]] = {}
        self._own: tuple[Customer | None] | None = None

    def own_customer(self) -> Customer | None:
        if self._own is None:
            self._own = (self.customers.get(self.caller.tenant_id, self.caller.customer_id or ""),)
        return self._own[0]

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        if external_id not in self._customers:
            self._customers[external_id] = self.customers.get_by_external_id(self.caller.tenant_id, external_id)
        return self._customers[external_id]

    def customer_by_id(self, customer_id: str) -> Customer | None:
        key = "\x00" + customer_id
        if key not in self._customers:
            self._customers[key] = self.customers.get(self.caller.tenant_id, customer_id)
        return self._customers[key]

    def subscription(self, external_id: str) -> Subscription | None:
        if external_id not in self._subscriptions:
            self._subscriptions[external_id] = self.subscriptions.get_by_external_id(self.caller.tenant_id, external_id)
        return self._subscriptions[external_id]

    def meter(self, event_name: str) -> tuple[Meter | None, list[Meter]]:
        if event_name not in self._meters:
            meter = self.catalog.find_meter_by_event_name(self.caller.tenant_id, event_name)
            similar: list[Meter] = []
            if meter is None or meter.status is not MeterStatus.ACTIVE:
                similar = [
                    m
                    for m in self.catalog.find_meters_by_event_name_ignoring_case(self.caller.tenant_id, event_name)
                    if m.status is MeterStatus.ACTIVE
                ]
            self._meters[event_name] = (meter, similar)
        return self._meters[event_name]

    def customer_of(self, event: IncomingEvent) -> Customer | Rejection:
        def reject(code: Code, detail: str) -> Rejection:
            return Rejection(
                event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
            )

        via_subscription = None
        if event.external_subscription_id:
            sub = self.subscription(event.external_subscription_id)
            if sub is None:
                return reject(
                    Code.CUSTOMER_NOT_FOUND,
                    f"No subscription has external_subscription_id {event.external_subscription_id!r}: set it on the "
                    "subscription (external_id) or send external_customer_id.",
                )
            via_subscription = self.customer_by_id(sub.customer_id)
        if self.caller.kind is KeyKind.CUSTOMER:
            own = self.own_customer()
            if own is None:
                return reject(
                    Code.CUSTOMER_NOT_FOUND,
                    f"The customer of this API key ({self.caller.customer_id}) does not exist any more; create a key "
                    "for an existing customer.",
                )
            named = event.external_customer_id
            if (named is not None and named != own.external_id) or (
                via_subscription is not None and via_subscription.customer_id != own.customer_id
            ):
                return reject(
                    Code.CUSTOMER_NOT_ALLOWED,
                    f"This customer API key sends usage for customer {own.external_id!r} only; the event names "
                    f"{named or event.external_subscription_id!r}. Use that customer's key, or an operator key "
                    "with usage:ingest.",
                )
            return own
        if event.external_customer_id is None:
            if via_subscription is not None:
                return via_subscription
            return reject(
                Code.MISSING_CUSTOMER,
                "external_customer_id is required (your id of the customer; seed payloads call it customerId). "
                "Only a customer API key may leave it out.",
            )
        customer = self.customer_by_external_id(event.external_customer_id)
        if customer is None:
            return reject(
                Code.CUSTOMER_NOT_FOUND,
                f"No customer has external_customer_id {event.external_customer_id!r}. Create the customer first "
                "(POST /v1/customers) or send the external_id of an existing one.",
            )
        if via_subscription is not None and via_subscription.customer_id != customer.customer_id:
            return reject(
                Code.INVALID_EVENT,
                f"Subscription {event.external_subscription_id!r} belongs to another customer than "
                f"{event.external_customer_id!r}; send one of them, or matching ones.",
            )
        return customer
