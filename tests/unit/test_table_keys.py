"""The stored keys of every noun, pinned byte for byte: keys.py is the one place that builds them, and a
refactor that changed one would orphan every item already stored under the old key."""

from datetime import UTC, datetime

import pytest

from tollgate.adapters.dynamodb import gateway_keys as gk
from tollgate.adapters.dynamodb import gateway_link_keys as glk
from tollgate.adapters.dynamodb import ingest_log_keys as lk
from tollgate.adapters.dynamodb import integration_keys as ik
from tollgate.adapters.dynamodb import keys as k
from tollgate.adapters.dynamodb import webhook_keys as wk

AT = datetime(2026, 4, 17, 10, 0, tzinfo=UTC)

PINNED = [
    # tenants and API keys
    (k.tenant_pk("ten_1"), "T#ten_1"),
    (k.tenant_key("ten_1"), {"pk": "T#ten_1", "sk": "TENANT"}),
    (k.TENANTS_GSI1PK, "TENANTS"),
    (k.api_key_key("abc123"), {"pk": "KEY#abc123", "sk": "KEY"}),
    (k.tenant_api_keys_gsi1pk("ten_1"), "T#ten_1#KEYS"),
    (k.role_keys_gsi2pk("ten_1", "OWNER"), "T#ten_1#ROLEKEYS#OWNER"),
    (k.subscription_keys_gsi2pk("ten_1", "sub_1"), "T#ten_1#SUBKEYS#sub_1"),
    # outbox and event log
    (k.outbox_key("ten_1", AT, "evt_1"), {"pk": "T#ten_1#OUTBOX#07", "sk": "2026-04-17T10:00:00Z#evt_1"}),
    (k.event_log_key("ten_1", AT, "evt_1"), {"pk": "T#ten_1#EVENTLOG#07", "sk": "2026-04-17T10:00:00Z#evt_1"}),
    # customers
    (k.customer_key("ten_1", "cus_1"), {"pk": "T#ten_1", "sk": "CUSTOMER#cus_1"}),
    (k.customer_external_id_key("ten_1", "ext-1"), {"pk": "T#ten_1", "sk": "CUSTOMER_EXT#ext-1"}),
    # subscriptions and their timed moves
    (k.subscription_key("ten_1", "sub_1"), {"pk": "T#ten_1", "sk": "SUB#sub_1"}),
    (k.subscription_external_id_key("ten_1", "ext-1"), {"pk": "T#ten_1", "sk": "SUB_EXT#ext-1"}),
    (k.subscription_history_pk("ten_1", "sub_1"), "T#ten_1#SUBHIST#sub_1"),
    (k.subscription_history_sk(AT, 4, 1), "2026-04-17T10:00:00Z#000004#1"),
    (k.customer_subscriptions_gsi1pk("ten_1", "cus_1"), "T#ten_1#CUSTSUBS#cus_1"),
    (k.billing_due_gsi2pk("ten_1", "sub_1"), "T#ten_1#BILLDUE#13"),
    (k.billing_due_gsi2sk(AT, "sub_1"), "2026-04-17T10:00:00Z#sub_1"),
    (k.due_until(AT), "2026-04-17T10:00:00Z#~"),
    (k.due_transition_marker(AT, "ten_1", "sub_1", "CANCEL"), "2026-04-17T10:00:00Z#ten_1#sub_1#CANCEL"),
    (
        k.due_transition_key("2026-04-17T10:00:00Z#ten_1#sub_1#CANCEL"),
        {"pk": "DUE_TRANSITIONS#13", "sk": "2026-04-17T10:00:00Z#ten_1#sub_1#CANCEL"},
    ),
    # catalog
    (k.product_key("ten_1", "prod_1"), {"pk": "T#ten_1", "sk": "PRODUCT#prod_1"}),
    (k.meter_key("ten_1", "mtr_1"), {"pk": "T#ten_1", "sk": "METER#mtr_1"}),
    (k.meter_event_gsi1pk("ten_1", "API_Calls"), "T#ten_1#METER_EVENT#api_calls"),
    (k.meter_event_claim_key("ten_1", "api_calls"), {"pk": "T#ten_1", "sk": "METER_EVENT#api_calls"}),
    (k.plan_key("ten_1", "pln_1"), {"pk": "T#ten_1", "sk": "PLAN#pln_1"}),
    (k.plan_version_key("ten_1", "pln_1", 3), {"pk": "T#ten_1", "sk": "PLANVER#pln_1#0000000003"}),
    # migrations
    (k.migration_lock_key("ten_1"), {"pk": "T#ten_1", "sk": "MIGRATION_LOCK"}),
    (k.migration_key("ten_1", "mig_1"), {"pk": "T#ten_1", "sk": "MIGRATION#mig_1"}),
    (k.migration_result_key("ten_1", "mig_1", "sub_1"), {"pk": "T#ten_1#MIGRATION#mig_1", "sk": "RESULT#sub_1"}),
    # bill runs
    (k.bill_run_key("ten_1", "br_1"), {"pk": "T#ten_1", "sk": "BILLRUN#br_1"}),
    (k.bill_runs_gsi1pk("ten_1"), "T#ten_1#BILLRUNS"),
    (k.bill_runs_gsi1sk(AT, "br_1"), "2026-04-17T10:00:00Z#br_1"),
    (k.bill_run_result_key("ten_1", "br_1", "sub_1"), {"pk": "T#ten_1#BILLRUN#br_1", "sk": "SUB#sub_1"}),
    # invoices, credit notes, wallets, coupons
    (k.invoice_key("ten_1", "inv_1"), {"pk": "T#ten_1", "sk": "INV#inv_1"}),
    (k.customer_invoices_gsi1pk("ten_1", "cus_1"), "T#ten_1#CUSTINV#cus_1"),
    (k.customer_invoices_gsi1sk(AT, "inv_1"), "2026-04-17T10:00:00Z#inv_1"),
    (k.invoice_delivery_key("ten_1", "inv_1"), {"pk": "T#ten_1", "sk": "INVSEND#inv_1"}),
    (k.credit_note_key("ten_1", "cn_1"), {"pk": "T#ten_1", "sk": "CN#cn_1"}),
    (k.customer_credit_notes_gsi1pk("ten_1", "cus_1"), "T#ten_1#CUSTCN#cus_1"),
    (k.customer_credit_notes_gsi1sk(AT, "cn_1"), "2026-04-17T10:00:00Z#cn_1"),
    (k.wallet_key("ten_1", "wal_1"), {"pk": "T#ten_1", "sk": "WALLET#wal_1"}),
    (k.customer_wallets_gsi1pk("ten_1", "cus_1"), "T#ten_1#CUSTWAL#cus_1"),
    (k.coupon_key("ten_1", "SPRING"), {"pk": "T#ten_1", "sk": "COUPON#SPRING"}),
    # settings and webhooks
    (k.billing_settings_key("ten_1"), {"pk": "T#ten_1", "sk": "BILLING_SETTINGS"}),
    (k.payment_settings_key("ten_1"), {"pk": "T#ten_1", "sk": "PAYMENT_SETTINGS"}),
    (k.ingest_settings_key("ten_1"), {"pk": "T#ten_1", "sk": "INGEST_SETTINGS"}),
    (k.tenant_rate_limit_key("ten_1"), {"pk": "T#ten_1", "sk": "API_RATE_LIMIT"}),
    (k.webhook_event_key("ten_1", "evt_9"), {"pk": "T#ten_1", "sk": "WEBHOOK#evt_9"}),
    (wk.webhook_key("ten_1", wk.WEBHOOK_ENDPOINT, "we_1"), {"pk": "T#ten_1", "sk": "WHEP#we_1"}),
    (wk.webhook_key("ten_1", wk.WEBHOOK_DELIVERY, "whdlv_1"), {"pk": "T#ten_1", "sk": "WHDLV#whdlv_1"}),
    (wk.webhook_log_pk("ten_1", "we_1"), "T#ten_1#WHEP#we_1"),
    (wk.webhook_log_sk(wk.WEBHOOK_ATTEMPT_PREFIX, AT, "whdlv_1", "03"), "ATT#2026-04-17T10:00:00.000000Z#whdlv_1#03"),
    (wk.webhook_log_sk(wk.WEBHOOK_FAILED_PREFIX, AT, "whdlv_1"), "FAIL#2026-04-17T10:00:00.000000Z#whdlv_1"),
    # gateway integrations (the credentials' secret is named like the key)
    (ik.integration_key("ten_1", "intg_1"), {"pk": "T#ten_1", "sk": "INTEG#intg_1"}),
    (ik.integration_secret_name("ten_1", "intg_1"), "tollgate/ten_1/integrations/intg_1"),
    # the usage table
    (k.usage_bucket_pk("ten_1", "cus_1", "mtr_1"), "T#ten_1#U#cus_1#mtr_1"),
    (k.usage_bucket_sk("2026-04-17T10"), "H#2026-04-17T10"),
    (k.histogram_sk("2026-04-17T10", "2026-04-16T09", "a"), "H#2026-04-17T10#P#2026-04-16T09#a"),
    (k.distinct_value_pk("ten_1", "cus_1", "mtr_1", "f"), "T#ten_1#DV#cus_1#mtr_1#f"),
    (k.distinct_month_pk("ten_1", "cus_1", "mtr_1", "2026-04"), "T#ten_1#DM#cus_1#mtr_1#2026-04"),
    (k.rate_counter_key("ten_1", 1776420000, 3), {"pk": "T#ten_1#RATE#03", "sk": "1776420000"}),
    (k.rate_counter_key("ten_1", 1776420000, 0, "APIRATE"), {"pk": "T#ten_1#APIRATE#00", "sk": "1776420000"}),
    # the events table
    (k.usage_event_pk("ten_1", 7), "T#ten_1#EV#07"),
    (k.tenant_of_usage_event_pk("T#ten_1#EV#07"), "ten_1"),
    (lk.ingest_log_pk("ten_1", "2026-04-17T10", "req_1"), "T#ten_1#LOG#2026-04-17T10#12"),
    (lk.ingest_log_sk("2026-04-17T10:00:00.000000Z", "req_1", 3), "2026-04-17T10:00:00.000000Z#req_1#0003"),
    (lk.ingest_index_pk("ten_1", "2026-04-17T10", "req_1"), "T#ten_1#IDX#2026-04-17T10#12"),
    (
        k.all_shards("T#ten_1#IDX#2026-04-17T10#12")[::15],
        ["T#ten_1#IDX#2026-04-17T10#00", "T#ten_1#IDX#2026-04-17T10#15"],
    ),
    (
        lk.ingest_index_sk("cus_1", "mtr_1", "2026-04-17T10:00:00.000000Z", "req_1"),
        "cus_1#mtr_1#2026-04-17T10:00:00.000000Z#req_1",
    ),
    (lk.ingest_index_prefix("cus_1"), "cus_1#"),
    (lk.ingest_index_prefix("cus_1", "mtr_1"), "cus_1#mtr_1#"),
    # gateway enforcement (adapters/dynamodb/gateway_keys.py)
    (gk.gateway_policy_key("ten_1", "pol_1"), {"pk": "T#ten_1", "sk": "GWPOLICY#pol_1"}),
    (gk.access_snapshot_key("abc123"), {"pk": "KEY#abc123", "sk": "ACCESS"}),
    (gk.customer_access_keys_key("ten_1", "cus_1"), {"pk": "T#ten_1", "sk": "GWKEYS#cus_1"}),
    (gk.gateway_counter_key("ten_1", "sub_1", "api", "P"), {"pk": "T#ten_1#GWCOUNT#sub_1", "sk": "api#P"}),
    (
        gk.gateway_giveback_key("ten_1", "sub_1", "req_1", "api"),
        {"pk": "T#ten_1#GWCOUNT#sub_1", "sk": "GIVEBACK#req_1#api"},
    ),
    (gk.gateway_rate_key("ten_1", "sub_1", 60), {"pk": "T#ten_1#GWRATE#sub_1", "sk": "60"}),
    (gk.gateway_unmetered_key("ten_1", "NOT_COVERED"), {"pk": "T#ten_1", "sk": "GWUNMETERED#NOT_COVERED"}),
    # product gateway links (adapters/dynamodb/gateway_link_keys.py)
    (glk.gateway_link_key("ten_1", "prod_1"), {"pk": "T#ten_1", "sk": "GWLINK#prod_1"}),
    ((glk.GATEWAY_LINKS_GSI1PK, glk.gateway_link_gsi1sk("ten_1", "prod_1")), ("GWLINKS", "ten_1#prod_1")),
    (glk.usage_identifier_key("ten_1", "prod_1", "sub_1"), {"pk": "T#ten_1#GWLINK#prod_1", "sk": "SUB#sub_1"}),
]


@pytest.mark.parametrize(("built", "stored"), PINNED, ids=[str(s) for _, s in PINNED])
def test_every_stored_key_keeps_its_shape(built, stored):
    assert built == stored
