"""The commands themselves (Click + Rich). Each one resolves the profile, calls the API, prints."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from tollgate_sdk._events import build_event
from tollgate_sdk._version import __version__
from tollgate_sdk.cli.clock import clock as local_clock
from tollgate_sdk.cli.config import (
    Api,
    CliError,
    Profile,
    config_path,
    find_bootstrap,
    read_bootstrap,
    resolve_profile,
    save_config,
)
from tollgate_sdk.cli.importer import Importer, _number
from tollgate_sdk.cli.output import console, json_option, print_chart, print_json, print_record, print_table
from tollgate_sdk.errors import InvalidEvent


def api_options(command: Any) -> Any:
    for option in (
        click.option("--api-url", envvar="TOLLGATE_API_URL", help="Overrides the logged-in API URL."),
        click.option("--api-key", envvar="TOLLGATE_API_KEY", help="Overrides the logged-in key."),
        click.option("--tenant-id", envvar="TOLLGATE_TENANT_ID", help="The tenant (needed with an operator key)."),
    ):
        command = option(command)
    return command


def api_from(api_url: str | None, api_key: str | None, tenant_id: str | None) -> Api:
    return Api(resolve_profile(api_url, api_key, tenant_id))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tollgate")
def cli() -> None:
    """Tollgate from the terminal: usage events, usage, customers, subscriptions, invoices, bill runs."""


# -- login ----------------------------------------------------------------------------------------------
@cli.command()
@click.option("--api-url", help="e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod")
@click.option("--api-key", help="An operator key (afo_…) or a customer key (sk_live_…/sk_test_…).")
@click.option("--tenant-id", help="Your tenant id (sent as X-Tenant-Id).")
@click.option("--no-verify", is_flag=True, help="Save without calling the API.")
def login(api_url: str | None, api_key: str | None, tenant_id: str | None, no_verify: bool) -> None:
    """Save the API URL and key in your config dir (mode 0600). Next to a `make run`, reads
    .local/bootstrap.json when no option is given."""
    source = "options"
    if not (api_url or api_key) and (boot := find_bootstrap()) is not None:
        found = read_bootstrap(boot)
        api_url, api_key, tenant_id, source = found["api_url"], found["api_key"], found["tenant_id"], str(boot)
    api_url = api_url or click.prompt("API URL")
    api_key = api_key or click.prompt("API key", hide_input=True)
    tenant_id = tenant_id or click.prompt("Tenant id", default="", show_default=False) or None
    assert api_url is not None and api_key is not None
    profile = Profile(api_url.rstrip("/"), api_key, tenant_id, source)
    if not no_verify:
        api = Api(profile)
        api.get("/v1/portal/me" if api_key.startswith("sk_") else "/v1/api-keys")
    values = {"api_url": profile.api_url, "api_key": api_key}
    if tenant_id:
        values["tenant_id"] = tenant_id
    path = save_config(values)
    console.print(f"Logged in to {profile.api_url} (from {source}); saved to {path} (0600).")


# -- events ---------------------------------------------------------------------------------------------
@cli.group()
def events() -> None:
    """Send usage events, one at a time or by file."""


@events.command("send")
@click.option("--event-name", "-e", required=True, help="The meter's event name.")
@click.option("--customer", "-c", help="The customer's external id (a customer key may leave it out).")
@click.option("--quantity", "-q", default="1", show_default=True, help="A number (read exactly).")
@click.option("--property", "-p", "properties", multiple=True, help="name=value (numbers stay numbers); repeat.")
@click.option("--timestamp", help="RFC 3339 (default: now).")
@click.option("--event-id", help="The idempotency key (default: a new one).")
@api_options
@json_option
def events_send(
    event_name: str,
    customer: str | None,
    quantity: str,
    properties: tuple[str, ...],
    timestamp: str | None,
    event_id: str | None,
    as_json: bool,
    **api: str | None,
) -> None:
    """Send one usage event now and show the API's answer."""
    props: dict[str, Any] = {}
    for item in properties:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: write name=value", param_hint="--property")
        props[name] = _number(value)
    try:
        amount = Decimal(quantity)
        event = build_event(
            event_name=event_name,
            external_customer_id=customer,
            quantity=int(amount) if amount == amount.to_integral_value() and "." not in quantity else amount,
            properties=props or None,
            timestamp=timestamp,
            event_id=event_id,
        )
    except (InvalidEvent, ArithmeticError) as exc:
        raise click.BadParameter(str(exc)) from None
    from tollgate_sdk._events import dumps

    body = api_from(**api).call(
        "POST", "/v1/ingest/events", content=dumps({"events": [event]}), headers={"Content-Type": "application/json"}
    )
    if as_json:
        print_json({"event_id": event["event_id"], **body})
        return
    if body.get("rejected"):
        r = body["rejected"][0]
        raise CliError(f"Rejected {r.get('code')}: {r.get('detail')}")
    state = "accepted" if body.get("accepted") else "duplicate (already counted)"
    console.print(f"{event['event_id']}: {state}")


@events.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["ndjson", "csv"]), help="Default: from the file's extension.")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 16), help="Batches in flight.")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint and start from the first line.")
@api_options
@json_option
def events_import(
    file: Path, fmt: str | None, batch_size: int, concurrency: int, restart: bool, as_json: bool, **api: str | None
) -> None:
    """Import usage events from FILE (NDJSON or CSV): resumable, each line counted once."""
    fmt = fmt or ("csv" if file.suffix.lower() == ".csv" else "ndjson")
    importer = Importer(resolve_profile(**api), file, fmt, batch_size, concurrency, restart)
    summary = importer.run(show_progress=not as_json and console.is_terminal)
    if as_json:
        print_json(summary)
    else:
        print_record(summary, title="import")


# -- usage ----------------------------------------------------------------------------------------------
@cli.command()
@click.option("--customer", "-c", "external_customer_id", help="The customer's external id.")
@click.option("--event-name", "-e", help="The meter's event name.")
@click.option("--meter-id")
@click.option("--from", "from_", help="RFC 3339 (default: start of this month).")
@click.option("--to", help="RFC 3339, exclusive (default: now).")
@click.option("--window", type=click.Choice(["HOUR", "DAY", "MONTH"], case_sensitive=False))
@api_options
@json_option
def usage(
    external_customer_id: str | None,
    event_name: str | None,
    meter_id: str | None,
    from_: str | None,
    to: str | None,
    window: str | None,
    as_json: bool,
    **api: str | None,
) -> None:
    """Aggregated usage of a customer for a meter (a table and a chart per window)."""
    body = api_from(**api).get(
        "/v1/usage",
        external_customer_id=external_customer_id,
        event_name=event_name,
        meter_id=meter_id,
        to=to,
        window=window.upper() if window else None,
        **{"from": from_},
    )
    if as_json:
        print_json(body)
        return
    console.print(
        f"[bold]{body.get('event_name')}[/bold] for {body.get('external_customer_id')} "
        f"({body.get('from')} → {body.get('to')}): [bold]{body.get('value')}[/bold]"
    )
    if body.get("data"):
        print_table(body["data"], ["from", "to", "value"])
        print_chart(body["data"])


# -- resources ------------------------------------------------------------------------------------------
RESOURCES: dict[str, tuple[str, list[str]]] = {
    "customers": ("/v1/customers", ["id", "external_id", "name", "email", "currency", "created_at"]),
    "subscriptions": ("/v1/subscriptions", ["id", "customer_id", "plan_id", "plan_version", "status", "created_at"]),
    "invoices": ("/v1/invoices", ["id", "customer_id", "status", "currency", "total", "period_start", "period_end"]),
    "bill-runs": ("/v1/bill-runs", ["id", "status", "trigger", "created_at", "closed_at", "totals"]),
    "keys": ("/v1/api-keys", ["id", "kind", "role", "name", "display", "status", "last_used_at"]),
}


def resource_group(name: str, path: str, columns: list[str]) -> click.Group:
    group = click.Group(name, help=f"List and show {name.replace('-', ' ')}.")

    @group.command("list")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
    @click.option("--filter", "filters", multiple=True, help="A query parameter, name=value (e.g. status=PAID).")
    @api_options
    @json_option
    def list_(limit: int, filters: tuple[str, ...], as_json: bool, **api: str | None) -> None:
        params = dict(f.split("=", 1) for f in filters if "=" in f)
        rows = api_from(**api).pages(path, limit, **params)
        print_json(rows) if as_json else print_table(rows, columns, title=name)

    @group.command("show")
    @click.argument("object_id")
    @api_options
    @json_option
    def show(object_id: str, as_json: bool, **api: str | None) -> None:
        record = api_from(**api).get(f"{path}/{object_id}")
        print_json(record) if as_json else print_record(record, title=f"{name} {object_id}")

    return group


for _name, (_path, _columns) in RESOURCES.items():
    cli.add_command(resource_group(_name, _path, _columns))

bill_runs = cli.commands["bill-runs"]
assert isinstance(bill_runs, click.Group)


@bill_runs.command("start")
@click.option("--as-of", help="Bill periods that ended by then (RFC 3339; default now).")
@click.option("--customer-id", "customer_ids", multiple=True, help="Only these customers (repeat).")
@click.option("--wait", is_flag=True, help="Wait until the run finishes, showing its progress.")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait with --wait.")
@api_options
@json_option
def bill_runs_start(
    as_of: str | None, customer_ids: tuple[str, ...], wait: bool, timeout: float, as_json: bool, **api: str | None
) -> None:
    """Start a bill run now (all subscriptions whose period has ended)."""
    client = api_from(**api)
    body: dict[str, Any] = {"customer_ids": list(customer_ids)} | ({"as_of": as_of} if as_of else {})
    run = client.call("POST", "/v1/bill-runs", json=body)
    if wait:
        run = wait_for_run(client, run["id"], timeout, quiet=as_json)
    print_json(run) if as_json else print_record({k: v for k, v in run.items() if k != "results"}, title="bill run")
    if run.get("status") in ("FAILED", "PARTIALLY_FAILED"):
        raise SystemExit(2)


def wait_for_run(client: Api, run_id: str, timeout: float, quiet: bool) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with console.status("bill run starting…", spinner="dots") as status:
        while True:
            run: dict[str, Any] = client.get(f"/v1/bill-runs/{run_id}")
            totals = run.get("totals") or {}
            if not quiet:
                status.update(f"bill run {run_id}: {run.get('status')} {json.dumps(totals)}")
            if run.get("status") != "RUNNING":
                return run
            if time.monotonic() > deadline:
                raise CliError(
                    f"bill run {run_id} still RUNNING after {timeout:.0f} s (tollgate bill-runs show {run_id})."
                )
            time.sleep(1.0)


cli.add_command(local_clock)


@cli.command("config-path", hidden=True)
def show_config_path() -> None:
    click.echo(str(config_path()))
