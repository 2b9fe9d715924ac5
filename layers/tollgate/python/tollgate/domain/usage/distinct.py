"""UNIQUE_COUNT at any scale: exact distinct counts over any range of hours, without a set of values in
one item (the old design kept the hour's values in one item and lost events past DynamoDB's 400 KB).

What is stored, per customer and meter:

- one **value item** per distinct value (its history: for every month the value occurred in, the first
  and last hour; and a version), and one **month item** per value and month (the hours of that month
  in which it occurred). They are written only when a value occurs in an hour it had not occurred in;
- a **previous-hour histogram** next to each hourly bucket: ``previous[p]`` = how many of the values
  that occurred in hour ``h`` last occurred before ``h`` in hour ``p`` ("" = never before).

The distinct values of a range of hours [a, b] are the values whose occurrence in the range is their
first one since ``a``: an occurrence in hour h in [a, b] whose previous occurrence is before ``a``. So

    distinct(a, b) = sum over the hours h in [a, b] of sum over p < a of previous_h[p]

which reads exactly the hourly buckets (and their histogram entries) of the range, as the other
aggregations do: one paginated Query, whatever the number of values. Hours, UTC days, months, a
billing period in the customer's time zone, an anniversary period or a cumulative range since the
subscription started are all exact, and cost the same to read.

Placing a value in a new hour ``h`` (between its previous occurrence ``p`` and its next ``n``, both
known from the value and month items) changes the histogram by: previous_h[p] += 1, and, when the
value occurred later already (a late event), previous_n[p] -= 1, previous_n[h] += 1. The value item,
the month item and these histogram changes are written in one transaction conditioned on the value's
version: a redelivered stream batch finds the hour already placed and writes nothing; a lost race
re-reads and decides again.

Trade-offs: a value costs writes each time it occurs in a new hour (not per event): two items written
whole in a transaction (about 4 write units) plus a share of the histogram entries, and two strongly
consistent reads per value and stream batch (``make bench``: about 4.3 write units and 2 read units
per distinct value, $3 per million at on-demand prices). Reading any range costs what reading its hourly
buckets costs, plus the histogram entries (at most one per previous hour and value shard per hour).
Rejected alternatives: value items per hour, day or month with a counter each are exact only for ranges
that are exactly such a unit: a billing month in a customer's time zone, an anniversary period or a
cumulative range would need the union of the value sets, read item by item (a million reads for a
million values, at every bill run); a HyperLogLog sketch is approximate, which an invoice cannot be.
Values are keyed as they are when short, by their SHA-256 otherwise (``value_key``): two different long
values colliding is not a practical risk. A value's item grows by about 40 bytes per month it occurs in;
items never expire (like the buckets: invoices are computed from them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

NEVER = ""  # the "previous hour" of a value's first occurrence: sorts before every hour
MAX_LITERAL_KEY_BYTES = 128


def value_key(value: str) -> str:
    """The key a distinct value is stored under: the value itself when short ("=" + value), else its
    SHA-256 ("#" + hex), so a key stays small whatever the value's length."""
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_LITERAL_KEY_BYTES:
        return "=" + value
    return "#" + hashlib.sha256(raw).hexdigest()


def key_shard(key: str) -> str:
    """One of 16 partitions of a customer and meter's value items (spreads one meter's writes)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[0]


def month_of(hour: str) -> str:
    return hour[:7]


@dataclass(frozen=True)
class ValueHistory:
    """What is stored of one value of a customer and meter: ``version`` (0 when never stored), the first
    and last hour of every month it occurred in, and the hours of the month being placed."""

    version: int = 0
    spans: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # "2026-11" -> (first, last hour)
    month_hours: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Placement:
    """A value placed in a new hour: its previous and next occurrences, and the value's new history."""

    hour: str
    previous: str  # NEVER when it is the value's first occurrence
    following: str | None  # None when no later occurrence is stored
    spans: dict[str, tuple[str, str]]
    month_hours: frozenset[str]  # the hours of ``hour``'s month, ``hour`` included

    def histogram_changes(self) -> dict[tuple[str, str], int]:
        """(hour, previous hour) -> change of the histogram entry."""
        changes = {(self.hour, self.previous): 1}
        if self.following is not None:
            changes[(self.following, self.previous)] = -1
            changes[(self.following, self.hour)] = 1
        return changes


def place(history: ValueHistory, hour: str) -> Placement | None:
    """Where ``hour`` falls in the value's history; None when the value occurred in that hour already."""
    if hour in history.month_hours:
        return None
    month = month_of(hour)
    earlier = [h for h in history.month_hours if h < hour]
    later = [h for h in history.month_hours if h > hour]
    if earlier:
        previous = max(earlier)
    else:
        previous = max((last for m, (_, last) in history.spans.items() if m < month), default=NEVER)
    following = (
        min(later) if later else min((first for m, (first, _) in history.spans.items() if m > month), default=None)
    )
    spans = dict(history.spans)
    first, last = spans.get(month, (hour, hour))
    spans[month] = (min(first, hour), max(last, hour))
    return Placement(hour, previous, following, spans, history.month_hours | {hour})


def merge_changes(placements: Iterable[Placement]) -> dict[tuple[str, str], int]:
    """The histogram changes of several placements, added up per entry (entries that cancel out dropped)."""
    total: dict[tuple[str, str], int] = {}
    for p in placements:
        for entry, n in p.histogram_changes().items():
            total[entry] = total.get(entry, 0) + n
    return {entry: n for entry, n in total.items() if n}


def distinct_count(previous_by_hour: Iterable[Mapping[str, int]], since: str) -> int:
    """The distinct values of a range of hours starting at ``since``, from the histograms of the range's
    hours: the occurrences whose previous occurrence is before the range."""
    return sum(n for previous in previous_by_hour for p, n in previous.items() if p < since)
