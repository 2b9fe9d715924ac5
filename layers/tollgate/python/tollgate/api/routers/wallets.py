"""Prepaid wallets (one per customer and currency) and the tenant's billing settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.wallets import Wallet
from tollgate.usecases import invoicing

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]


class WalletIn(ApiModel):
    customer_id: str
    currency: str | None = Field(default=None, description="Default: the customer's currency.")
    initial_balance: str | None = Field(default=None, description='Decimal string, e.g. "100.00"')


class TopUpIn(ApiModel):
    amount: str = Field(description='Decimal string > 0, e.g. "50.00"')


class WalletOut(ApiModel):
    id: str
    customer_id: str
    currency: str
    balance: str
    created_at: str
    updated_at: str
    revision: int


class WalletList(PageFields):
    data: list[WalletOut]


def wallet_out(w: Wallet) -> WalletOut:
    data = w.to_json()
    data.pop("tenant_id")
    return WalletOut.model_validate(data)


@router.post(
    "/v1/wallets",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["wallets"],
    summary=(
        "Open a customer's prepaid wallet in a currency "
        "(customers with metadata.billing_mode=prepaid must be covered by it)"
    ),
    responses={201: {"description": "Created", "content": {"application/json": {"model": WalletOut}}}},
)
def create_wallet(body: WalletIn, caller: Caller_) -> Response[WalletOut]:
    wallet = invoicing.create_wallet(wiring.billing_repos(), caller.tenant_id, body.model_dump())
    return Response(201, "application/json", wallet_out(wallet))


@router.get(
    "/v1/wallets", openapi_extensions=requires(Permission.BILLING_READ), tags=["wallets"], summary="List wallets"
)
def list_wallets(
    caller: Caller_,
    customer_id: Annotated[str | None, Query()] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> WalletList:
    page = wiring.billing_repository().page_wallets(
        caller.tenant_id, customer_id=customer_id, limit=limit, cursor=starting_after
    )
    return WalletList(data=[wallet_out(w) for w in page.data], **page_fields(page))


@router.get(
    "/v1/wallets/<wallet_id>",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["wallets"],
    summary="Get a wallet",
)
def get_wallet(wallet_id: str, caller: Caller_) -> WalletOut:
    return wallet_out(invoicing.get_wallet(wiring.billing_repos(), caller.tenant_id, wallet_id))


@router.post(
    "/v1/wallets/<wallet_id>/top-up",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["wallets"],
    summary="Add prepaid credit",
)
def top_up_wallet(wallet_id: str, body: TopUpIn, caller: Caller_) -> WalletOut:
    return wallet_out(invoicing.top_up_wallet(wiring.billing_repos(), caller.tenant_id, wallet_id, body.amount))


# -- settings ---------------------------------------------------------------------------------------------


class TaxRateIn(ApiModel):
    name: str = Field(default="Tax", max_length=100)
    rate_percent: str = Field(description='Decimal string, e.g. "20" or "6.25"')


class TaxIn(ApiModel):
    mode: Literal["NONE", "EXCLUSIVE", "INCLUSIVE"] = "NONE"
    rates: list[TaxRateIn] = Field(default_factory=list)
    provider: str = Field(
        default="builtin", description='"builtin" (these rates) or an external engine this deployment registers'
    )
    timeout_seconds: str = Field(default="5", description="How long an external engine may take (seconds, at most 30)")


class BillingSettingsIn(ApiModel):
    sender_email: str | None = Field(
        default=None, description="Invoices are emailed from this address (verified with the email provider)"
    )
    sender_name: str = Field(default="", max_length=200)
    tax: TaxIn = Field(default_factory=TaxIn)
    payment_terms_days: int = Field(default=0, ge=0, le=365, description="Days from finalization to the due date")
    invoice_grace_period_days: int = Field(
        default=0, ge=0, le=365, description="Days an invoice of a closed period stays DRAFT (late usage added)"
    )
    legal_name: str = Field(default="", max_length=200, description="Who issues the invoices (printed on the PDF)")
    address: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=6, description="The issuer's postal address, one line each (on the PDF)"
    )


class BillingSettingsOut(ApiModel):
    sender_email: str | None
    sender_name: str
    tax: dict[str, Any]
    payment_terms_days: int
    invoice_grace_period_days: int
    legal_name: str
    address: list[str]
    updated_at: str | None
    revision: int


def settings_out(s: BillingSettings) -> BillingSettingsOut:
    return BillingSettingsOut.model_validate(s.to_json())


@router.get(
    "/v1/settings/billing",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["settings"],
    summary="Billing settings (Settings -> Finance): invoice sender, tax, payment terms",
)
def get_billing_settings(caller: Caller_) -> BillingSettingsOut:
    return settings_out(invoicing.get_billing_settings(wiring.billing_repos(), caller.tenant_id))


@router.put(
    "/v1/settings/billing",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["settings"],
    summary="Replace the billing settings (a new sender is submitted for verification)",
)
def put_billing_settings(body: BillingSettingsIn, caller: Caller_) -> BillingSettingsOut:
    return settings_out(
        invoicing.put_billing_settings(wiring.billing_repos(), caller.tenant_id, body.model_dump(mode="json"))
    )
