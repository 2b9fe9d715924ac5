"""The Python SDK against the local stack: what a user of ``Client`` and ``AsyncClient`` can rely on.

Every delivery test ends with the usage query (GET /v1/usage): the count the customer is billed for."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from tollgate_sdk import AsyncClient, Client, EventTooLarge, InvalidEvent, flush_on_return

from tests.sdk.conftest import SDK_PATH
from tests.sdk.faults import FaultProxy

pytestmark = pytest.mark.e2e


def sdk_client(t, url: str | None = None, **options) -> Client:
    return Client(api_url=url or t.server.url, api_key=t.owner_key, tenant_id=t.tenant_id, **options)


def test_250_events_from_a_thread_pool_arrive_exactly_once(t):
    client = sdk_client(t)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: client.ingest(t.event_name, t.ext), range(250)))
    assert len(set(ids)) == 250, "every event has its own id from the moment it is queued"
    assert client.flush(timeout=30)
    assert client.stats() | {"requests": 0} == {
        "queued": 0,
        "sent": 250,
        "duplicates": 0,
        "retried": 0,
        "rejected": 0,
        "dropped": 0,
        "failed": 0,
        "requests": 0,
    }
    assert client.stats()["requests"] <= 5, "batched: at most a few requests for 250 events"
    t.wait_usage(t.ext, t.event_name, 250, timeout=15)
    client.close()


def test_250_events_from_the_async_client_inside_a_running_loop_arrive_exactly_once(t):
    async def app() -> dict:
        async with AsyncClient(api_url=t.server.url, api_key=t.owner_key, tenant_id=t.tenant_id) as client:
            await asyncio.gather(*(client.ingest(t.event_name, t.ext) for _ in range(250)))
            assert await client.flush(timeout=30)
            return client.stats()

    stats = asyncio.run(app())
    assert stats["sent"] == 250 and stats["failed"] == stats["rejected"] == 0
    t.wait_usage(t.ext, t.event_name, 250, timeout=15)


def test_the_sync_client_works_inside_a_running_loop_without_a_runtime_error(t):
    client = sdk_client(t, flush_at=10)

    async def handler() -> None:  # e.g. a FastAPI route calling the sync client
        for _ in range(10):
            client.ingest(t.event_name, t.ext)

    asyncio.run(handler())
    assert client.close(timeout=30)
    t.wait_usage(t.ext, t.event_name, 10, timeout=15)


def test_a_429_with_retry_after_2_is_retried_after_2_seconds_and_counts_once(t):
    proxy = FaultProxy(t.server.url, ["429"])
    try:
        client = sdk_client(t, url=proxy.url, backoff_base=0.01)
        for _ in range(20):
            client.ingest(t.event_name, t.ext)
        assert client.flush(timeout=30)
    finally:
        proxy.close()
    (first_at, first_body, first), (second_at, second_body, second) = proxy.posts
    assert (first, second) == ("429", "forward")
    assert second_at - first_at >= 2.0, "Retry-After: 2 is honoured"
    assert first_body == second_body, "the retry resends the same events with the same ids"
    assert client.stats()["retried"] == 1 and client.stats()["sent"] == 20
    t.wait_usage(t.ext, t.event_name, 20, timeout=15)


def test_a_connection_killed_mid_batch_is_retried_and_counts_once(t):
    proxy = FaultProxy(t.server.url, ["kill"])
    try:
        client = sdk_client(t, url=proxy.url, backoff_base=0.05)
        for _ in range(50):
            client.ingest(t.event_name, t.ext)
        assert client.flush(timeout=30)
    finally:
        proxy.close()
    assert [action for _, _, action in proxy.posts] == ["kill", "forward"]
    stats = client.stats()
    assert stats["retried"] == 1 and stats["sent"] == 50 and stats["duplicates"] == 50, (
        "the server had stored the first attempt: the retry's events are duplicates"
    )
    t.wait_usage(t.ext, t.event_name, 50, timeout=15)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_sends_its_own_events_and_not_its_parents(t):
    client = sdk_client(t, flush_at=1000, flush_interval=60)
    for _ in range(7):
        client.ingest(t.event_name, t.ext)  # queued, not yet sent, when the process forks
    pid = os.fork()
    if pid == 0:  # the child: its own thread and connection, an empty queue
        code = 1
        try:
            for _ in range(5):
                client.ingest(t.event_name, t.ext)
            if client.flush(timeout=20) and client.stats()["sent"] == 5:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child sent exactly its 5 events"
    assert client.flush(timeout=20) and client.stats()["sent"] == 7
    t.wait_usage(t.ext, t.event_name, 12, timeout=15)


def test_a_customer_key_sends_for_its_customer_and_rejections_reach_on_rejected(t):
    key = t.key(kind="customer", customer_id=t.c["id"], name="sdk")
    rejected: list[tuple[str, str, str]] = []
    client = Client(  # no tenant_id: a customer key names its tenant itself
        api_url=t.server.url,
        api_key=key,
        on_rejected=lambda e, code, d: rejected.append((e["event_id"], code, d)),
    )
    client.ingest(t.event_name)  # a customer key may leave the customer out
    bad = client.ingest("no.such.meter", t.ext)
    assert client.flush(timeout=20)
    assert [(i, code) for i, code, _ in rejected] == [(bad, "METER_NOT_FOUND")] and rejected[0][2]
    assert client.stats()["sent"] == 1 and client.stats()["rejected"] == 1
    t.wait_usage(t.ext, t.event_name, 1, timeout=15)


def test_a_4xx_is_not_retried_and_reaches_on_error(t):
    errors = []
    client = Client(
        api_url=t.server.url, api_key="sk_test_" + "x" * 40, on_error=lambda exc, events: errors.append((exc, events))
    )
    client.ingest(t.event_name, t.ext)
    assert client.flush(timeout=20)
    [(error, events)] = errors
    assert error.status == 401 and len(events) == 1
    assert client.stats()["requests"] == 1 and client.stats()["retried"] == 0 and client.stats()["failed"] == 1


def test_events_the_api_would_refuse_for_their_shape_fail_at_ingest_with_a_clear_error():
    client = Client(api_url="http://127.0.0.1:9", api_key="k", send=False)
    with pytest.raises(EventTooLarge, match="16384"):
        client.ingest("api.call", "acme", properties={"blob": "x" * 17_000})
    with pytest.raises(InvalidEvent, match="quantity must be a number"):
        client.ingest("api.call", "acme", quantity=cast(Any, "2"))  # what an untyped caller might pass
    with pytest.raises(InvalidEvent, match="event_name"):
        client.ingest("", "acme")
    assert client.stats()["queued"] == 0


def test_both_clients_take_the_same_options_and_name_an_unknown_one():
    for cls in (Client, AsyncClient):
        client = cls(api_url="http://127.0.0.1:9/", api_key="k", send=False, flush_at=7, max_retries=2)
        assert (client.settings.flush_at, client.settings.retry.max_retries) == (7, 2)
        assert client.settings.api_url == "http://127.0.0.1:9"
        with pytest.raises(TypeError, match=r"flush_every.*the options are: flush_at"):
            cls(api_url="http://127.0.0.1:9", api_key="k", **cast(Any, {"flush_every": 5}))
        with pytest.raises(ValueError, match="flush_at must be between 1 and 1000"):
            cls(api_url="http://127.0.0.1:9", api_key="k", flush_at=5000)


def test_a_full_queue_drops_with_on_drop_or_blocks_for_the_timeout():
    drops = []
    client = Client(
        api_url="http://127.0.0.1:9",
        api_key="k",
        send=False,
        flush_at=1000,
        flush_interval=60,
        max_queue_size=5,
        on_drop=lambda e, reason: drops.append(reason),
    )
    for _ in range(7):
        client.ingest("api.call", "acme")
    assert len(drops) == 2 and "queue full" in drops[0]
    assert client.stats()["dropped"] == 2 and client.stats()["queued"] == 5

    blocking = Client(
        api_url="http://127.0.0.1:9",
        api_key="k",
        send=False,
        flush_at=1000,
        flush_interval=60,
        max_queue_size=1,
        backpressure="block",
        block_timeout=0.2,
    )
    blocking.ingest("api.call", "acme")
    started = time.monotonic()
    blocking.ingest("api.call", "acme")
    assert time.monotonic() - started >= 0.2 and blocking.stats()["dropped"] == 1


def test_send_false_and_sync_mode_for_tests(t):
    client = Client(api_url="http://127.0.0.1:9", api_key="k", send=False)
    event_id = client.ingest("api.call", "acme", quantity=3, properties={"model": "m"}, event_id="e-1")
    assert client.flush(timeout=5) and event_id == "e-1"
    [captured] = client.captured_events
    assert captured["quantity"] == 3 and captured["properties"] == {"model": "m"}

    sync = sdk_client(t, sync_mode=True)
    sync.ingest(t.event_name, t.ext)
    assert sync.stats()["sent"] == 1 and sync.stats()["queued"] == 0, "sent before ingest() returned"
    t.wait_usage(t.ext, t.event_name, 1, timeout=15)


def test_the_lambda_decorator_flushes_before_the_handler_returns(t):
    client = sdk_client(t, flush_interval=60)

    @flush_on_return(client)
    def handler(event, context):
        client.ingest(t.event_name, event["customer"])
        return {"statusCode": 200}

    assert handler({"customer": t.ext}, None) == {"statusCode": 200}
    assert client.stats()["sent"] == 1 and client.stats()["queued"] == 0
    t.wait_usage(t.ext, t.event_name, 1, timeout=15)


def test_a_script_that_exits_without_flush_still_sends_within_the_exit_bound(t):
    script = textwrap.dedent(
        f"""
        import sys; sys.path.insert(0, {str(SDK_PATH)!r})
        from tollgate_sdk import Client
        client = Client(api_url={t.server.url!r}, api_key={t.owner_key!r}, tenant_id={t.tenant_id!r}, flush_interval=60)
        for _ in range(30):
            client.ingest({t.event_name!r}, {t.ext!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    t.wait_usage(t.ext, t.event_name, 30, timeout=15)


def test_an_async_script_that_ends_without_close_still_sends_at_exit(t):
    script = textwrap.dedent(
        f"""
        import asyncio, sys; sys.path.insert(0, {str(SDK_PATH)!r})
        from tollgate_sdk import AsyncClient
        client = AsyncClient(api_url={t.server.url!r}, api_key={t.owner_key!r}, tenant_id={t.tenant_id!r},
                             flush_interval=60)
        async def main():
            for _ in range(12):
                await client.ingest({t.event_name!r}, {t.ext!r})
        asyncio.run(main())  # the loop is gone before anything was sent
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    t.wait_usage(t.ext, t.event_name, 12, timeout=15)


def test_the_async_client_explains_an_ingest_that_was_not_awaited():
    async def forgetful() -> None:
        client = AsyncClient(api_url="http://127.0.0.1:9", api_key="k", send=False)
        client.ingest("api.call", "acme")  # no await
        assert client.stats()["queued"] == 0

    with pytest.warns(RuntimeWarning, match=r"without await, so event .* was NOT queued"):
        asyncio.run(forgetful())
        import gc

        gc.collect()


def test_gzip_bodies_are_accepted_by_the_api_and_count_once(t):
    """`gzip=True` sends `Content-Encoding: gzip`; the API decodes it at its edge (issue 17)."""
    client = sdk_client(t, gzip=True)
    for i in range(120):
        client.ingest(t.event_name, t.ext, properties={"path": f"/v1/widgets/{i}", "pad": "x" * 200})
    assert client.flush(timeout=30)
    stats = client.stats()
    assert (stats["sent"], stats["rejected"], stats["failed"]) == (120, 0, 0), stats
    t.wait_usage(t.ext, t.event_name, 120, timeout=15)
    client.close()


def test_gzip_is_opt_in_and_sends_a_gzip_body():
    import gzip

    import httpx

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers.get("content-encoding"), request.content))
        return httpx.Response(202, json={"accepted": 1, "duplicates": 0, "rejected": [], "warnings": []})

    for use_gzip in (False, True):
        client = Client(api_url="http://stub", api_key="k", gzip=use_gzip, transport=httpx.MockTransport(handler))
        client.ingest("api.call", "acme")
        assert client.flush(timeout=5)
    (plain_enc, plain), (gz_enc, gz) = seen
    assert plain_enc is None and gz_enc == "gzip"
    assert json.loads(gzip.decompress(gz))["events"][0]["event_name"] == "api.call"
    assert json.loads(plain)["events"][0]["event_name"] == "api.call"
