"""Output: a Rich table by default, JSON with ``--json`` (for scripts), a bar chart for usage windows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console()
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    raise TypeError(type(value).__name__)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=_default))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=_default, separators=(",", ":"))
    return str(value)


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(cell(row.get(column)) for column in columns))
    console.print(table)
    if not rows:
        console.print("(none)")


def print_record(record: dict[str, Any], title: str | None = None) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in record.items():
        table.add_row(key, cell(value))
    console.print(table)


def print_chart(windows: list[dict[str, Any]], width: int = 40) -> None:
    """One bar per window, scaled to the largest value."""
    values = [Decimal(str(w.get("value") or 0)) for w in windows]
    top = max(values, default=Decimal(0)) or Decimal(1)
    for window, value in zip(windows, values, strict=True):
        bar = "█" * int(value / top * width) if value > 0 else ""
        console.print(f"{window['from']:<21} [cyan]{bar:<{width}}[/cyan] {window['value']}")
