"""``tollgate events import FILE``: backfill NDJSON or CSV, resumable, idempotent, with a progress bar.

- A line without ``event_id`` gets one derived from its line number and its text, so importing the same
  file again (or resuming after a crash) sends the same ids: the API counts each event once.
- A checkpoint file (``FILE.checkpoint.json``) records how far the file was delivered (byte offset, lines,
  counts) after every batch the API answered; a new run resumes from it. A batch sent but not yet
  checkpointed when the process died is sent again and answered as duplicates.
- Each line needs a ``timestamp``: a backfill stamped at send time would change on every retry.
- Lines the API rejects (and lines that are not events) go to ``FILE.rejected.ndjson`` with the reason.
- CSV: a header row; columns ``event_id``, ``event_name``, ``external_customer_id``, ``timestamp``,
  ``quantity``, ``properties`` (a JSON object) and ``properties.<name>`` (numbers are read as numbers);
  one record per line.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from tollgate_sdk._delivery import Ledger, Settings, deliver_sync
from tollgate_sdk._transport import RetryPolicy
from tollgate_sdk.cli.config import CliError, Profile

NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
HEAD_BYTES = 65_536


@dataclass
class Checkpoint:
    head: str
    offset: int = 0
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    invalid: int = 0

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        return cls(**json.loads(path.read_text())) if path.is_file() else None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self)))
        tmp.replace(path)


@dataclass
class Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    end_offset: int = 0
    end_line: int = 0


def file_head(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.sha256(f.read(HEAD_BYTES)).hexdigest()


def derived_id(line_no: int, text: str) -> str:
    return "imp_" + hashlib.sha256(f"{line_no}\n{text}".encode()).hexdigest()[:40]


def _number(text: str) -> Any:
    if NUMBER.fullmatch(text.strip()):
        value = Decimal(text.strip())
        return (
            int(value) if value == value.to_integral_value() and "." not in text and "e" not in text.lower() else value
        )
    return text


def from_csv(row: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue
        if name == "properties":
            properties.update(json.loads(value, parse_float=Decimal))
        elif name.startswith("properties."):
            properties[name.removeprefix("properties.")] = _number(value)
        elif name == "quantity":
            try:
                event["quantity"] = _number(value) if NUMBER.fullmatch(value.strip()) else Decimal(value)
            except InvalidOperation:
                raise ValueError(f"quantity {value!r} is not a number") from None
        else:
            event[name] = value
    if properties:
        event["properties"] = properties
    return event


def parse_line(text: str, fmt: str, header: list[str] | None, line_no: int) -> dict[str, Any]:
    if fmt == "csv":
        values = next(csv.reader([text]))
        assert header is not None
        event = from_csv(dict(zip(header, values, strict=False)))
    else:
        event = json.loads(text, parse_float=Decimal)
        if not isinstance(event, dict):
            raise ValueError("a line must be one JSON object (an event)")
    if not event.get("timestamp"):
        raise ValueError("no timestamp: each imported event needs its own (RFC 3339)")
    event.setdefault("event_id", derived_id(line_no, text))
    return event


class Importer:
    def __init__(self, profile: Profile, path: Path, fmt: str, batch_size: int, concurrency: int, restart: bool):
        self.profile, self.path, self.fmt = profile, path, fmt
        self.batch_size, self.concurrency = batch_size, concurrency
        self.checkpoint_path = path.with_name(path.name + ".checkpoint.json")
        self.rejects_path = path.with_name(path.name + ".rejected.ndjson")
        head = file_head(path)
        saved = None if restart else Checkpoint.load(self.checkpoint_path)
        if saved is not None and saved.head != head:
            raise CliError(
                f"{self.checkpoint_path} belongs to another file (its first 64 KB differ): "
                "use --restart to import this file from the beginning."
            )
        self.checkpoint = saved or Checkpoint(head=head)
        self.resumed_from = self.checkpoint.lines
        self.settings = Settings(
            api_url=profile.api_url,
            api_key=profile.api_key,
            tenant_id=profile.tenant_id,
            retry=RetryPolicy(max_retries=8, backoff_base=0.5, backoff_max=20.0),
            timeout=120.0,
        )
        self.http = httpx.Client(timeout=120.0, limits=httpx.Limits(max_connections=concurrency))

    # -- reading ----------------------------------------------------------------------------------------
    def batches(self, f: BinaryIO) -> Iterator[Batch]:
        header = None
        if self.fmt == "csv":
            first = f.readline()
            header = next(csv.reader([first.decode("utf-8-sig").strip()]))
            offset = max(self.checkpoint.offset, len(first))
        else:
            offset = self.checkpoint.offset
        f.seek(offset)
        line_no, batch = self.checkpoint.lines, Batch()
        for raw in f:
            offset += len(raw)
            line_no += 1
            text = raw.decode("utf-8").strip()
            if text:
                try:
                    batch.events.append(parse_line(text, self.fmt, header, line_no))
                    batch.lines.append(line_no)
                except (ValueError, KeyError, StopIteration) as exc:
                    self.reject(line_no, "INVALID_LINE", str(exc), text)
                    self.checkpoint.invalid += 1
            batch.end_offset, batch.end_line = offset, line_no
            if len(batch.events) >= self.batch_size:
                yield batch
                batch = Batch()
        if batch.end_line:
            yield batch

    def reject(self, line_no: int, code: str, detail: str, event: Any) -> None:
        with self.rejects_path.open("a") as out:
            record = {"line": line_no, "code": code, "detail": detail, "event": event}
            out.write(json.dumps(record, default=str) + "\n")

    # -- sending ----------------------------------------------------------------------------------------
    def send(self, batch: Batch) -> tuple[Batch, Ledger, list[Exception]]:
        errors: list[Exception] = []
        rejected: list[tuple[dict[str, Any], str, str]] = []
        settings = dataclasses.replace(
            self.settings,
            on_rejected=lambda e, code, detail: rejected.append((e, code, detail)),
            on_error=lambda exc, events: errors.append(exc),
        )
        ledger = Ledger(settings)
        if batch.events:
            deliver_sync(self.http, settings, ledger, batch.events)
        line_of = {id(e): n for e, n in zip(batch.events, batch.lines, strict=True)}
        for event, code, detail in rejected:
            self.reject(line_of.get(id(event), 0), code, detail, event)
        return batch, ledger, errors

    def settle(self, batch: Batch, ledger: Ledger, errors: list[Exception]) -> None:
        if errors:
            raise CliError(
                f"Stopped at line {self.checkpoint.lines + 1}: {errors[0]}. Run the same command again to resume."
            )
        counts = ledger.counts
        self.checkpoint.accepted += counts["sent"] - counts["duplicates"]
        self.checkpoint.duplicates += counts["duplicates"]
        self.checkpoint.rejected += counts["rejected"]
        self.checkpoint.offset, self.checkpoint.lines = batch.end_offset, batch.end_line
        self.checkpoint.save(self.checkpoint_path)

    def run(self, show_progress: bool) -> dict[str, Any]:
        started = time.monotonic()
        size = self.path.stat().st_size
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[lines]} lines"),
            TimeRemainingColumn(),
            disable=not show_progress,
        )
        inflight: deque[Future[tuple[Batch, Ledger, list[Exception]]]] = deque()
        with progress, self.path.open("rb") as f, ThreadPoolExecutor(self.concurrency) as pool:
            task = progress.add_task(
                self.path.name, total=size, completed=self.checkpoint.offset, lines=self.resumed_from
            )
            try:
                for batch in self.batches(f):
                    inflight.append(pool.submit(self.send, batch))
                    while len(inflight) >= self.concurrency:
                        self.settle(*inflight.popleft().result())
                        progress.update(task, completed=self.checkpoint.offset, lines=self.checkpoint.lines)
                while inflight:
                    self.settle(*inflight.popleft().result())
                    progress.update(task, completed=self.checkpoint.offset, lines=self.checkpoint.lines)
            finally:
                for future in inflight:
                    future.cancel()
        return {
            "file": str(self.path),
            "lines": self.checkpoint.lines,
            "resumed_from_line": self.resumed_from,
            **{k: getattr(self.checkpoint, k) for k in ("accepted", "duplicates", "rejected", "invalid")},
            "seconds": round(time.monotonic() - started, 2),
            "checkpoint": str(self.checkpoint_path),
            "rejected_file": str(self.rejects_path) if self.rejects_path.exists() else None,
        }
