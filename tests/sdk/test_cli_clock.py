"""Issue 18: ``tollgate clock`` reads the local stack's clock; ``tollgate clock advance`` needs a duration or
a time (moving the shared test stack's clock is left to tests/workflows/test_local_time_travel.py)."""

from __future__ import annotations

import json

from tests.sdk.test_cli import login, tollgate


def test_tollgate_clock_shows_the_local_stacks_time_and_advance_needs_an_amount(t, tmp_path):
    login(t, tmp_path)
    shown = json.loads(tollgate(tmp_path, "clock", "--json").stdout)
    assert shown["offset_seconds"] == 0 and shown["now"].endswith("Z")
    refused = tollgate(tmp_path, "clock", "advance", check=False)
    assert refused.returncode == 2 and "--days" in refused.stderr
