"""The thread-based client: ``ingest()`` queues and returns; a background thread sends.

``ingest()`` never touches asyncio, so it is safe from plain scripts, from web frameworks' worker threads
and from inside a running event loop (it only takes a lock for a moment). A batch leaves when
``flush_at`` events are queued or ``flush_interval`` seconds have passed; ``flush()`` sends what is
queued now and waits for it; ``close()`` flushes and stops. At interpreter exit, clients still open are
flushed for at most ``exit_flush_timeout`` seconds. After ``os.fork()`` the child starts with an empty
queue and its own thread and connections (the parent still sends what it had queued).
"""

from __future__ import annotations

import collections
import os
import threading
import time
from datetime import datetime
from decimal import Decimal
from typing import Any, Unpack

import httpx

from tollgate_sdk import _events, _lifecycle
from tollgate_sdk._delivery import Ledger, Options, Settings, deliver_sync, log
from tollgate_sdk._events import Event, build_event
from tollgate_sdk.errors import TollgateError


class Client:
    """Send usage events to Tollgate from any Python code.

    >>> client = Client(api_url="https://api.example.com", api_key="sk_live_…")
    >>> client.ingest(event_name="tokens.used", external_customer_id="acme", quantity=120)
    >>> client.flush()   # before a short-lived process exits
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        tenant_id: str | None = None,
        *,
        sync_mode: bool = False,
        transport: httpx.BaseTransport | None = None,
        **options: Unpack[Options],
    ):
        self.settings = Settings.build(api_url, api_key, tenant_id, options)
        self.sync_mode = sync_mode
        self._transport = transport
        self._ledger = Ledger(self.settings)
        self._fresh_state()
        _lifecycle.track(self)

    def _fresh_state(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[Event] = collections.deque()
        self._queued_total = 0  # events ever queued
        self._settled_total = 0  # of those, sent, rejected or failed
        self._flush_requested = False
        self._closed = False
        self._worker: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._pid = os.getpid()

    # -- the caller's side ------------------------------------------------------------------------------
    def ingest(
        self,
        event_name: str,
        external_customer_id: str | None = None,
        quantity: int | float | Decimal | None = 1,
        properties: dict[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue one usage event and return its ``event_id`` (given, or made now: retries reuse it).

        Raises :class:`~tollgate_sdk.errors.InvalidEvent` (``EventTooLarge`` for properties over 16 KB)
        for an event the API would refuse for its shape."""
        event = build_event(
            event_name=event_name,
            external_customer_id=external_customer_id,
            quantity=quantity,
            properties=properties,
            timestamp=timestamp,
            event_id=event_id,
        )
        if self._closed:
            raise TollgateError("This client is closed: create a new Client to send more events.")
        if self.sync_mode:
            deliver_sync(self._client(), self.settings, self._ledger, [event])
            return str(event["event_id"])
        dropped = None
        with self._cond:
            if len(self._queue) >= self.settings.max_queue_size:
                dropped = self._wait_for_space()
            if dropped is None:
                self._queue.append(event)
                self._queued_total += 1
                if self._worker is None:
                    self._start_worker()
                if len(self._queue) >= self.settings.flush_at:
                    self._cond.notify_all()
        if dropped is not None:
            self._ledger.dropped(event, dropped)
        return str(event["event_id"])

    def _wait_for_space(self) -> str | None:
        """With the lock held and the queue full: the reason to drop, or None once there is room."""
        limit = self.settings.max_queue_size
        if self.settings.backpressure == "drop":
            return f"queue full ({limit} events): the API is slower than the events come (backpressure='drop')"
        end = time.monotonic() + self.settings.block_timeout
        while len(self._queue) >= limit:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return f"queue still full ({limit} events) after blocking {self.settings.block_timeout} s"
            self._cond.notify_all()
            self._cond.wait(remaining)
        return None

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far and wait until it is sent (or rejected, or failed). Returns False
        if ``timeout`` seconds passed first. Call it before a short-lived process exits."""
        if self.sync_mode:
            return True
        if self._worker is not None and threading.current_thread() is self._worker:
            raise TollgateError("flush() was called from a callback on the client's own thread: it would wait forever.")
        with self._cond:
            target = self._queued_total
            if self._settled_total >= target:
                return True
            self._flush_requested = True
            if self._worker is None:
                self._start_worker()
            self._cond.notify_all()
            end = None if timeout is None else time.monotonic() + timeout
            while self._settled_total < target:
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush, stop the thread and release the connections. Returns whether everything was sent."""
        if self._closed:
            return True
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker is not None and threading.current_thread() is not self._worker:
            self._worker.join(timeout=0 if not done else 1.0)
        if self._http is not None and done:
            self._http.close()
        _lifecycle.untrack(self)
        return done

    def stats(self) -> dict[str, int]:
        """Counters since the client was made: queued (now), sent (accepted + duplicates), duplicates,
        retried (requests sent again), rejected, dropped, failed, requests."""
        return self._ledger.snapshot(len(self._queue))

    @property
    def captured_events(self) -> list[Event]:
        """With ``send=False``: the events that would have been sent, in order."""
        return list(self._ledger.captured)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the background thread --------------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.settings.timeout, transport=self._transport)
        return self._http

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="tollgate-sdk-flush", daemon=True)
        self._worker.start()

    def _next_batch(self) -> list[Event] | None:
        """Wait (lock held) for a reason to send; the batch to send, or None when closed and empty."""
        deadline = time.monotonic() + self.settings.flush_interval
        while not self._closed and not self._flush_requested and len(self._queue) < self.settings.flush_at:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        if not self._queue:
            self._flush_requested = False
            return None if self._closed else []
        n = min(len(self._queue), _events.MAX_BATCH_EVENTS)
        batch = [self._queue.popleft() for _ in range(n)]
        self._cond.notify_all()  # room for producers blocked on a full queue
        return batch

    def _run(self) -> None:
        http = self._client()
        while True:
            with self._cond:
                batch = self._next_batch()
            if batch is None:
                return
            if not batch:
                continue
            try:
                deliver_sync(http, self.settings, self._ledger, batch)
            except Exception as exc:  # a bug must not lose the thread: report the batch as failed
                self._ledger.failed(batch, exc)
            with self._cond:
                self._settled_total += len(batch)
                self._cond.notify_all()

    def _after_fork_in_child(self) -> None:
        # The parent sends what it had queued; the child starts empty, with its own lock, thread and
        # connections (the parent's sockets must not be shared, nor a lock another thread held).
        self._fresh_state()
        self._ledger.reset()

    def _at_exit(self) -> None:
        if self._closed or self._pid != os.getpid():
            return
        pending = self._queued_total - self._settled_total
        if pending and not self.close(timeout=self.settings.exit_flush_timeout):
            log.warning(
                "tollgate: %d events were still unsent at exit after %.1f s; call client.flush() before exiting.",
                self._queued_total - self._settled_total,
                self.settings.exit_flush_timeout,
            )
