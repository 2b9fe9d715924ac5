"""The keys of gateway enforcement's items in the main table (kept apart from ``keys.py``, which is at
its size limit; pinned by ``tests/unit/test_table_keys.py`` like every other key).

| item                         | pk                                 | sk                          |
|------------------------------|------------------------------------|-----------------------------|
| monetization policy          | T#<tenant>                         | GWPOLICY#<policy_id>        |
| access snapshot of a key     | KEY#<sha256 of the key>            | ACCESS                      |
| a customer's snapshot keys   | T#<tenant>                         | GWKEYS#<customer_id>        |
| strict-mode counter          | T#<tenant>#GWCOUNT#<subscription>  | <meter>#<period start>      |
| increment returned (once)    | T#<tenant>#GWCOUNT#<subscription>  | GIVEBACK#<request>#<meter>  |
| plan rate-limit window       | T#<tenant>#GWRATE#<subscription>   | <window start, epoch s>     |
| unmetered calls, by reason   | T#<tenant>                         | GWUNMETERED#<reason>        |
"""

from __future__ import annotations

from tollgate.adapters.dynamodb.keys import Key, api_key_key, tenant_pk

POLICY_PREFIX = "GWPOLICY#"
UNMETERED_PREFIX = "GWUNMETERED#"


def gateway_policy_key(tenant_id: str, policy_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{POLICY_PREFIX}{policy_id}"}


def access_snapshot_key(key_hash: str) -> Key:
    """Next to the key item (same partition): an uncached decision reads only this item."""
    return {"pk": api_key_key(key_hash)["pk"], "sk": "ACCESS"}


def customer_access_keys_key(tenant_id: str, customer_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"GWKEYS#{customer_id}"}


def gateway_counter_key(tenant_id: str, subscription_id: str, meter: str, period: str) -> Key:
    return {"pk": f"T#{tenant_id}#GWCOUNT#{subscription_id}", "sk": f"{meter}#{period}"}


def gateway_giveback_key(tenant_id: str, subscription_id: str, request_id: str, meter: str) -> Key:
    """Marks a strict-mode increment returned for a request (returned once per request id)."""
    return {"pk": f"T#{tenant_id}#GWCOUNT#{subscription_id}", "sk": f"GIVEBACK#{request_id}#{meter}"}


def gateway_rate_key(tenant_id: str, subscription_id: str, window_start: int) -> Key:
    return {"pk": f"T#{tenant_id}#GWRATE#{subscription_id}", "sk": str(window_start)}


def gateway_unmetered_key(tenant_id: str, reason: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{UNMETERED_PREFIX}{reason}"}
