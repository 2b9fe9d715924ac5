"""In-memory fakes of the billing ports (same contracts as the DynamoDB and SES adapters), and of the
customer and subscription repositories the billing use cases read."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from tests.fakes.paging import fake_page
from tollgate.domain.bill_runs import DONE, BillRun, BillRunStatus, SubscriptionResult, closing_status
from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.delivery import InvoiceDelivery
from tollgate.domain.billing.errors import UsageDataUnavailable
from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import TaxAmount, TaxRequest, TaxResult
from tollgate.domain.billing.usage import UsageAggregate, UsageWindow
from tollgate.domain.billing.wallets import Wallet
from tollgate.domain.catalog.meters import AggregationFunction, Meter
from tollgate.domain.customers import Customer
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import round_money
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import Subscription, Transition
from tollgate.ports import BillRunRepository
from tollgate.ports.billing import (
    BillingSettingsRepository,
    BillingWrite,
    CreditNoteRepository,
    InvoiceRepository,
    Mailer,
    MailRejected,
    UsageReader,
    WalletRepository,
)


class InMemoryCustomers:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Customer] = {}

    def create(self, customer: Customer, events: list[DomainEvent]) -> None:
        self.items[(customer.tenant_id, customer.customer_id)] = customer

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        return self.items.get((tenant_id, customer_id))


class InMemorySubscriptions:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Subscription] = {}
        self.transitions: dict[tuple[str, str], list[Transition]] = defaultdict(list)

    def put(self, sub: Subscription, history: list[Transition] | None = None) -> Subscription:
        self.items[(sub.tenant_id, sub.subscription_id)] = sub
        self.transitions[(sub.tenant_id, sub.subscription_id)].extend(history or [])
        return sub

    def get(self, tenant_id: str, subscription_id: str) -> Subscription | None:
        return self.items.get((tenant_id, subscription_id))

    def save(
        self, sub: Subscription, *, expected_version: int, events, history, revoke_keys_reason=None
    ) -> Subscription:
        stored = self.get(sub.tenant_id, sub.subscription_id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate("subscription changed meanwhile")
        return self.put(sub, history)

    def get_many(self, tenant_id: str, subscription_ids: list[str]) -> dict[str, Subscription]:
        return {i: s for i in subscription_ids if (s := self.get(tenant_id, i)) is not None}

    def history(self, tenant_id: str, subscription_id: str) -> list[Transition]:
        return list(self.transitions[(tenant_id, subscription_id)])


class InMemoryBilling:
    """Invoices, credit notes, wallets, settings and deliveries; ``commit`` checks every condition
    first and then writes everything (all or nothing), like a DynamoDB transaction."""

    def __init__(self, subscriptions: InMemorySubscriptions) -> None:
        self.subscriptions = subscriptions
        self.invoices: dict[tuple[str, str], Invoice] = {}
        self.notes: dict[tuple[str, str], CreditNote] = {}
        self.wallets: dict[tuple[str, str], Wallet] = {}
        self.settings: dict[str, BillingSettings] = {}
        self.deliveries: dict[tuple[str, str], InvoiceDelivery] = {}
        self.events: list[DomainEvent] = []
        self.commits = 0
        self.fail_next_commit = 0  # simulate lost races
        self._lock = threading.Lock()

    # -- invoices -----------------------------------------------------------------------------------
    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        return self.invoices.get((tenant_id, invoice_id))

    def list_invoices(
        self, tenant_id, *, customer_id=None, subscription_id=None, status=None, limit=100
    ) -> list[Invoice]:
        found = [
            i
            for (t, _), i in self.invoices.items()
            if t == tenant_id
            and (customer_id is None or i.customer_id == customer_id)
            and (subscription_id is None or i.subscription_id == subscription_id)
            and (status is None or i.status is status)
        ]
        return sorted(found, key=lambda i: (i.period_start, i.invoice_id), reverse=True)[:limit]

    def page_invoices(
        self, tenant_id, *, customer_id=None, subscription_id=None, status=None, limit: int, cursor=None
    ) -> Page[Invoice]:
        found = self.list_invoices(
            tenant_id, customer_id=customer_id, subscription_id=subscription_id, status=status, limit=10**9
        )
        ordered = found if customer_id else sorted(found, key=lambda i: i.invoice_id)
        return fake_page(ordered, lambda i: i.invoice_id, limit=limit, cursor=cursor)

    @staticmethod
    def _check(stored, expected: int | None, what: str) -> None:
        if expected is None and stored is not None:
            raise ConcurrentUpdate(f"{what} already exists.")
        if expected is not None and (stored is None or stored.revision != expected):
            raise ConcurrentUpdate(f"{what} changed meanwhile.")

    def commit(self, write: BillingWrite) -> None:
        # The DynamoDB adapter writes all of it in one TransactWriteItems, which takes at most 100 items.
        items = (
            (write.invoice is not None)
            + len(write.credit_notes)
            + (write.wallet is not None)
            + (write.charges is not None)
            + len(write.events)
        )
        if items > 100:
            raise AssertionError(f"a transaction of {items} items: DynamoDB refuses more than 100")
        with self._lock:
            if self.fail_next_commit:
                self.fail_next_commit -= 1
                raise ConcurrentUpdate("simulated lost race")
            inv = write.invoice
            if inv is not None:
                self._check(
                    self.invoices.get((inv.tenant_id, inv.invoice_id)),
                    write.invoice_expected_revision,
                    f"Invoice {inv.invoice_id}",
                )
            for note, expected in write.credit_notes:
                self._check(
                    self.notes.get((note.tenant_id, note.credit_note_id)),
                    expected,
                    f"Credit note {note.credit_note_id}",
                )
            if write.wallet is not None:
                wallet, expected = write.wallet
                self._check(
                    self.wallets.get((wallet.tenant_id, wallet.wallet_id)), expected, f"Wallet {wallet.wallet_id}"
                )
            if write.charges is not None:
                sub = self.subscriptions.get(write.charges.tenant_id, write.charges.subscription_id)
                if sub is None or sub.version != write.charges.expected_version:
                    raise ConcurrentUpdate("subscription changed meanwhile")
            # every condition holds: write it all
            if inv is not None:
                self.invoices[(inv.tenant_id, inv.invoice_id)] = inv
            for note, _ in write.credit_notes:
                self.notes[(note.tenant_id, note.credit_note_id)] = note
            if write.wallet is not None:
                self.wallets[(write.wallet[0].tenant_id, write.wallet[0].wallet_id)] = write.wallet[0]
            if write.charges is not None:
                c = write.charges
                sub = self.subscriptions.items[(c.tenant_id, c.subscription_id)]  # checked above
                changed = replace(sub, pending_charges=c.remaining, version=sub.version + 1)
                if c.billed_through is not None:
                    changed = replace(changed, billed_through=c.billed_through)
                if c.discount_used:
                    from tollgate.domain.billing.discounts import Discount

                    changed = replace(
                        changed, discount=Discount.from_json(c.discount_after) if c.discount_after else None
                    )
                self.subscriptions.items[(c.tenant_id, c.subscription_id)] = changed
            self.events.extend(write.events)
            self.commits += 1

    def get_delivery(self, tenant_id: str, invoice_id: str) -> InvoiceDelivery | None:
        return self.deliveries.get((tenant_id, invoice_id))

    def save_delivery(self, delivery: InvoiceDelivery, events: list[DomainEvent]) -> None:
        self.deliveries[(delivery.tenant_id, delivery.invoice_id)] = delivery
        self.events.extend(events)

    # -- credit notes -------------------------------------------------------------------------------
    def get_credit_note(self, tenant_id: str, credit_note_id: str) -> CreditNote | None:
        return self.notes.get((tenant_id, credit_note_id))

    def list_credit_notes(self, tenant_id: str, *, customer_id=None, invoice_id=None) -> list[CreditNote]:
        return sorted(
            (
                n
                for (t, _), n in self.notes.items()
                if t == tenant_id
                and (customer_id is None or n.customer_id == customer_id)
                and (invoice_id is None or n.invoice_id == invoice_id)
            ),
            key=lambda n: (n.created_at, n.credit_note_id),
        )

    def available_credit_notes(self, tenant_id: str, customer_id: str, currency: str) -> list[CreditNote]:
        return [
            n
            for n in self.list_credit_notes(tenant_id, customer_id=customer_id)
            if n.currency == currency and n.balance > 0
        ]

    # -- wallets ------------------------------------------------------------------------------------
    def get_wallet(self, tenant_id: str, wallet_id: str) -> Wallet | None:
        return self.wallets.get((tenant_id, wallet_id))

    def find_wallet(self, tenant_id: str, customer_id: str, currency: str) -> Wallet | None:
        return next(
            (
                w
                for (t, _), w in self.wallets.items()
                if t == tenant_id and w.customer_id == customer_id and w.currency == currency
            ),
            None,
        )

    def list_wallets(self, tenant_id: str, *, customer_id=None) -> list[Wallet]:
        return [
            w
            for (t, _), w in self.wallets.items()
            if t == tenant_id and (customer_id is None or w.customer_id == customer_id)
        ]

    def save_wallet(self, wallet: Wallet, expected_revision: int | None, events: list[DomainEvent]) -> None:
        self.commit(BillingWrite(wallet=(wallet, expected_revision), events=events))

    # -- settings -----------------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> BillingSettings:
        return self.settings.get(tenant_id) or BillingSettings(tenant_id)

    def save_settings(self, settings: BillingSettings, expected_revision: int, events: list[DomainEvent]) -> None:
        if self.get_settings(settings.tenant_id).revision != expected_revision:
            raise ConcurrentUpdate("settings changed meanwhile")
        self.settings[settings.tenant_id] = settings
        self.events.extend(events)

    # -- helpers for tests --------------------------------------------------------------------------
    def events_of(self, type_: str) -> list[DomainEvent]:
        return [e for e in self.events if e.type == type_]


@dataclass
class RecordedEvent:
    customer_id: str
    meter_id: str
    at: datetime
    quantity: Decimal


class InMemoryUsageReader:
    """Raw events per (tenant, customer, meter); COUNT counts, SUM/other functions sum (MAX takes the
    max). Windows are one per UTC day that has events. ``fail`` makes every read raise."""

    def __init__(self) -> None:
        self.events: list[tuple[str, RecordedEvent]] = []
        self.fail: Exception | None = None
        self.reads: list[tuple[str, str, datetime, datetime]] = []

    def record(
        self, tenant_id: str, customer_id: str, meter_id: str, at: datetime, quantity: Decimal | str | int = 1
    ) -> None:
        self.events.append((tenant_id, RecordedEvent(customer_id, meter_id, at, Decimal(str(quantity)))))

    def aggregate(
        self, tenant_id: str, customer_id: str, meter: Meter, start: datetime, end: datetime
    ) -> UsageAggregate:
        self.reads.append((customer_id, meter.meter_id, start, end))
        if self.fail is not None:
            raise self.fail
        chosen = [
            e
            for t, e in self.events
            if t == tenant_id and e.customer_id == customer_id and e.meter_id == meter.meter_id and start <= e.at < end
        ]
        count = meter.aggregation.function is AggregationFunction.COUNT
        days: dict[datetime, list[RecordedEvent]] = defaultdict(list)
        for e in chosen:
            days[e.at.replace(hour=0, minute=0, second=0, microsecond=0)].append(e)
        windows = [
            UsageWindow(
                max(day, start),
                min(day + timedelta(days=1), end),
                len(evs),
                Decimal(len(evs)) if count else sum((e.quantity for e in evs), Decimal(0)),
            )
            for day, evs in sorted(days.items())
        ]
        if meter.aggregation.function is AggregationFunction.MAX:
            quantity = max((e.quantity for e in chosen), default=Decimal(0))
        else:
            quantity = sum((w.quantity for w in windows), Decimal(0))
        return UsageAggregate(quantity, windows)


class UnavailableUsageReader(InMemoryUsageReader):
    def __init__(self) -> None:
        super().__init__()
        self.fail = UsageDataUnavailable("usage table throttled")


class SlowTaxProvider:
    """An external tax engine that answers after ``delay`` seconds (10% exclusive)."""

    def __init__(self, delay: float, name: str = "slow-engine") -> None:
        self.delay = delay
        self.name = name
        self.calls: list[TaxRequest] = []

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        self.calls.append(request)
        time.sleep(self.delay)
        amount = round_money(request.taxable_amount * Decimal("0.10"), request.currency)
        return TaxResult((TaxAmount("Engine tax", Decimal(10), amount),), inclusive=False, provider=self.name)


class HungTaxProvider:
    """An external tax engine whose first ``hang`` calls never answer until ``release`` is set; later
    calls answer at once (10% exclusive)."""

    def __init__(self, hang: int, name: str = "hung-engine") -> None:
        self.hang, self.name = hang, name
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        with self._lock:
            self.calls += 1
            hangs = self.calls <= self.hang
        if hangs:
            self.release.wait(timeout=60)
        amount = round_money(request.taxable_amount * Decimal("0.10"), request.currency)
        return TaxResult((TaxAmount("Engine tax", Decimal(10), amount),), inclusive=False, provider=self.name)


class FailingTaxProvider:
    name = "broken-engine"

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        raise RuntimeError("HTTP 500 from the tax engine")


class RecordingMailer:
    """Keeps sent mail; ``reject`` makes sends from those senders fail as SES would for an unverified one."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.verified: list[str] = []
        self.reject: set[str] = set()

    def send(self, *, sender: str, to: str, subject: str, text: str) -> str:
        if sender in self.reject:
            raise MailRejected(f"Email address is not verified: {sender}")
        self.sent.append({"sender": sender, "to": to, "subject": subject, "text": text})
        return f"msg-{len(self.sent)}"

    def verify_sender(self, address: str) -> None:
        self.verified.append(address)


def statuses(billing: InMemoryBilling) -> dict[str, InvoiceStatus]:
    return {i.invoice_id: i.status for i in billing.invoices.values()}


class InMemoryBillRuns:
    """Bill runs and their per-subscription results (the BillRunRepository port)."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str], BillRun] = {}
        self.outcomes: dict[tuple[str, str], dict[str, SubscriptionResult]] = defaultdict(dict)

    def open(self, run: BillRun) -> tuple[BillRun, bool]:
        key = (run.tenant_id, run.bill_run_id)
        if key in self.runs:
            return self.runs[key], False
        self.runs[key] = run
        return run, True

    def start_attempt(self, tenant_id: str, bill_run_id: str, execution: str = "") -> BillRun:
        run = self.runs[(tenant_id, bill_run_id)]
        self.runs[(tenant_id, bill_run_id)] = run = replace(
            run, attempts=run.attempts + 1, status=BillRunStatus.RUNNING, execution=execution
        )
        return run

    def get(self, tenant_id: str, bill_run_id: str) -> BillRun | None:
        return self.runs.get((tenant_id, bill_run_id))

    def page_runs(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[BillRun]:
        found = [r for (t, _), r in self.runs.items() if t == tenant_id]
        newest = sorted(found, key=lambda r: (r.created_at, r.bill_run_id), reverse=True)
        return fake_page(newest, lambda r: r.bill_run_id, limit=limit, cursor=cursor)

    def record_results(self, tenant_id: str, bill_run_id: str, results: list[SubscriptionResult]) -> None:
        self.outcomes[(tenant_id, bill_run_id)].update({r.subscription_id: r for r in results})

    def results(self, tenant_id: str, bill_run_id: str) -> list[SubscriptionResult]:
        return list(self.outcomes[(tenant_id, bill_run_id)].values())

    def results_for(self, tenant_id: str, bill_run_id: str, subscription_ids: list[str]) -> list[SubscriptionResult]:
        found = self.outcomes[(tenant_id, bill_run_id)]
        return [found[s] for s in subscription_ids if s in found]

    def unfinished(self, tenant_id: str, bill_run_id: str) -> list[str]:
        return [r.subscription_id for r in self.results(tenant_id, bill_run_id) if r.status not in DONE]

    def close(self, tenant_id: str, bill_run_id: str, at: datetime, error: str | None = None) -> BillRun:
        totals = dict(Counter(r.status.value for r in self.results(tenant_id, bill_run_id)))
        status = BillRunStatus.FAILED if error else closing_status(totals)
        run = replace(self.runs[(tenant_id, bill_run_id)], status=status, closed_at=at, totals=totals, error=error)
        self.runs[(tenant_id, bill_run_id)] = run
        return run


def _typed_against_the_ports(
    billing: InMemoryBilling, usage: InMemoryUsageReader, mailer: RecordingMailer, runs: InMemoryBillRuns
) -> tuple[
    InvoiceRepository,
    CreditNoteRepository,
    WalletRepository,
    BillingSettingsRepository,
    UsageReader,
    Mailer,
    BillRunRepository,
]:
    """Never called: mypy checks here that the fakes keep the ports' contracts (drift fails the type check)."""
    return billing, billing, billing, billing, usage, mailer, runs
