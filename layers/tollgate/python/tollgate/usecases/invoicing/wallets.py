"""Prepaid wallets (``tollgate.domain.billing.wallets``): one per customer and currency; top-ups are
conditional on the wallet's revision (a lost race is retried)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.domain.billing.events import wallet_event
from tollgate.domain.billing.wallets import Wallet, top_up_amount, wallet_id_for
from tollgate.domain.errors import Conflict, NotFound
from tollgate.domain.money import minor_units, plain
from tollgate.domain.retry import retry_on_conflict
from tollgate.usecases.billing import BillingRepos

ZERO = Decimal(0)


def create_wallet(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> Wallet:
    """``{"customer_id", "currency"? (default: the customer's), "initial_balance"?}``."""
    customer_id = data.get("customer_id")
    customer = repos.customers.get(tenant_id, customer_id) if customer_id else None
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    currency = data.get("currency") or customer.currency
    minor_units(currency)
    now = repos.clock()
    wallet_id = wallet_id_for(tenant_id, customer.customer_id, currency)
    if repos.wallets.get_wallet(tenant_id, wallet_id) is not None:
        raise Conflict(
            f"Customer {customer.customer_id} already has a {currency} wallet ({wallet_id}): top it up "
            f"(POST /v1/wallets/{wallet_id}/top-up).",
            code="WALLET_EXISTS",
        )
    initial = (
        ZERO if data.get("initial_balance") in (None, "0", 0) else top_up_amount(data["initial_balance"], currency)
    )
    wallet = Wallet(wallet_id, tenant_id, customer.customer_id, currency, initial, now, now)
    repos.wallets.save_wallet(wallet, None, [wallet_event("wallet.created", wallet, now)])
    return wallet


def get_wallet(repos: BillingRepos, tenant_id: str, wallet_id: str) -> Wallet:
    wallet = repos.wallets.get_wallet(tenant_id, wallet_id)
    if wallet is None:
        raise NotFound(f"Wallet not found: {wallet_id}.")
    return wallet


def top_up_wallet(repos: BillingRepos, tenant_id: str, wallet_id: str, amount: Any) -> Wallet:
    def top_up() -> Wallet:
        wallet = get_wallet(repos, tenant_id, wallet_id)
        value = top_up_amount(amount, wallet.currency)
        now = repos.clock()
        topped = wallet.topped_up(value, now)
        event = wallet_event("wallet.topped_up", topped, now, amount=plain(value))
        repos.wallets.save_wallet(topped, wallet.revision, [event])
        return topped

    return retry_on_conflict(top_up, exhausted=f"Wallet {wallet_id} kept changing; retry.")
