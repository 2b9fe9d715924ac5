"""In-memory fakes of the usage ports (tollgate.ports.usage), keeping the DynamoDB adapters' contracts:
conditional inserts keyed by (tenant, event id); buckets whose additive update is refused when a record
of it was applied already (per event shard watermark), answering the watermarks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.usage.aggregation import Bucket, BucketDelta
from tollgate.domain.usage.distinct import Placement, ValueHistory, merge_changes, month_of
from tollgate.domain.usage.events import StoredEvent
from tollgate.ports.usage import IndexEntry, InsertOutcome, LogEntry, LogQuery, UsageEventStore


class InMemoryUsageEventStore(UsageEventStore):
    """Typed against the port (explicit subclass), so a signature that drifts from it fails mypy."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], StoredEvent] = {}
        self.inserted: list[StoredEvent] = []  # the "stream": INSERTs in order
        self.log: list[LogEntry] = []
        self.index: list[IndexEntry] = []

    def insert(self, events: list[StoredEvent], retention_days: int | None = None) -> list[InsertOutcome]:
        out = []
        for e in events:
            key = (e.tenant_id, e.event_id)
            if key in self.events:
                out.append(InsertOutcome.EXISTS)
            else:
                self.events[key] = e
                self.inserted.append(e)
                out.append(InsertOutcome.INSERTED)
        return out

    def get(self, tenant_id: str, event_ids: list[str]) -> dict[str, StoredEvent]:
        return {i: self.events[(tenant_id, i)] for i in event_ids if (tenant_id, i) in self.events}

    def append_log(self, entries: list[LogEntry], index: list[IndexEntry], retention_days: int | None = None) -> None:
        self.log.extend(entries)
        self.index.extend(index)

    def index_hour(self, tenant_id: str, hour: str, customer_id: str | None, meter_id: str | None) -> list[IndexEntry]:
        return [
            i
            for i in self.index
            if i.tenant_id == tenant_id
            and i.received_at.strftime("%Y-%m-%dT%H") == hour
            and (customer_id is None or i.customer_id == customer_id)
            and (meter_id is None or i.meter_id == meter_id)
        ]

    def log_hour(self, query: LogQuery) -> list[LogEntry]:
        q = query
        return [
            e
            for e in self.log
            if e.tenant_id == q.tenant_id
            and e.received_at.strftime("%Y-%m-%dT%H") == q.hour
            and (not q.statuses or e.status in q.statuses)
            and (q.external_customer_id is None or e.external_customer_id == q.external_customer_id)
        ]


class InMemoryUsageStore:
    """Buckets, and UNIQUE_COUNT's value histories and histograms, with the adapter's conditions
    (``place_values`` refuses a value whose version moved). ``value_reads``/``value_writes`` count the
    items the DynamoDB adapter would read and write; ``before_place`` runs before each placement (tests
    use it to race another writer)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str, str], dict] = {}
        self.writes = 0
        self.histories: dict[tuple[str, str, str, str], tuple[int, dict, dict[str, set[str]]]] = {}
        self.histogram: dict[tuple[str, str, str, str], dict[str, int]] = {}
        self.value_reads = 0
        self.value_writes = 0
        self.histogram_writes = 0
        self.before_place: Callable[[], None] | None = None

    def _item(self, d: BucketDelta) -> dict:
        return self.items.setdefault(
            (d.tenant_id, d.customer_id, d.meter_id, d.hour), {"c": 0, "s": Decimal(0), "w": {}}
        )

    def value_histories(self, tenant_id, customer_id, meter_id, hour, keys) -> dict[str, ValueHistory]:
        self.value_reads += 2 * len(keys)
        out = {}
        for key in keys:
            version, spans, months = self.histories.get((tenant_id, customer_id, meter_id, key), (0, {}, {}))
            out[key] = ValueHistory(version, dict(spans), frozenset(months.get(month_of(hour), set())))
        return out

    def place_values(self, tenant_id, customer_id, meter_id, placements: dict[str, tuple[int, Placement]]) -> None:
        if self.before_place is not None:
            hook, self.before_place = self.before_place, None
            hook()
        for key, (version, _) in placements.items():
            if self.histories.get((tenant_id, customer_id, meter_id, key), (0,))[0] != version:
                raise ConcurrentUpdate(f"value {key} changed")
        for key, (version, p) in placements.items():
            _, _, months = self.histories.get((tenant_id, customer_id, meter_id, key), (0, {}, {}))
            months.setdefault(month_of(p.hour), set()).add(p.hour)
            self.histories[(tenant_id, customer_id, meter_id, key)] = (version + 1, dict(p.spans), months)
        self.value_writes += 2 * len(placements)
        changes = merge_changes(p for _, p in placements.values())
        self.histogram_writes += len(changes)
        for (hour, previous), n in changes.items():
            entry = self.histogram.setdefault((tenant_id, customer_id, meter_id, hour), {})
            entry[previous] = entry.get(previous, 0) + n

    def apply_guarded(self, delta: BucketDelta) -> dict[str, str] | None:
        item = self._item(delta)
        if any(shard in item["w"] and not item["w"][shard] < low for shard, (low, _) in delta.marks.items()):
            return dict(item["w"])
        self.writes += 1
        item["c"] += delta.count
        if delta.function not in (AggregationFunction.COUNT, AggregationFunction.UNIQUE_COUNT):
            item["s"] += delta.total
        for shard, (_, high) in delta.marks.items():
            item["w"][shard] = high
        return None

    def apply_idempotent(self, delta: BucketDelta) -> None:
        item = self._item(delta)
        self.writes += 1
        if delta.function is AggregationFunction.MAX and ("mx" not in item or item["mx"] < delta.maximum):
            item["mx"] = delta.maximum
        latest = delta.latest
        if delta.function is AggregationFunction.LATEST and latest and ("lt" not in item or item["lt"][0] < latest[0]):
            item["lt"] = latest

    def buckets(self, tenant_id, customer_id, meter_id, first_hour, last_hour) -> list[Bucket]:
        out = []
        for t, c, m, hour in sorted({*self.items, *self.histogram}):
            if (t, c, m) == (tenant_id, customer_id, meter_id) and first_hour <= hour <= last_hour:
                i = self.items.get((t, c, m, hour), {"c": 0, "s": Decimal(0)})
                previous = dict(self.histogram.get((t, c, m, hour), {}))
                out.append(Bucket(hour, i["c"], i["s"], i.get("mx"), i.get("lt"), previous))
        return out


class FixedLimiter:
    def __init__(self) -> None:
        self.taken: dict[tuple[str, int], int] = {}

    def take(self, tenant_id, key_id, n, window_start, tenant_limit, key_limit, window_seconds):
        used = self.taken.get((tenant_id, window_start), 0)
        if used + n > tenant_limit:
            return "tenant"
        self.taken[(tenant_id, window_start)] = used + n
        return None


class DictSettings:
    def __init__(self) -> None:
        self.values: dict[str, dict] = {}

    def get(self, tenant_id):
        return dict(self.values.get(tenant_id, {}))

    def put(self, tenant_id, values):
        self.values[tenant_id] = dict(values)


class ListOutbox:
    def __init__(self) -> None:
        self.events: dict[str, object] = {}

    def add(self, events) -> None:
        for e in events:
            self.events.setdefault(e.event_id, e)


class Customers:
    def __init__(self, *customers) -> None:
        self.by_id = {c.customer_id: c for c in customers}

    def get(self, tenant_id, customer_id):
        c = self.by_id.get(customer_id)
        return c if c and c.tenant_id == tenant_id else None

    def get_by_external_id(self, tenant_id, external_id):
        return next((c for c in self.by_id.values() if c.tenant_id == tenant_id and c.external_id == external_id), None)


class Subscriptions:
    def __init__(self, *subs) -> None:
        self.subs = list(subs)

    def get_by_external_id(self, tenant_id, external_id):
        return next((s for s in self.subs if s.tenant_id == tenant_id and s.external_id == external_id), None)

    def list_for_customer(self, tenant_id, customer_id):
        return [s for s in self.subs if s.tenant_id == tenant_id and s.customer_id == customer_id]


def stored(**overrides) -> StoredEvent:
    from datetime import UTC, datetime

    base = dict(
        tenant_id="ten_1",
        event_id="e1",
        customer_id="cus_1",
        external_customer_id="c1",
        meter_id="mtr_1",
        event_name="model.usage",
        function=AggregationFunction.SUM,
        value=Decimal(1),
        timestamp=datetime(2026, 11, 1, 10, tzinfo=UTC),
        quantity=Decimal(1),
        properties_json="{}",
        payload_hash="h",
        status=__import__("tollgate.domain.usage.events", fromlist=["EventStatus"]).EventStatus.ACCEPTED,
        received_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
    )
    return replace(StoredEvent(**base), **overrides) if overrides else StoredEvent(**base)
