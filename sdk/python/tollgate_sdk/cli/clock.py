"""``tollgate clock``: the local stack's time travel (``make run`` only; a deployed API has no clock to move).

tollgate clock                  # the local stack's time
tollgate clock advance --days 31
tollgate clock advance --to 2027-01-01T00:00:00Z
"""

from __future__ import annotations

from typing import Any

import click

from tollgate_sdk.cli.config import Api, resolve_profile
from tollgate_sdk.cli.output import json_option, print_json, print_record


def clock_options(command: Any) -> Any:
    command = click.option("--api-key", envvar="TOLLGATE_API_KEY", hidden=True)(command)
    command = click.option("--tenant-id", envvar="TOLLGATE_TENANT_ID", hidden=True)(command)
    return click.option("--api-url", envvar="TOLLGATE_API_URL", help="The local stack (default: the login's).")(command)


def local_api(api_url: str | None, api_key: str | None, tenant_id: str | None) -> Api:
    # A clock advance waits for the bill runs it starts: allow minutes, not the usual 30 s.
    return Api(resolve_profile(api_url, api_key, tenant_id), timeout=600.0)


@click.group(invoke_without_command=True)
@click.pass_context
@clock_options
@json_option
def clock(ctx: click.Context, as_json: bool, **api: str | None) -> None:
    """The local stack's clock (GET /local/clock); `advance` moves it."""
    if ctx.invoked_subcommand is None:
        now = local_api(**api).get("/local/clock")
        print_json(now) if as_json else print_record(now, title="local clock")


@clock.command("advance")
@click.option("--days", type=float, help="Move the clock forward this many days.")
@click.option("--hours", type=float, help="… and/or hours.")
@click.option("--to", "to", help="Move the clock to this time (RFC 3339) instead.")
@clock_options
@json_option
def advance(days: float | None, hours: float | None, to: str | None, as_json: bool, **api: str | None) -> None:
    """Move the local clock forward: the schedules due in between fire (trial ends, the daily bill run,
    reconciliation) and dunning waits that come due run, as on AWS over that time."""
    body: dict[str, Any] = {"to": to} if to else {k: v for k, v in (("days", days), ("hours", hours)) if v}
    if not body:
        raise click.UsageError("give --days, --hours or --to")
    answer = local_api(**api).call("POST", "/local/clock/advance", json=body)
    if as_json:
        print_json(answer)
        return
    fired = ", ".join(f"{f['schedule']} ({f.get('status', 'ran')})" for f in answer.get("fired", [])) or "none"
    print_record({"now": answer["now"], "fired": fired}, title="local clock")
