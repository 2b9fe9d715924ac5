"""The ``tollgate`` command line: log in, send and import usage, read usage, customers, subscriptions,
invoices, bill runs and keys. Tables by default, ``--json`` for scripts.

    tollgate login                      # or nothing at all next to a `make run` (.local/bootstrap.json)
    tollgate events send --event-name api.call --customer acme --quantity 3
    tollgate events import usage.ndjson # resumable: run it again after an interruption
    tollgate usage --customer acme --event-name api.call --window DAY
    tollgate bill-runs start --wait
"""

from __future__ import annotations

from tollgate_sdk.cli.commands import cli


def main() -> None:
    cli(prog_name="tollgate")


__all__ = ["cli", "main"]
