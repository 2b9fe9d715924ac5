"""Recurring fees and pending charges on the period-end invoice.

Fee timing (as in Lago):

- an **in-arrears** fee is billed on the invoice of the period it covers;
- an **in-advance** fee of a period is billed on the invoice issued at the start of that period. The
  bill run issues invoices at period ends, so the invoice of period P carries P's usage, P's
  in-arrears fees and the in-advance fees of P+1 (at the plan version in effect for P+1: a downgrade
  waiting for the period end is billed at its new price) -- unless the subscription ends with P
  (cancelled, expired, or cancelling at the period end): then nothing is billed in advance.
- the **first** period's in-advance fees are billed on the first period-end invoice (Tollgate issues
  no invoice at subscription start): that invoice carries P1's in-advance fees too.
- **trials**: the part of a period covered by the trial is free: a fee covering a period that starts
  before the trial end is prorated by the second to the part after it (a period wholly inside the
  trial bills no fee). Usage during a trial is billed.
- fees are not prorated for a short first calendar period, nor for a cancellation mid-period.

Pending charges (prorations of an upgrade) are billed on the first invoice of a period that ends after
the charge was made: charges dated before the period end are consumed, later ones wait.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.catalog.plans import Fee, FeeTiming, PlanVersion
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain, round_money
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import Subscription, Transition

ZERO = Decimal(0)


CANCEL_AT_PERIOD_END = "CANCEL_AT_PERIOD_END"


def ends_with_period(sub: Subscription, history: list[Transition], period: Period, next_period: Period) -> bool:
    """True when nothing is billed in advance for ``next_period``: the subscription ends with ``period``.

    - cancelling at a period end: it ends at the end of the period in which the cancellation was
      requested (the history says when), whether or not the clock has applied it yet;
    - cancelled or expired: unless it lived to the end of ``next_period`` (a subscription cancelled
      during the next period before this one was billed gets no fee for it).
    """
    if sub.cancel_at_period_end:
        asked = [t.at for t in history if t.action == CANCEL_AT_PERIOD_END]
        return not asked or sub.period(max(asked)).end <= period.end
    return not sub.live and (sub.ended_at is None or sub.ended_at < next_period.end)


def fee_amount(fee: Fee, covered: Period, trial_end: datetime | None) -> Decimal:
    """The exact amount of ``fee`` for ``covered``, after the trial (prorated by the second)."""
    if trial_end is None or trial_end <= covered.start:
        return fee.amount
    if trial_end >= covered.end:
        return ZERO
    paying = Decimal((covered.end - trial_end).total_seconds())
    return fee.amount * paying / Decimal((covered.end - covered.start).total_seconds())


def _line(fee: Fee, version: PlanVersion, covered: Period, trial_end: datetime | None) -> InvoiceLine | None:
    exact = fee_amount(fee, covered, trial_end)
    if exact == 0 and fee.amount != 0:
        return None  # wholly inside the trial
    when = "in advance" if fee.timing is FeeTiming.IN_ADVANCE else "in arrears"
    return InvoiceLine(
        LineKind.FEE,
        f"{fee.name} ({when}, {covered.start.date().isoformat()} to {covered.end.date().isoformat()})",
        round_money(exact, version.currency),
        {
            "fee": fee.name,
            "timing": fee.timing.value,
            "unit_amount": plain(fee.amount),
            "covers": {"start": to_rfc3339(covered.start), "end": to_rfc3339(covered.end)},
            "plan_id": version.plan_id,
            "plan_version": version.version,
            **(
                {"trial_end": to_rfc3339(trial_end), "unrounded": plain(exact)}
                if exact != fee.amount and trial_end is not None
                else {}
            ),
        },
    )


def fee_lines(
    *,
    version: PlanVersion,
    period: Period,
    next_version: PlanVersion | None,
    next_period: Period | None,
    first_period: bool,
    trial_end: datetime | None,
) -> list[InvoiceLine]:
    """The recurring-fee lines of the period-end invoice of ``period`` (see the module docstring).

    ``next_version``/``next_period`` are None when the subscription ends with ``period``."""
    lines: list[InvoiceLine | None] = []
    for fee in version.content.fees:
        if fee.timing is FeeTiming.IN_ARREARS or first_period:
            lines.append(_line(fee, version, period, trial_end))
    if next_version is not None and next_period is not None:
        for fee in next_version.content.fees:
            if fee.timing is FeeTiming.IN_ADVANCE:
                lines.append(_line(fee, next_version, next_period, trial_end))
    return [ln for ln in lines if ln is not None]


def fees_covering(version: PlanVersion, period: Period, trial_end: datetime | None) -> Decimal:
    """Every recurring fee that covers ``period`` (whichever invoice carries it), rounded per fee:
    what the minimum commitment counts besides usage."""
    return sum((round_money(fee_amount(f, period, trial_end), version.currency) for f in version.content.fees), ZERO)


def due_charges(
    charges: tuple[tuple[str, str, str], ...], period_end: datetime
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Split pending charges into (billed now: dated before ``period_end``, kept for later)."""
    now: list[tuple[str, str, str]] = []
    later: list[tuple[str, str, str]] = []
    for charge in charges:
        (now if parse_rfc3339(charge[2]) < period_end else later).append(charge)
    return now, later


def charge_lines(charges: list[tuple[str, str, str]], currency: str) -> list[InvoiceLine]:
    """One line per pending charge, rounded once (a negative amount is a credit)."""
    return [
        InvoiceLine(
            LineKind.PRORATION,
            description,
            round_money(Decimal(amount), currency),
            {"unrounded": amount, "at": at},
        )
        for description, amount, at in charges
    ]


def minimum_commitment_line(
    minimum: Decimal | None, counted: Decimal, currency: str, period: Period
) -> InvoiceLine | None:
    """The true-up to the plan's minimum commitment for ``period``: minimum - what the period cost
    (its usage lines and the fees covering it), when that is short of the minimum."""
    if minimum is None or counted >= minimum:
        return None
    return InvoiceLine(
        LineKind.MINIMUM_COMMITMENT,
        f"Minimum commitment true-up ({period.start.date().isoformat()} to {period.end.date().isoformat()})",
        round_money(minimum - counted, currency),
        {"minimum_commitment": plain(minimum), "counted": plain(counted)},
    )
