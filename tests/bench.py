"""`make bench`: measure, then write BENCHMARKS.md. Figures are ratios measured in one run where possible,
so the machine's speed and load cancel out.

Sections (each issue adds its own):
- Cold start: import time of each Lambda handler module as a ratio to ``import boto3``.
- Bill runs (``tests/bench_billing.py``): a local bill run over 10,000 subscriptions: time, AWS calls per
  subscription, state transitions extrapolated to 1,000,000.
- Usage ingestion (``tests/bench_ingest.py``): handler CPU per event vs a pydantic + BatchWriteItem floor; AWS
  calls, write units and cost per million events at batch 100; hot partition keys.
- Hot keys at 10,000 ingest requests/s (``tests/bench_hotkeys.py``): write units per partition key.
- Distinct counts at scale (``tests/bench_distinct.py``): UNIQUE_COUNT at 100,000 distinct values for one
  customer, meter and period: time, write and read units per value, cost per million values, 1,000,000.
- Gateway enforcement (``tests/bench_gateway.py``): warm-cache decision time, backend reads per 100
  decisions, cached mode's overshoot, AWS calls per uncached check, strict mode's writes, the middleware's
  metering flush, cost per million decisions per surface.
- Outbound webhooks (``tests/bench_webhooks.py``): deliveries per second to one endpoint on the local stack;
  AWS calls, capacity units and cost per million deliveries.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from infra import definitions

REPO = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
# What the functions get on AWS too (infra): pydantic's plugin discovery scans installed distributions.
LAMBDA_ENV = {"PYDANTIC_DISABLE_PLUGINS": "__all__", "POWERTOOLS_DEV": "false"}

_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    """Import ``module`` in a fresh interpreter (a cold Lambda init) and return the seconds it took."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        cwd=REPO,
        env={**os.environ, **LAMBDA_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def cold_start() -> tuple[str, dict[str, float]]:
    modules = {name: fn.module for name, fn in definitions.functions().items()}
    ratios: dict[str, list[float]] = {name: [] for name in modules}
    times: dict[str, list[float]] = {name: [] for name in modules}
    baseline: list[float] = []
    for _ in range(ROUNDS):
        # Interleave: each handler is compared with a boto3 import measured right next to it.
        for name, module in modules.items():
            b = import_seconds("boto3")
            h = import_seconds(module)
            baseline.append(b)
            times[name].append(h)
            ratios[name].append(h / b)
    rows = [
        "| function | handler module | import (ms, median) | ratio to `import boto3` (median) | goal |",
        "|---|---|---:|---:|---|",
    ]
    figures = {}
    for name, module in modules.items():
        ratio = statistics.median(ratios[name])
        figures[name] = ratio
        verdict = "met" if ratio <= 1.5 else "NOT met"
        rows.append(
            f"| {name} | `{module}` | {statistics.median(times[name]) * 1000:.0f} | {ratio:.2f} | ≤ 1.5: {verdict} |"
        )
    text = "\n".join(
        [
            "## Cold start (issue 2)",
            "",
            "Import time of each handler module in a fresh interpreter, divided by the import time of `boto3` measured",
            f"right before it in the same run ({ROUNDS} interleaved rounds; median of the per-round ratios).",
            f"`import boto3` took {statistics.median(baseline) * 1000:.0f} ms (median) on this machine in this run.",
            "Handlers import boto3 lazily (first AWS call), so these imports do not include it.",
            "",
            *rows,
            "",
        ]
    )
    return text, figures


_FIRST_REQUEST = """
import time, types
t = time.perf_counter()
import functions.api.handler as h
event = {{"path": "{path}", "httpMethod": "GET", "headers": {{}}, "requestContext": {{"requestId": "bench"}}}}
ctx = types.SimpleNamespace(function_name="api", memory_limit_in_mb=1024, invoked_function_arn="", aws_request_id="")
h.lambda_handler(event, ctx)
print(time.perf_counter() - t)
"""


def first_request_seconds(path: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUEST.format(path=path)],
        cwd=REPO,
        env={**os.environ, **LAMBDA_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def api_first_request() -> tuple[str, dict[str, float]]:
    """The API function builds a route group's resolver on the group's first request: the cold start a
    user sees is import + that first request. Measured per group, against boto3 in the same run."""
    from tollgate.api.routers import GROUPS

    paths = {group: prefixes[0] for group, (prefixes, _) in GROUPS.items()}
    paths["docs (all groups)"] = "/openapi.json"
    ratios: dict[str, list[float]] = {g: [] for g in paths}
    times: dict[str, list[float]] = {g: [] for g in paths}
    for _ in range(max(3, ROUNDS // 3)):
        for group, path in paths.items():
            b = import_seconds("boto3")
            t = first_request_seconds(path)
            times[group].append(t)
            ratios[group].append(t / b)
    rows = [
        "| route group | first path | import + first request (ms, median) | ratio to `import boto3` |",
        "|---|---|---:|---:|",
    ]
    figures = {}
    for group, path in paths.items():
        figures[group] = statistics.median(ratios[group])
        rows.append(f"| {group} | `{path}` | {statistics.median(times[group]) * 1000:.0f} | {figures[group]:.2f} |")
    text = "\n".join(
        [
            "### API function: import plus the first request of each route group",
            "",
            "The API function builds each route group's resolver (its routers and pydantic models) on the group's",
            "first request, so the import above is not the whole cold start. This is: a fresh interpreter imports the",
            "handler and answers one unauthenticated request (a 401, no AWS call) in the group.",
            "",
            *rows,
            "",
        ]
    )
    return text, figures


def _ingest_sections() -> list:
    from tests import bench_ingest  # issue 8: usage ingestion (cost per million events, handler CPU, hot keys)

    return bench_ingest.SECTIONS


def _billing_sections() -> list:
    from tests import bench_billing  # issue 6: a bill run over BENCH_BILL_SUBSCRIPTIONS (default 10,000)

    return bench_billing.SECTIONS


def _distinct_sections() -> list:
    from tests import bench_distinct  # issue 13: UNIQUE_COUNT at BENCH_DISTINCT_VALUES (default 100,000)

    return bench_distinct.SECTIONS


def _webhook_sections() -> list:
    from tests import bench_webhooks  # issue 20: outbound webhooks, BENCH_WEBHOOK_DELIVERIES (default 200)

    return bench_webhooks.SECTIONS


def _hotkeys_sections() -> list:
    from tests import bench_hotkeys  # issue 16: write units per partition key at 10,000 ingest requests/s

    return bench_hotkeys.SECTIONS


def _sdk_sections() -> list:
    from tests.sdk import (
        bench_sdk,  # issue 17: the SDK's cost per ingest() and BENCH_SDK_EVENTS sent beside peers' clients
    )

    return bench_sdk.SECTIONS


def _gateway_sections() -> list:
    from tests import bench_gateway  # issue 15: decision time, backend reads, overshoot, cost per surface

    return bench_gateway.SECTIONS


SECTIONS = [
    cold_start,
    api_first_request,
    *_ingest_sections(),
    *_billing_sections(),
    *_distinct_sections(),
    *_hotkeys_sections(),
    *_sdk_sections(),
    *_gateway_sections(),
    *_webhook_sections(),
]


def main() -> int:
    parts = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores. Re-run `make bench` to refresh.",
        "",
    ]
    for section in SECTIONS:
        text, _ = section()
        print(text)
        parts.append(text)
    (REPO / "BENCHMARKS.md").write_text("\n".join(parts))
    print(f"wrote {REPO / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
