"""The ``tollgate`` CLI, run as a real command (``python -m tollgate_sdk.cli``) against the local stack."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.ingest_kit import unique
from tests.sdk.conftest import SDK_PATH

pytestmark = pytest.mark.e2e

IMPORT_LINES = 3000  # the 100,000-line import is measured once and reported; this keeps `make test` short


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SDK_PATH), env.get("PYTHONPATH", "")])
    env["TOLLGATE_CONFIG_DIR"] = str(tmp_path / "config")
    env["COLUMNS"] = "200"
    return env


def tollgate(tmp_path: Path, *args: str, cwd: Path | None = None, check: bool = True, timeout: float = 120):
    done = subprocess.run(
        [sys.executable, "-m", "tollgate_sdk.cli", *args],
        cwd=cwd or tmp_path,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, f"tollgate {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def login(t, tmp_path: Path) -> None:
    tollgate(tmp_path, "login", "--api-url", t.server.url, "--api-key", t.owner_key, "--tenant-id", t.tenant_id)


def test_login_saves_the_key_readable_by_the_user_only_and_later_commands_use_it(t, tmp_path):
    login(t, tmp_path)
    config = tmp_path / "config" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text()) == {"api_url": t.server.url, "api_key": t.owner_key, "tenant_id": t.tenant_id}
    customers = json.loads(tollgate(tmp_path, "customers", "list", "--json").stdout)
    assert [c["external_id"] for c in customers] == [t.ext]


def test_login_next_to_make_run_reads_the_bootstrap_file(t, tmp_path):
    laptop = tmp_path / "repo" / "sub"
    (tmp_path / "repo" / ".local").mkdir(parents=True)
    laptop.mkdir()
    boot = {"api_url": t.server.url, "tenant_id": t.tenant_id, "operator_key": t.owner_key, "platform_key": "x"}
    (tmp_path / "repo" / ".local" / "bootstrap.json").write_text(json.dumps(boot))
    done = tollgate(tmp_path, "login", cwd=laptop)
    assert "bootstrap.json" in done.stdout
    assert json.loads((tmp_path / "config" / "config.json").read_text())["api_key"] == t.owner_key


def test_a_wrong_key_is_refused_at_login_with_the_apis_reason(t, tmp_path):
    done = tollgate(
        tmp_path, "login", "--api-url", t.server.url, "--api-key", "afo_nope", "--tenant-id", t.tenant_id, check=False
    )
    assert done.returncode == 1 and "401" in done.stderr and "Unknown API key" in done.stderr
    assert not (tmp_path / "config" / "config.json").exists()


def test_events_send_then_usage_as_a_table_and_as_json(t, tmp_path):
    login(t, tmp_path)
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    send = ("events", "send", "-e", t.event_name, "-c", t.ext, "--event-id", "cli-1", "--timestamp", at)
    assert "cli-1: accepted" in tollgate(tmp_path, *send).stdout
    assert "duplicate" in tollgate(tmp_path, *send).stdout, "the same event again counts once"
    t.wait_usage(t.ext, t.event_name, 1, timeout=15)
    table = tollgate(tmp_path, "usage", "-c", t.ext, "-e", t.event_name, "--window", "DAY")
    assert t.event_name in table.stdout and "█" in table.stdout
    body = json.loads(tollgate(tmp_path, "usage", "-c", t.ext, "-e", t.event_name, "--json").stdout)
    assert body["value"] == "1"
    bad = tollgate(tmp_path, "events", "send", "-e", "no.such.meter", "-c", t.ext, check=False)
    assert bad.returncode == 1 and "METER_NOT_FOUND" in bad.stderr


def test_resources_list_and_show_and_a_bill_run_started_with_wait(t, tmp_path):
    login(t, tmp_path)
    shown = tollgate(tmp_path, "customers", "show", t.c["id"])
    assert t.ext in shown.stdout
    keys = json.loads(tollgate(tmp_path, "keys", "list", "--json").stdout)
    assert "operator" in {k["kind"] for k in keys}
    listed = tollgate(tmp_path, "keys", "list")
    assert "OWNER" in listed.stdout
    assert json.loads(tollgate(tmp_path, "invoices", "list", "--json").stdout) == []
    run = json.loads(tollgate(tmp_path, "bill-runs", "start", "--wait", "--json", timeout=180).stdout)
    assert run["status"] == "COMPLETED"
    assert run["id"] in tollgate(tmp_path, "bill-runs", "list").stdout
    missing = tollgate(tmp_path, "customers", "show", "cus_nope", check=False)
    assert missing.returncode == 1 and "404" in missing.stderr


def test_list_commands_walk_every_page(t, tmp_path):
    from tollgate_sdk.cli.config import Api, Profile

    more = [t.customer() for _ in range(2)]
    api = Api(Profile(t.server.url, t.owner_key, t.tenant_id, "test"))
    walked = [c["id"] for c in api.iterate("/v1/customers", page_size=1)]  # three pages of one
    assert sorted(walked) == sorted([t.c["id"], *(c["id"] for c in more)])
    login(t, tmp_path)
    assert len(json.loads(tollgate(tmp_path, "customers", "list", "--limit", "2", "--json").stdout)) == 2
    assert len(json.loads(tollgate(tmp_path, "customers", "list", "--json").stdout)) == 3


def write_ndjson(path: Path, lines: int, event_name: str, customer: str) -> int:
    """Half the lines carry an event_id, half get one derived from the line; quantities 1..7."""
    start = datetime.now(UTC) - timedelta(hours=2)
    total = 0
    with path.open("w") as f:
        for i in range(lines):
            quantity = i % 7 + 1
            total += quantity
            event = {
                "event_name": event_name,
                "external_customer_id": customer,
                "timestamp": (start + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z"),
                "quantity": quantity,
            }
            if i % 2:
                event["event_id"] = f"line-{i}"
            f.write(json.dumps(event) + "\n")
    return total


def test_an_ndjson_import_interrupted_by_a_kill_resumes_and_counts_every_line_once(t, tmp_path, server):
    meter = t.meter(event_name=unique("tokens"), function="SUM", field="quantity")
    login(t, tmp_path)
    data = tmp_path / "usage.ndjson"
    expected = write_ndjson(data, IMPORT_LINES, meter["event_name"], t.ext)
    checkpoint = tmp_path / "usage.ndjson.checkpoint.json"

    args = [sys.executable, "-m", "tollgate_sdk.cli", "events", "import", str(data), "--batch-size", "100", "--json"]
    first = subprocess.Popen(args, cwd=tmp_path, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (checkpoint.exists() and json.loads(checkpoint.read_text())["lines"] >= 500):
        assert first.poll() is None and time.monotonic() < deadline, "the import made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    interrupted_at = json.loads(checkpoint.read_text())["lines"]
    assert 500 <= interrupted_at < IMPORT_LINES

    summary = json.loads(tollgate(tmp_path, "events", "import", str(data), "--json", timeout=300).stdout)
    assert summary["resumed_from_line"] == interrupted_at and summary["lines"] == IMPORT_LINES
    assert summary["rejected"] == summary["invalid"] == 0
    assert summary["accepted"] + summary["duplicates"] == IMPORT_LINES
    t.wait_usage(t.ext, meter["event_name"], expected, timeout=30)

    again = json.loads(tollgate(tmp_path, "events", "import", str(data), "--restart", "--json", timeout=300).stdout)
    assert again["duplicates"] == IMPORT_LINES and again["accepted"] == 0, "derived ids are stable: nothing twice"
    t.settle()
    assert t.usage(t.ext, meter["event_name"])["value"] == str(expected)


def test_a_csv_import_reports_bad_lines_and_rejections_in_a_file(t, tmp_path):
    login(t, tmp_path)
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    data = tmp_path / "usage.csv"
    data.write_text(
        "event_name,external_customer_id,timestamp,quantity,properties.model\n"
        f"{t.event_name},{t.ext},{at},1,gpt\n"
        f"{t.event_name},{t.ext},{at},1,gpt\n"  # the same text on another line: another event
        f"{t.event_name},{t.ext},,1,gpt\n"  # no timestamp
        f"no.such.meter,{t.ext},{at},1,gpt\n"
    )
    summary = json.loads(tollgate(tmp_path, "events", "import", str(data), "--json").stdout)
    assert (summary["accepted"], summary["invalid"], summary["rejected"]) == (2, 1, 1)
    rejects = [json.loads(line) for line in Path(summary["rejected_file"]).read_text().splitlines()]
    assert sorted((r["line"], r["code"]) for r in rejects) == [(3, "INVALID_LINE"), (4, "METER_NOT_FOUND")]
    t.wait_usage(t.ext, t.event_name, 2, timeout=15)
