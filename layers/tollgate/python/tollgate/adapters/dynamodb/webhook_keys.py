"""The keys of outbound webhooks' items in the main table (kept apart from ``keys.py``, at its size
limit; pinned by ``tests/unit/test_table_keys.py`` like every other key).

| item                                   | pk                          | sk                                    |
|----------------------------------------|-----------------------------|---------------------------------------|
| webhook endpoint                       | T#<tenant>                  | WHEP#<endpoint_id>                    |
| delivery (one event to one endpoint)   | T#<tenant>                  | WHDLV#<delivery_id>                   |
| an endpoint's attempts, failed index   | T#<tenant>#WHEP#<endpoint>  | ATT#<time>#… / FAIL#<time>#…          |
"""

from __future__ import annotations

from datetime import UTC, datetime

from tollgate.adapters.dynamodb.keys import Key, tenant_pk

WEBHOOK_ENDPOINT, WEBHOOK_DELIVERY, WEBHOOK_ATTEMPT_PREFIX, WEBHOOK_FAILED_PREFIX = "WHEP", "WHDLV", "ATT#", "FAIL#"


def webhook_key(tenant_id: str, kind: str, item_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{kind}#{item_id}"}


def webhook_log_pk(tenant_id: str, endpoint_id: str) -> str:
    return f"T#{tenant_id}#WHEP#{endpoint_id}"


def webhook_log_sk(prefix: str, at: datetime, *parts: str) -> str:  # microseconds always written: sorts by time
    return "#".join([f"{prefix}{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}", *parts])
