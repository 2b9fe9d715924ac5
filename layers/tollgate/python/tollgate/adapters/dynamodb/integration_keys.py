"""The keys of gateway integrations' items in the main table (kept apart from ``keys.py``, at its size
limit; pinned by ``tests/unit/test_table_keys.py`` like every other key).

| item                         | pk          | sk                    |
|------------------------------|-------------|-----------------------|
| integration (no credentials) | T#<tenant>  | INTEG#<integration>   |

The credentials are not in the table: Secrets Manager, ``integration_secret_name``.
"""

from __future__ import annotations

from tollgate.adapters.dynamodb.keys import Key, tenant_pk

INTEGRATION_PREFIX = "INTEG#"


def integration_key(tenant_id: str, integration_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{INTEGRATION_PREFIX}{integration_id}"}


def integration_secret_name(tenant_id: str, integration_id: str) -> str:
    """One Secrets Manager secret per integration (the API function may touch only ``tollgate/*/integrations/*``)."""
    return f"tollgate/{tenant_id}/integrations/{integration_id}"
