"""The asyncio client: ``await client.ingest(...)`` queues, a task in the running loop sends.

Use one AsyncClient per event loop. ``ingest()`` returns an awaitable: a call that is never awaited queues
nothing, and the SDK says so (a ``RuntimeWarning`` naming the event). At interpreter exit, events still
queued (for example after ``asyncio.run()`` returned without ``await client.close()``) are sent on a
plain HTTP connection for at most ``exit_flush_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import time
import warnings
from collections.abc import Generator
from datetime import datetime
from decimal import Decimal
from typing import Any, Unpack

import httpx

from tollgate_sdk import _lifecycle
from tollgate_sdk._delivery import Ledger, Options, Settings, deliver_async, deliver_sync
from tollgate_sdk._events import MAX_BATCH_EVENTS, Event, build_event
from tollgate_sdk.errors import TollgateError


class IngestCall:
    """What ``AsyncClient.ingest()`` returns: await it to queue the event (it evaluates to the event id)."""

    __slots__ = ("_awaited", "_client", "_event")

    def __init__(self, client: AsyncClient, event: Event):
        self._client, self._event, self._awaited = client, event, False

    def __await__(self) -> Generator[Any, None, str]:
        self._awaited = True
        return self._client._enqueue(self._event).__await__()

    def __del__(self) -> None:
        if not self._awaited:
            message = (
                f"AsyncClient.ingest() was called without await, so event {self._event['event_id']} "
                f"({self._event['event_name']}) was NOT queued. Write `await client.ingest(...)`; from "
                "synchronous code use tollgate_sdk.Client, whose ingest() needs no await."
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)


class AsyncClient:
    """Send usage events from asyncio code. Same options and semantics as :class:`tollgate_sdk.Client`."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        tenant_id: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[Options],
    ):
        self.settings = Settings.build(api_url, api_key, tenant_id, options)
        self._transport = transport
        self._ledger = Ledger(self.settings)
        self._queue: collections.deque[Event] = collections.deque()
        self._fresh_state()
        _lifecycle.track(self)

    def _fresh_state(self) -> None:
        self._queued_total = 0
        self._settled_total = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._progress: asyncio.Event | None = None
        self._http: httpx.AsyncClient | None = None
        self._pid = os.getpid()

    def ingest(
        self,
        event_name: str,
        external_customer_id: str | None = None,
        quantity: int | float | Decimal | None = 1,
        properties: dict[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        event_id: str | None = None,
    ) -> IngestCall:
        """``await client.ingest(...)``: queue one event, return its ``event_id``. A bad event raises
        :class:`~tollgate_sdk.errors.InvalidEvent` at once, awaited or not."""
        event = build_event(
            event_name=event_name,
            external_customer_id=external_customer_id,
            quantity=quantity,
            properties=properties,
            timestamp=timestamp,
            event_id=event_id,
        )
        return IngestCall(self, event)

    async def _enqueue(self, event: Event) -> str:
        if self._closed:
            raise TollgateError("This client is closed: create a new AsyncClient to send more events.")
        self._bind_loop()
        limit = self.settings.max_queue_size
        if len(self._queue) >= limit and self.settings.backpressure == "block":
            end = time.monotonic() + self.settings.block_timeout
            while len(self._queue) >= limit and time.monotonic() < end:
                self._signal()
                await asyncio.sleep(0.005)
        if len(self._queue) >= limit:
            self._ledger.dropped(event, f"queue full ({limit} events; backpressure='{self.settings.backpressure}')")
            return str(event["event_id"])
        self._queue.append(event)
        self._queued_total += 1
        if len(self._queue) >= self.settings.flush_at:
            self._signal()
        return str(event["event_id"])

    def _bind_loop(self) -> None:
        """Tie the worker task to the running loop (again, if the previous loop is gone)."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._worker is not None and not self._worker.done():
            return
        self._loop = loop
        self._wake, self._progress = asyncio.Event(), asyncio.Event()
        self._http = httpx.AsyncClient(timeout=self.settings.timeout, transport=self._transport)
        self._worker = loop.create_task(self._run(), name="tollgate-sdk-flush")

    def _signal(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far and wait for it. False if ``timeout`` seconds passed first."""
        target = self._queued_total
        if self._settled_total >= target:
            return True
        self._bind_loop()
        try:
            async with asyncio.timeout(timeout):
                while self._settled_total < target:
                    assert self._progress is not None
                    self._progress.clear()
                    self._signal()
                    await self._progress.wait()
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float | None = None) -> bool:
        """Flush, stop the task and close the connections. Returns whether everything was sent."""
        done = await self.flush(timeout)
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._http is not None:
            await self._http.aclose()
        _lifecycle.untrack(self)
        return done

    def stats(self) -> dict[str, int]:
        """Same counters as ``Client.stats()``."""
        return self._ledger.snapshot(len(self._queue))

    @property
    def captured_events(self) -> list[Event]:
        return list(self._ledger.captured)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self) -> None:
        assert self._wake is not None and self._progress is not None and self._http is not None
        wake, progress, http = self._wake, self._progress, self._http
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.flush_interval):
                    await wake.wait()
            wake.clear()
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH_EVENTS))]
                try:
                    await deliver_async(http, self.settings, self._ledger, batch)
                except Exception as exc:
                    self._ledger.failed(batch, exc)
                self._settled_total += len(batch)
                progress.set()

    def _after_fork_in_child(self) -> None:
        self._queue.clear()
        self._fresh_state()
        self._ledger.reset()

    def _at_exit(self) -> None:
        """The loop is gone: send what is left over a plain connection, within the exit bound."""
        if self._closed or self._pid != os.getpid() or not self._queue:
            return
        batch = list(self._queue)
        self._queue.clear()
        deadline = time.monotonic() + self.settings.exit_flush_timeout
        with httpx.Client(timeout=min(self.settings.timeout, self.settings.exit_flush_timeout)) as http:
            deliver_sync(http, self.settings, self._ledger, batch, deadline=deadline)
        self._settled_total += len(batch)
