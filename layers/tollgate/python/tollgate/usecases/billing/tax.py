"""Calling the tenant's tax provider between the pre-tax and post-tax stages, with its timeout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from tollgate.domain.billing.errors import BillingFailure, TaxCalculationFailed
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import BUILTIN, TaxRequest, TaxResult
from tollgate.usecases.billing.repos import BillingRepos

_TAX_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tax-provider")


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
    future = _TAX_POOL.submit(provider.calculate, request, timeout)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} did not answer within {timeout:g}s; {retry}"
        ) from None
    except BillingFailure:
        raise
    except Exception as exc:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} failed ({type(exc).__name__}: {str(exc)[:200]}); {retry}"
        ) from exc
