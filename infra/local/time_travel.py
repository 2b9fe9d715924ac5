"""Local time travel: ``POST /local/clock/advance`` moves the one clock everything on the local stack reads.

``tollgate.domain.clock.utcnow`` is what handlers, use cases, trials, grace periods and dunning read; the
local stack's schedule ticker reads it too, and moto's Step Functions ``Wait`` states are made to wait on it
(:func:`install_clock_waits`). Advancing fires every schedule that was due in the skipped time -- once per
schedule, as a catch-up firing at the new time, the way a schedule that was down catches up: the
subscription clock first (trial ends, cancellations, expiries), then the daily bill run (it bills every period
that ended by then), then the daily reconciliation -- and waits for the executions it started, so that the
answer to an advance already holds the invoices of the periods it crossed. A dunning wait whose time has come
ends within a fraction of a second. The deployed stack has none of this: its clock is AWS's.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra import definitions
from infra.local.clock import cron_matches, rate_period
from infra.local.moto_internals import is_replaced, replace
from tollgate.domain.clock import clock_offset, set_clock_offset, to_rfc3339, utcnow

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

# Schedules fired by a catch-up, in this order: moves (trial ends, expiries) before the bill run.
ORDER = ("subscription-clock", "daily-bill-run", "daily-reconciliation")
MAX_ADVANCE = timedelta(days=3660)
WAIT_POLL_SECONDS = 0.2
_lock = threading.Lock()


def install_clock_waits() -> None:
    """Make moto's Wait states wait until the local clock reaches their time (not a wall-clock sleep)."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    if is_replaced(WaitFunction, "_wait_interval"):
        return

    def _wait_interval(self, env, wait_seconds: int) -> None:
        until = utcnow() + timedelta(seconds=max(0, int(wait_seconds)))
        while utcnow() < until and env.is_running():
            env.program_state_event.wait(WAIT_POLL_SECONDS)

    replace(WaitFunction, "_wait_interval", _wait_interval)


def was_due(expression: str, start: datetime, end: datetime, started: datetime) -> bool:
    """Whether a schedule would have fired in the minutes after ``start`` up to ``end`` (inclusive)."""
    kind, _, body = expression.partition("(")
    body = body.rstrip(")")
    first = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if kind == "rate" and end - first >= rate_period(body):
        return True
    origin = started.replace(second=0, microsecond=0)
    minute, last = first, min(end, first + timedelta(days=8))  # our crons are daily or weekly at most
    while minute <= last:
        due = (minute - origin) % rate_period(body) == timedelta(0) if kind == "rate" else cron_matches(body, minute)
        if due:
            return True
        minute += timedelta(minutes=1)
    return False


def state() -> dict[str, Any]:
    now = utcnow()
    return {
        "now": to_rfc3339(now),
        "offset_seconds": int(clock_offset().total_seconds()),
        "wall_clock": to_rfc3339(datetime.now(UTC)),
    }


def advance(stack: LocalStack, *, by: timedelta | None = None, to: datetime | None = None) -> dict[str, Any]:
    """Move the clock forward (``by`` or ``to``), fire the schedules due in between, wait for what they started."""
    with _lock:
        before = utcnow()
        target = to if to is not None else before + (by or timedelta(0))
        if target < before:
            raise ValueError(f"the local clock only moves forward: it is {to_rfc3339(before)} already")
        if target - before > MAX_ADVANCE:
            raise ValueError("advance the local clock by at most 3660 days at a time")
        set_clock_offset(clock_offset() + (target - before))
        fired = _catch_up(stack, before, target)
    return {**state(), "fired": fired}


def _catch_up(stack: LocalStack, before: datetime, after: datetime) -> list[dict[str, Any]]:
    schedules = {s.name: s for s in definitions.schedules()}
    names = [n for n in ORDER if n in schedules] + sorted(set(schedules) - set(ORDER))
    fired: list[dict[str, Any]] = []
    for name in names:
        if not was_due(schedules[name].expression, before, after, stack.clock_started):
            continue
        began = time.monotonic()
        started = stack.fire_schedule(name)
        entry: dict[str, Any] = {"schedule": name}
        if started.startswith("arn:"):
            entry["status"] = stack.wait_for_execution(started, timeout=120)["status"]
        entry["seconds"] = round(time.monotonic() - began, 1)
        fired.append(entry)
    stack.mark_ticked(after)
    return fired


# -- HTTP: GET /local/clock, POST /local/clock/advance (served by the local gateway only) ------------------
PATHS = ("/local/clock", "/local/clock/advance")
_BODY_HINT = 'Send {"days": 31} (also "hours", "minutes") or {"to": "2026-12-01T00:00:00Z"}.'


def handle_http(stack: LocalStack, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a local clock request; a problem body (with ``code``) for a 4xx."""
    if path == "/local/clock" and method == "GET":
        return 200, state()
    if path == "/local/clock/advance" and method == "POST":
        try:
            by, to = _advance_body(body)
            return 200, advance(stack, by=by, to=to)
        except ValueError as exc:
            return 422, _problem(422, "Invalid clock advance", f"{exc}. {_BODY_HINT}", path, "INVALID_CLOCK_ADVANCE")
    allowed = "GET" if path == "/local/clock" else "POST"
    return 405, _problem(405, "Method not allowed", f"{path} answers {allowed} only.", path, "METHOD_NOT_ALLOWED")


def _problem(status: int, title: str, detail: str, path: str, code: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": path, "code": code}


def _advance_body(body: bytes) -> tuple[timedelta | None, datetime | None]:
    import json

    from tollgate.domain.clock import parse_rfc3339

    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(data, dict) or not data:
        raise ValueError("the body must be a JSON object")
    unknown = set(data) - {"days", "hours", "minutes", "to"}
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}")
    if "to" in data:
        if len(data) > 1 or not isinstance(data["to"], str):
            raise ValueError('"to" is an RFC 3339 string and comes alone')
        return None, parse_rfc3339(data["to"])
    amounts = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3660 * 24 * 60:
            raise ValueError(f'"{name}" must be a number from 0 up to the 10-year limit')
        amounts[name] = float(value)
    return timedelta(**amounts), None
