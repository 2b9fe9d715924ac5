"""Calling the tenant's tax provider between the pre-tax and post-tax stages, with its timeout.

Each external call runs on a thread of its own, and the caller waits at most the timeout. A thread cannot
be stopped, so a provider that hangs keeps its thread until it answers: at most ``MAX_IN_FLIGHT`` calls
to one provider may be outstanding at once (per process; other providers are not affected). Past that a
call fails at once with TAX_CALCULATION_FAILED naming the cause, and calls work again as soon as the
hung ones return. (A fixed pool of 4 workers jammed after four hung calls: every later call queued
behind them and timed out.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from tollgate.domain.billing.errors import BillingFailure, TaxCalculationFailed
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import BUILTIN, TaxRequest, TaxResult
from tollgate.usecases.billing.repos import BillingRepos

MAX_IN_FLIGHT = 16
_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slots_of(provider: str) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(provider, threading.BoundedSemaphore(MAX_IN_FLIGHT))


T = TypeVar("T")


class _Saturated(Exception):
    """MAX_IN_FLIGHT calls are still outstanding."""


class _TimedOut(Exception):
    """The call did not answer within the timeout (its thread goes on until it does)."""


def _call(fn: Callable[[], T], timeout: float, slots: threading.BoundedSemaphore) -> T:
    """``fn()`` on a daemon thread of its own, waiting at most ``timeout`` seconds for its answer."""
    if not slots.acquire(blocking=False):
        raise _Saturated
    done = threading.Event()
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            values.append(fn())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)
        finally:
            slots.release()
            done.set()

    try:
        threading.Thread(target=run, name="tax-provider", daemon=True).start()
    except BaseException:
        slots.release()
        raise
    if not done.wait(timeout):
        raise _TimedOut
    if errors:
        raise errors[0]
    return values[0]


def calculate_tax(repos: BillingRepos, settings: BillingSettings, request: TaxRequest) -> TaxResult:
    """The provider's answer; TAX_CALCULATION_FAILED when it is not deployed, times out or fails."""
    provider = repos.tax_provider(settings.tax_provider)
    if provider is None:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} is not available in this deployment; "
            "choose another in PUT /v1/settings/billing."
        )
    if settings.tax_provider == BUILTIN:
        return provider.calculate(request, settings.tax_timeout_seconds)
    timeout = settings.tax_timeout_seconds
    retry = f"retry the invoice (POST /v1/invoices/{request.invoice_id}/retry)."
    try:
        return _call(lambda: provider.calculate(request, timeout), timeout, _slots_of(settings.tax_provider))
    except _Saturated:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} has {MAX_IN_FLIGHT} calls still unanswered; "
            f"nothing more is sent to it until they return: {retry}"
        ) from None
    except _TimedOut:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} did not answer within {timeout:g}s; {retry}"
        ) from None
    except BillingFailure:
        raise
    except Exception as exc:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} failed ({type(exc).__name__}: {str(exc)[:200]}); {retry}"
        ) from exc
