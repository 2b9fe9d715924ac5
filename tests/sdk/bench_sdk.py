"""Benchmarks of the Python SDK (issue 17), as sections for ``tests/bench.py`` (``SECTIONS``) or on their own:
``python -m tests.sdk.bench_sdk``.

- The SDK's cost per ``ingest()`` in the caller's thread (goal p50 <= 5 us) and its memory with a full
  queue (10,000 events queued while the sender is stuck).
- ``BENCH_SDK_EVENTS`` (default 10,000) events sent to the local stack by the Tollgate SDK, by the official
  ``openmeter`` client and by ``lago-python-client`` (from ``.venv-lago/``, when it exists), each used as
  its README shows (one event per call): HTTP requests and wall time, as ratios to the Tollgate SDK.
  Requests are counted by a forwarding proxy on 127.0.0.1 in front of the stack (the same for all three).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk" / "python"))

from tollgate_sdk import Client  # noqa: E402

EVENTS = int(os.environ.get("BENCH_SDK_EVENTS", "10000"))
LAGO_VENV = Path(os.environ.get("TOLLGATE_LAGO_VENV", REPO / ".venv-lago"))


def sdk_ingest_cost() -> tuple[str, dict[str, float]]:
    import httpx

    client = Client(api_url="http://127.0.0.1:9", api_key="k", send=False, max_queue_size=1_000_000, flush_at=1000)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(100_000):
        started = clock()
        client.ingest("api.call", "acme", 1)
        samples.append(clock() - started)
    client.close()
    samples.sort()
    p50, p99 = samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000

    stuck = threading.Event()

    def never_answers(request: httpx.Request) -> httpx.Response:
        stuck.wait(30)
        return httpx.Response(202, json={"accepted": 0})

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    full = Client(
        api_url="http://stub",
        api_key="k",
        max_queue_size=10_000,
        transport=httpx.MockTransport(never_answers),
        on_drop=lambda event, reason: None,
    )
    held = 10_000 + full.settings.flush_at  # the first batch is stuck in flight, the queue is full behind it
    for i in range(held):
        full.ingest("api.call", "acme", 1, properties={"model": "gpt-4", "request": i})
    while full.stats()["queued"] < 10_000:
        full.ingest("api.call", "acme", 1, properties={"model": "gpt-4", "request": -1})
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    stuck.set()
    full.close(timeout=5)
    per_event = used / held
    text = textwrap.dedent(
        f"""
        ## Python SDK: cost in the caller's thread and memory at a full queue

        | figure | value |
        |---|---|
        | `Client.ingest()` p50 / p99 (100,000 calls, caller's thread) | {p50:.2f} µs / {p99:.2f} µs (goal p50 ≤ 5 µs) |
        | memory at a full queue (10,000 queued + 100 in flight) | {used / 1e6:.1f} MB ({per_event:.0f} B/event) |
        """
    )
    return text, {"ingest_p50_us": p50, "ingest_p99_us": p99, "full_queue_mb": used / 1e6}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server():
    import httpx
    import uvicorn

    from infra.local.http import LocalApiGateway, asgi_app
    from infra.local.stack import LocalStack

    stack = LocalStack(auth_cache_ttl_seconds=60).start()
    boot = stack.bootstrap_tenant("SDK bench")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi_app(LocalApiGateway(stack)), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return stack, server, url, boot


def _peer_run(name: str, url: str, key: str, external_id: str, code: str) -> dict[str, Any] | None:
    started = time.monotonic()
    if name == "openmeter":
        from openmeter import Client as OpenMeter

        om = OpenMeter(endpoint=f"{url}/compat/openmeter", token=key)
        for i in range(EVENTS):
            om.events.ingest_event(
                {"specversion": "1.0", "id": f"om-{i}", "source": "bench", "type": code, "subject": external_id}
            )
        return {"seconds": time.monotonic() - started}
    python = LAGO_VENV / "bin" / "python"
    if not python.exists():
        return None
    script = textwrap.dedent(
        f"""
        import time
        from lago_python_client.client import Client
        from lago_python_client.models import Event
        client = Client(api_key={key!r}, api_url={url + "/compat/lago/"!r})
        started = time.monotonic()
        for i in range({EVENTS}):
            client.events.create(Event(transaction_id=f"lago-{{i}}", code={code!r},
                                       external_subscription_id="bench-lago-sub", properties={{}}))
        print(time.monotonic() - started)
        """
    )
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the Lago client failed: {out.stderr[-2000:]}")
    return {"seconds": float(out.stdout.strip().splitlines()[-1])}


def sdk_vs_peers() -> tuple[str, dict[str, float]]:
    import httpx

    from tests.sdk.faults import FaultProxy

    stack, server, url, boot = _start_server()
    try:
        owner = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {boot.operator_key}", "X-Tenant-Id": boot.tenant_id}
        )
        rows: dict[str, dict[str, Any]] = {}
        for name in ("tollgate-sdk", "openmeter", "lago-python-client"):
            code = f"bench.{name}"
            owner.post("/v1/meters", json={"event_name": code, "aggregation": {"function": "COUNT"}})
            customer = owner.post("/v1/customers", json={"external_id": f"bench-{name}", "name": name}).json()
            if name == "lago-python-client":  # Lago's events name a subscription (external_subscription_id)
                from tests.e2e import builders

                builders.subscribe(owner, customer["id"], builders.plan(owner)["id"], external_id="bench-lago-sub")
            proxy = FaultProxy(url, [])
            try:
                if name == "tollgate-sdk":
                    started = time.monotonic()
                    with Client(api_url=proxy.url, api_key=boot.operator_key, tenant_id=boot.tenant_id) as client:
                        for _ in range(EVENTS):
                            client.ingest(code, f"bench-{name}")
                    result: dict[str, Any] | None = {"seconds": time.monotonic() - started}
                else:
                    result = _peer_run(name.split("-")[0], proxy.url, boot.operator_key, f"bench-{name}", code)
            finally:
                proxy.close()
            if result is not None:
                rows[name] = {**result, "requests": len(proxy.posts)}
    finally:
        server.should_exit = True
        stack.stop()
    ours = rows["tollgate-sdk"]
    lines = [
        f"## Sending {EVENTS:,} events: the Tollgate SDK and the peers' official clients",
        "",
        "Each client as its README shows (the peers: one event per call; the SDK: `ingest()` then `close()`), "
        "through a counting proxy on 127.0.0.1 in front of the local stack (moto: read the ratios, not the times).",
        "",
        "| client | HTTP requests | wall time | requests vs SDK | time vs SDK |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['requests']:,} | {row['seconds']:.1f} s | {row['requests'] / ours['requests']:.0f}x "
            f"| {row['seconds'] / ours['seconds']:.1f}x |"
        )
    if "lago-python-client" not in rows:
        lines.append(f"| lago-python-client | not run: no {LAGO_VENV} (the e2e tests create it) | | | |")
    figures = {f"{n}_requests": float(r["requests"]) for n, r in rows.items()}
    figures |= {f"{n}_seconds": float(r["seconds"]) for n, r in rows.items()}
    return "\n".join(lines) + "\n", figures


SECTIONS = [sdk_ingest_cost, sdk_vs_peers]


def main() -> int:
    for section in SECTIONS:
        text, figures = section()
        print(text)
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
