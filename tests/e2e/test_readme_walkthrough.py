"""Issue 18: the README's "Your first invoice" is executed as written: its shell blocks run in bash, in
order, against a fresh ``make run`` (``python -m infra.local``), and must reach a FINALIZED invoice with
the total the README states. A README that goes stale fails here."""

from __future__ import annotations

import re
import subprocess

import pytest

from infra.definitions import REPO_ROOT
from tests.local_server import local_server

pytestmark = pytest.mark.e2e

SECTION = "## Your first invoice"


def walkthrough_blocks() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else None]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_walkthrough_reaches_a_finalized_invoice_with_the_stated_total(tmp_path):
    blocks = walkthrough_blocks()
    assert len(blocks) >= 5, "the walkthrough's shell blocks were not found"
    stated = re.search(r"FINALIZED` with a total of `([0-9.]+)`", (REPO_ROOT / "README.md").read_text())
    assert stated, "the README states the invoice's total"
    script = "set -euo pipefail\n" + "\n".join(blocks)
    with local_server(tmp_path, TOLLGATE_DEMO="0"):
        run = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    lines = run.stdout.strip().splitlines()
    assert sum('"code":"EVENT_ID_ASSIGNED"' in line for line in lines) == 3, run.stdout  # three id-less events
    assert lines[-1].split() == ["FINALIZED", stated.group(1)], run.stdout
