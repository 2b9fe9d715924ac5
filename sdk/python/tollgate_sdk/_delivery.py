"""What both clients share: their settings, their counters and callbacks, and delivering a list of events
(split into batches within the API's limits, each sent with retries)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import httpx

from tollgate_sdk import _transport as t
from tollgate_sdk._events import Event, pack

log = logging.getLogger("tollgate_sdk")

Backpressure = Literal["drop", "block"]


class Options(TypedDict, total=False):
    """The options both clients take as keywords (``Client(api_url, api_key, tenant_id, **options)``).

    ``flush_at`` (100) events or ``flush_interval`` (5.0 s) send a batch; ``max_queue_size`` (10,000) bounds
    the queue, then ``backpressure`` ``"drop"`` (``on_drop`` is told) or ``"block"`` (up to
    ``block_timeout``, 1.0 s); ``max_retries`` (5) with full-jitter backoff from ``backoff_base`` (0.5 s)
    up to ``backoff_max`` (30 s), honouring ``Retry-After``; ``timeout`` (10 s) per request; ``gzip``
    bodies; ``send=False`` keeps events in memory (tests); ``exit_flush_timeout`` (5 s) bounds the flush at
    interpreter exit; ``on_rejected(event, code, detail)``, ``on_error(events, error)``, ``on_drop(event,
    reason)`` callbacks."""

    flush_at: int
    flush_interval: float
    max_queue_size: int
    backpressure: Backpressure
    block_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    timeout: float
    gzip: bool
    send: bool
    exit_flush_timeout: float
    on_rejected: t.OnRejected | None
    on_error: t.OnError | None
    on_drop: t.OnDrop | None


_RETRY_OPTIONS = ("max_retries", "backoff_base", "backoff_max")


@dataclass
class Settings:
    api_url: str
    api_key: str
    tenant_id: str | None = None
    flush_at: int = 100
    flush_interval: float = 5.0
    max_queue_size: int = 10_000
    backpressure: Backpressure = "drop"
    block_timeout: float = 1.0
    timeout: float = 10.0
    gzip: bool = False
    send: bool = True
    exit_flush_timeout: float = 5.0
    retry: t.RetryPolicy = field(default_factory=t.RetryPolicy)
    on_rejected: t.OnRejected | None = None
    on_error: t.OnError | None = None
    on_drop: t.OnDrop | None = None

    @classmethod
    def build(cls, api_url: str, api_key: str, tenant_id: str | None, options: Options) -> Settings:
        """The settings of a client from its constructor's arguments (an unknown option is a TypeError)."""
        given: dict[str, Any] = dict(options)
        unknown = sorted(set(given) - set(Options.__annotations__))
        if unknown:
            known = ", ".join(Options.__annotations__)
            raise TypeError(f"unknown option(s) {', '.join(unknown)}; the options are: {known}")
        retry = t.RetryPolicy(**{k: given.pop(k) for k in _RETRY_OPTIONS if k in given})
        return cls(api_url=api_url, api_key=api_key, tenant_id=tenant_id, retry=retry, **given)

    def __post_init__(self) -> None:
        if not self.api_url or not self.api_key:
            raise ValueError("api_url and api_key are required, e.g. Client(api_url='https://…', api_key='sk_live_…').")
        if self.backpressure not in ("drop", "block"):
            raise ValueError("backpressure must be 'drop' or 'block'.")
        if not 1 <= self.flush_at <= 1000:
            raise ValueError("flush_at must be between 1 and 1000 (the API's batch limit).")
        if self.flush_interval <= 0 or self.max_queue_size < 1:
            raise ValueError("flush_interval must be positive and max_queue_size at least 1.")
        self.api_url = self.api_url.rstrip("/")

    @property
    def ingest_url(self) -> str:
        return self.api_url + t.INGEST_PATH

    def headers(self) -> dict[str, str]:
        return t.headers(self.api_key, self.tenant_id, self.gzip)


class Ledger:
    """The counters behind ``stats()`` and the calls to the user's callbacks (a callback that raises is
    logged, never allowed to stop delivery)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.counts = {"sent": 0, "duplicates": 0, "retried": 0, "rejected": 0, "dropped": 0, "failed": 0}
        self.requests = 0
        self.captured: list[Event] = []  # send=False: what would have been sent

    def reset(self) -> None:
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(self.counts, 0)
        self.requests = 0
        self.captured = []

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, value in deltas.items():
                self.counts[name] += value

    def snapshot(self, queued: int) -> dict[str, int]:
        with self._lock:
            return {"queued": queued, **self.counts, "requests": self.requests}

    def dropped(self, event: Event, reason: str) -> None:
        self.add(dropped=1)
        callback = self.settings.on_drop
        if callback is None:
            total = self.counts["dropped"]
            if total == 1 or total % 1000 == 0:  # a full queue drops many: say so, without a line per event
                log.warning("tollgate: %d events dropped so far (latest %s): %s", total, event.get("event_id"), reason)
            return
        self._call(callback, event, reason)

    def settled(self, part: list[Event], body: dict[str, Any]) -> None:
        rejected = body.get("rejected") or []
        self.add(
            sent=int(body.get("accepted", 0)) + int(body.get("duplicates", 0)),
            duplicates=int(body.get("duplicates", 0)),
            rejected=len(rejected),
        )
        for r in rejected:
            index = r.get("index") if isinstance(r, dict) else None
            event = part[index] if isinstance(index, int) and 0 <= index < len(part) else {}
            code, detail = str(r.get("code", "")), str(r.get("detail", ""))
            if self.settings.on_rejected is None:
                log.warning("tollgate: event %s rejected: %s: %s", event.get("event_id"), code, detail)
            else:
                self._call(self.settings.on_rejected, event, code, detail)

    def failed(self, part: list[Event], error: Exception) -> None:
        self.add(failed=len(part))
        if self.settings.on_error is None:
            log.error("tollgate: %d events not delivered: %s", len(part), error)
        else:
            self._call(self.settings.on_error, error, part)

    @staticmethod
    def _call(callback: Any, *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("tollgate: a callback raised (ignored)")


def _batches(events: list[Event]) -> Iterator[tuple[list[Event], bytes]]:
    while events:
        raw, n = pack(events)
        yield events[:n], raw
        events = events[n:]


def _captured(ledger: Ledger, part: list[Event]) -> None:
    ledger.captured.extend(part)
    ledger.settled(part, {"accepted": len(part)})


def deliver_sync(
    http: httpx.Client, settings: Settings, ledger: Ledger, events: list[Event], deadline: float | None = None
) -> None:
    """Send ``events`` with retries; every event ends sent, rejected or failed (reported to the ledger)."""
    for part, raw in _batches(events):
        if not settings.send:
            _captured(ledger, part)
            continue
        body, attempt = t.body_for(raw, settings.gzip), 0
        while True:
            try:
                ledger.requests += 1
                outcome = t.judge(http.post(settings.ingest_url, content=body, headers=settings.headers()))
            except t.RETRYABLE_NETWORK_ERRORS as exc:
                outcome = t.network_failure(exc)
            if not outcome.retry or attempt >= settings.retry.max_retries:
                break
            delay = settings.retry.delay(attempt, outcome.retry_after)
            if deadline is not None and time.monotonic() + delay > deadline:
                break
            attempt += 1
            ledger.add(retried=1)
            time.sleep(delay)
        _finish(ledger, part, outcome)


async def deliver_async(
    http: httpx.AsyncClient, settings: Settings, ledger: Ledger, events: list[Event], deadline: float | None = None
) -> None:
    for part, raw in _batches(events):
        if not settings.send:
            _captured(ledger, part)
            continue
        body, attempt = t.body_for(raw, settings.gzip), 0
        while True:
            try:
                ledger.requests += 1
                outcome = t.judge(await http.post(settings.ingest_url, content=body, headers=settings.headers()))
            except t.RETRYABLE_NETWORK_ERRORS as exc:
                outcome = t.network_failure(exc)
            if not outcome.retry or attempt >= settings.retry.max_retries:
                break
            delay = settings.retry.delay(attempt, outcome.retry_after)
            if deadline is not None and time.monotonic() + delay > deadline:
                break
            attempt += 1
            ledger.add(retried=1)
            await asyncio.sleep(delay)
        _finish(ledger, part, outcome)


def _finish(ledger: Ledger, part: list[Event], outcome: t.Outcome) -> None:
    if outcome.result is not None:
        ledger.settled(part, outcome.result)
    else:
        ledger.failed(part, outcome.error or RuntimeError("delivery failed"))
