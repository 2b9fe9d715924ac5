"""The keys of the main, usage and events tables, built in one place: one small function per key,
grouped by noun.

Every key of a tenant's data starts with ``T#<tenant>``. A ``*_key`` function returns the item's
``{"pk", "sk"}``; ``*_pk`` / ``*_sk`` / ``*_prefix`` functions give partition keys, sort keys and
sort-key prefixes for queries. Which item lives where is tabled in each adapter's docstring. Stored keys
never change shape: ``tests/unit/test_table_keys.py`` pins them.
"""

from __future__ import annotations

from datetime import datetime

from tollgate.adapters.dynamodb.shards import KEY_SHARDS as KEY_SHARDS  # re-exported with the keys
from tollgate.adapters.dynamodb.shards import all_shards as all_shards
from tollgate.adapters.dynamodb.shards import key_shard, sharded
from tollgate.domain.clock import to_rfc3339

Key = dict[str, str]

# -- tenant -----------------------------------------------------------------------------------------

TENANTS_GSI1PK = "TENANTS"  # gsi1 lists every tenant


def tenant_pk(tenant_id: str) -> str:
    """The partition holding a tenant's catalog, customers, subscriptions, billing and migrations."""
    return f"T#{tenant_id}"


def tenant_key(tenant_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": "TENANT"}


# -- API keys ---------------------------------------------------------------------------------------


def api_key_key(key_hash: str) -> Key:
    """An API key is found by the SHA-256 of its secret (authentication reads this item)."""
    return {"pk": f"KEY#{key_hash}", "sk": "KEY"}


def tenant_api_keys_gsi1pk(tenant_id: str) -> str:
    """gsi1 lists a tenant's API keys (gsi1sk: the key id)."""
    return f"T#{tenant_id}#KEYS"


def role_keys_gsi2pk(tenant_id: str, role: str) -> str:
    """gsi2 lists a tenant's operator keys of one role (gsi2sk: the key id): finding the other OWNER
    keys reads those, not every customer key of the tenant."""
    return f"T#{tenant_id}#ROLEKEYS#{role}"


def subscription_keys_gsi2pk(tenant_id: str, subscription_id: str) -> str:
    """gsi2 lists the customer API keys bound to one subscription (gsi2sk: the key id), so reading a
    subscription's keys is one small Query, not a walk over every key of the tenant."""
    return f"T#{tenant_id}#SUBKEYS#{subscription_id}"


# -- outbox and event log ---------------------------------------------------------------------------


def outbox_key(tenant_id: str, occurred_at: datetime, event_id: str) -> Key:
    """Time and id of the event: a deterministic event recorded twice is recorded once. Sharded by id."""
    return {
        "pk": sharded(f"T#{tenant_id}#OUTBOX", key_shard(tenant_id, event_id)),
        "sk": f"{to_rfc3339(occurred_at)}#{event_id}",
    }


def event_log_pk(tenant_id: str) -> str:
    """Shard 0 of the tenant's event log (``all_shards`` of it: every shard)."""
    return sharded(f"T#{tenant_id}#EVENTLOG", 0)


def event_log_key(tenant_id: str, occurred_at: datetime, event_id: str) -> Key:
    return {
        "pk": sharded(f"T#{tenant_id}#EVENTLOG", key_shard(tenant_id, event_id)),
        "sk": f"{to_rfc3339(occurred_at)}#{event_id}",
    }


# -- customers --------------------------------------------------------------------------------------

CUSTOMER_PREFIX = "CUSTOMER#"


def customer_key(tenant_id: str, customer_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{CUSTOMER_PREFIX}{customer_id}"}


def customer_external_id_key(tenant_id: str, external_id: str) -> Key:
    """The guard item that makes a customer's external id unique in the tenant."""
    return {"pk": tenant_pk(tenant_id), "sk": f"CUSTOMER_EXT#{external_id}"}


# -- subscriptions ----------------------------------------------------------------------------------

SUBSCRIPTION_PREFIX = "SUB#"
DUE_TRANSITIONS_PK = "DUE_TRANSITIONS"  # timed moves of every tenant, by due time (KEY_SHARDS keys)


def subscription_key(tenant_id: str, subscription_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{SUBSCRIPTION_PREFIX}{subscription_id}"}


def subscription_external_id_key(tenant_id: str, external_id: str) -> Key:
    """The guard item that makes a subscription's external id unique in the tenant."""
    return {"pk": tenant_pk(tenant_id), "sk": f"SUB_EXT#{external_id}"}


def subscription_history_pk(tenant_id: str, subscription_id: str) -> str:
    return f"T#{tenant_id}#SUBHIST#{subscription_id}"


def subscription_history_sk(at: datetime, version: int, n: int) -> str:
    return f"{to_rfc3339(at)}#{version:06d}#{n}"


def customer_subscriptions_gsi1pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#CUSTSUBS#{customer_id}"


def billing_due_gsi2pk(tenant_id: str, subscription_id: str) -> str:
    """Subscriptions by the end of their next billing period (sparse; sharded: every invoice moves one)."""
    return sharded(f"T#{tenant_id}#BILLDUE", key_shard(tenant_id, subscription_id))


def billing_due_gsi2sk(period_end: datetime, subscription_id: str) -> str:
    return f"{to_rfc3339(period_end)}#{subscription_id}"


def due_until(until: datetime) -> str:
    """The sort-key bound of what is due at or before ``until`` (due transitions, the billing-due index)."""
    return f"{to_rfc3339(until)}#~"


def due_transition_marker(at: datetime, tenant_id: str, subscription_id: str, action: str) -> str:
    """The sort key of a timed move: due time first, so the clock queries the moves due by now."""
    return f"{to_rfc3339(at)}#{tenant_id}#{subscription_id}#{action}"


def due_transition_key(marker: str) -> Key:
    """Sharded by tenant and subscription (read from the marker): the clock queries every shard."""
    _, tenant_id, subscription_id, _ = marker.split("#")
    return {"pk": sharded(DUE_TRANSITIONS_PK, key_shard(tenant_id, subscription_id)), "sk": marker}


# -- products ---------------------------------------------------------------------------------------

PRODUCT_PREFIX = "PRODUCT#"


def product_key(tenant_id: str, product_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{PRODUCT_PREFIX}{product_id}"}


# -- meters -----------------------------------------------------------------------------------------

METER_PREFIX = "METER#"


def meter_key(tenant_id: str, meter_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{METER_PREFIX}{meter_id}"}


def meter_event_gsi1pk(tenant_id: str, event_name: str) -> str:
    """gsi1 groups a tenant's meters by case-folded event name."""
    return f"T#{tenant_id}#METER_EVENT#{event_name.casefold()}"


def meter_event_claim_key(tenant_id: str, event_name: str) -> Key:
    """The claim that makes an event name unique among a tenant's ACTIVE meters."""
    return {"pk": tenant_pk(tenant_id), "sk": f"METER_EVENT#{event_name}"}


# -- plans and plan versions ------------------------------------------------------------------------

PLAN_PREFIX = "PLAN#"


def plan_key(tenant_id: str, plan_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{PLAN_PREFIX}{plan_id}"}


def plan_versions_prefix(plan_id: str) -> str:
    """Zero-padded version numbers, so a ``begins_with`` query returns versions in order."""
    return f"PLANVER#{plan_id}#"


def plan_version_key(tenant_id: str, plan_id: str, version: int) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{plan_versions_prefix(plan_id)}{version:010d}"}


# -- bulk migrations --------------------------------------------------------------------------------


def migration_lock_key(tenant_id: str) -> Key:
    """At most one bulk migration runs per tenant: this item holds its id."""
    return {"pk": tenant_pk(tenant_id), "sk": "MIGRATION_LOCK"}


def migration_key(tenant_id: str, migration_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"MIGRATION#{migration_id}"}


def migration_result_key(tenant_id: str, migration_id: str, subscription_id: str) -> Key:
    return {"pk": migration_results_pk(tenant_id, migration_id), "sk": f"RESULT#{subscription_id}"}


def migration_results_pk(tenant_id: str, migration_id: str) -> str:
    return f"T#{tenant_id}#MIGRATION#{migration_id}"


# -- bill runs --------------------------------------------------------------------------------------


def bill_run_key(tenant_id: str, bill_run_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"BILLRUN#{bill_run_id}"}


def bill_runs_gsi1pk(tenant_id: str) -> str:
    """gsi1 lists a tenant's bill runs (gsi1sk: created at, then id)."""
    return f"T#{tenant_id}#BILLRUNS"


def bill_runs_gsi1sk(created_at: datetime, bill_run_id: str) -> str:
    return f"{to_rfc3339(created_at)}#{bill_run_id}"


def bill_run_results_pk(tenant_id: str, bill_run_id: str) -> str:
    return f"T#{tenant_id}#BILLRUN#{bill_run_id}"


def bill_run_result_key(tenant_id: str, bill_run_id: str, subscription_id: str) -> Key:
    return {"pk": bill_run_results_pk(tenant_id, bill_run_id), "sk": f"{SUBSCRIPTION_PREFIX}{subscription_id}"}


# -- invoices and invoice deliveries ----------------------------------------------------------------

INVOICE_PREFIX = "INV#"


def invoice_key(tenant_id: str, invoice_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{INVOICE_PREFIX}{invoice_id}"}


def customer_invoices_gsi1pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#CUSTINV#{customer_id}"


def customer_invoices_gsi1sk(period_start: datetime, invoice_id: str) -> str:
    return f"{to_rfc3339(period_start)}#{invoice_id}"


def invoice_delivery_key(tenant_id: str, invoice_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"INVSEND#{invoice_id}"}


# -- credit notes -----------------------------------------------------------------------------------

CREDIT_NOTE_PREFIX = "CN#"


def credit_note_key(tenant_id: str, credit_note_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{CREDIT_NOTE_PREFIX}{credit_note_id}"}


def customer_credit_notes_gsi1pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#CUSTCN#{customer_id}"


def customer_credit_notes_gsi1sk(created_at: datetime, credit_note_id: str) -> str:
    return f"{to_rfc3339(created_at)}#{credit_note_id}"


# -- wallets ----------------------------------------------------------------------------------------

WALLET_PREFIX = "WALLET#"


def wallet_key(tenant_id: str, wallet_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{WALLET_PREFIX}{wallet_id}"}


def customer_wallets_gsi1pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#CUSTWAL#{customer_id}"


# -- coupons ----------------------------------------------------------------------------------------

COUPON_PREFIX = "COUPON#"


def coupon_key(tenant_id: str, coupon_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{COUPON_PREFIX}{coupon_id}"}


# -- settings (billing, payments, ingestion) and payment webhooks -----------------------------------


def billing_settings_key(tenant_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": "BILLING_SETTINGS"}


def payment_settings_key(tenant_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": "PAYMENT_SETTINGS"}


def ingest_settings_key(tenant_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": "INGEST_SETTINGS"}


def tenant_rate_limit_key(tenant_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": "API_RATE_LIMIT"}


def webhook_event_key(tenant_id: str, event_id: str) -> Key:
    """The marker of a payment provider's webhook event, written once per provider event id."""
    return {"pk": tenant_pk(tenant_id), "sk": f"WEBHOOK#{event_id}"}


# == the usage table ================================================================================

# -- usage buckets (and their distinct-value histogram entries) -------------------------------------


def usage_bucket_pk(tenant_id: str, customer_id: str, meter_id: str) -> str:
    return f"T#{tenant_id}#U#{customer_id}#{meter_id}"


def usage_bucket_sk(hour: str) -> str:
    return f"H#{hour}"


def histogram_sk(hour: str, previous: str, shard: str) -> str:
    """A distinct-value histogram entry sorts right after its hour's bucket."""
    return f"{usage_bucket_sk(hour)}#P#{previous}#{shard}"


# -- distinct values (UNIQUE_COUNT) -----------------------------------------------------------------


def distinct_value_pk(tenant_id: str, customer_id: str, meter_id: str, shard: str) -> str:
    return f"T#{tenant_id}#DV#{customer_id}#{meter_id}#{shard}"


def distinct_months_prefix(tenant_id: str) -> str:
    return f"T#{tenant_id}#DM#"


def distinct_month_pk(tenant_id: str, customer_id: str, meter_id: str, month: str) -> str:
    return f"{distinct_months_prefix(tenant_id)}{customer_id}#{meter_id}#{month}"


# -- ingestion rate counters ------------------------------------------------------------------------


def rate_counter_key(tenant_id: str, window_start: int, shard: int, counter: str = "RATE") -> Key:
    """A shard of a tenant's rate counter for a window: RATE (ingested events), APIRATE (API requests)."""
    return {"pk": sharded(f"T#{tenant_id}#{counter}", shard), "sk": str(window_start)}


# -- the aggregator's per-partition watermarks (the bill run waits for them) ------------------------


def usage_watermarks_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WM"


def watermark_probe_sk(cutoff: str) -> str:
    """The probe written into each event partition for a bill run's cutoff (fixed-width time text)."""
    return f"~WM#{cutoff}"


# == the events table ===============================================================================

# -- raw usage events -------------------------------------------------------------------------------


def usage_event_pk(tenant_id: str, shard: int) -> str:
    return f"T#{tenant_id}#EV#{shard:02d}"


def tenant_of_usage_event_pk(pk: str) -> str:
    return pk[2 : pk.rindex("#EV#")]
