"""What happens to invoices after billing, and the accounts around them. The modules, by noun:

- ``lifecycle``: listing, voiding, marking paid or uncollectible;
- ``credit_notes``: credit notes against issued invoices;
- ``wallets``: prepaid wallets and their top-ups;
- ``settings``: the tenant's billing settings (sender, tax, payment terms).
"""

from __future__ import annotations

from tollgate.usecases.invoicing.credit_notes import CREDITABLE, create_credit_note, get_credit_note
from tollgate.usecases.invoicing.lifecycle import list_invoices, mark_paid, mark_uncollectible, void_invoice
from tollgate.usecases.invoicing.settings import get_billing_settings, put_billing_settings
from tollgate.usecases.invoicing.wallets import create_wallet, get_wallet, top_up_wallet

__all__ = [
    "CREDITABLE",
    "create_credit_note",
    "create_wallet",
    "get_billing_settings",
    "get_credit_note",
    "get_wallet",
    "list_invoices",
    "mark_paid",
    "mark_uncollectible",
    "put_billing_settings",
    "top_up_wallet",
    "void_invoice",
]
