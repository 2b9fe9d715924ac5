"""Prepaid wallets: a customer's prepaid balance in one currency, burnt when invoices are finalized.

- One wallet per customer and currency (its id is derived from both); ``top_up`` adds to it.
- At finalization the wallet pays what it can of the invoice's total (after credit notes and tax).
- A **prepaid customer** (``metadata.billing_mode == "prepaid"`` on the customer) must be covered in
  full: if the wallet cannot pay the whole total, billing fails with WALLET_INSUFFICIENT_FUNDS and
  nothing is written (no invoice, no burn); top the wallet up and re-run. For other customers the
  wallet covers what it can and the rest is due.
- Every balance change is conditional on the wallet's revision, so two bills never burn the same money.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.errors import WalletInsufficientFunds
from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import InvalidInput
from tollgate.domain.ids import deterministic_id
from tollgate.domain.money import minor_units, plain, round_money, to_decimal

ZERO = Decimal(0)
BILLING_MODE_KEY = "billing_mode"
PREPAID = "prepaid"


def is_prepaid(customer: Customer) -> bool:
    return customer.metadata.get(BILLING_MODE_KEY, "").lower() == PREPAID


def wallet_id_for(tenant_id: str, customer_id: str, currency: str) -> str:
    return deterministic_id("wal", tenant_id, customer_id, currency)


@dataclass(frozen=True)
class Wallet:
    wallet_id: str
    tenant_id: str
    customer_id: str
    currency: str
    balance: Decimal
    created_at: datetime
    updated_at: datetime
    revision: int = 1

    def topped_up(self, amount: Decimal, at: datetime) -> Wallet:
        return replace(self, balance=self.balance + amount, updated_at=at, revision=self.revision + 1)

    def burnt(self, amount: Decimal, at: datetime) -> Wallet:
        return replace(self, balance=self.balance - amount, updated_at=at, revision=self.revision + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.wallet_id,
            "tenant_id": self.tenant_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "balance": plain(self.balance),
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Wallet:
        return cls(
            wallet_id=d["id"],
            tenant_id=d["tenant_id"],
            customer_id=d["customer_id"],
            currency=d["currency"],
            balance=Decimal(str(d["balance"])),
            created_at=parse_rfc3339(d["created_at"]),
            updated_at=parse_rfc3339(d["updated_at"]),
            revision=int(d.get("revision") or 1),
        )


def top_up_amount(value: Any, currency: str) -> Decimal:
    """A top-up: a decimal string > 0 with no more decimals than the currency has."""
    amount = to_decimal(value, "amount")
    if amount <= 0:
        raise InvalidInput("amount must be greater than 0", field="amount")
    if round_money(amount, currency) != amount:
        raise InvalidInput(f"amount has more decimals than {currency} has ({minor_units(currency)})", field="amount")
    return amount


def apply_wallet(
    wallet: Wallet | None, total: Decimal, *, prepaid: bool, invoice_id: str, at: datetime
) -> tuple[InvoiceLine | None, Wallet | None]:
    """What the wallet pays of ``total``: (the negative wallet line or None, the wallet after the burn
    or None when untouched). Raises WalletInsufficientFunds for a prepaid customer it cannot cover."""
    balance = wallet.balance if wallet else ZERO
    if prepaid and total > balance:
        raise WalletInsufficientFunds(
            f"Prepaid customer: the invoice total is {plain(total)} but the wallet holds {plain(balance)}"
            + (f" ({wallet.wallet_id})" if wallet else " (no wallet in this currency)")
            + "; top the wallet up (POST /v1/wallets/{id}/top-up) and re-run the bill.",
            balance=plain(balance),
            required=plain(total),
        )
    if wallet is None or total <= 0 or balance <= 0:
        return None, None
    take = min(balance, total)
    line = InvoiceLine(
        LineKind.WALLET, "Paid from prepaid wallet", -take, {"wallet_id": wallet.wallet_id, "invoice_id": invoice_id}
    )
    return line, wallet.burnt(take, at)
