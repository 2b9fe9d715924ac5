"""The keys of product gateway links in the main table (kept apart from ``keys.py``, at its size limit;
pinned by ``tests/unit/test_table_keys.py`` like every other key).

| item                              | pk                          | sk               | gsi1pk  | gsi1sk             |
|-----------------------------------|-----------------------------|------------------|---------|--------------------|
| a product's gateway link          | T#<tenant>                  | GWLINK#<product> | GWLINKS | <tenant>#<product> |
| a subscription's usage identifier | T#<tenant>#GWLINK#<product> | SUB#<sub_id>     |         |                    |
"""

from __future__ import annotations

from tollgate.adapters.dynamodb.keys import Key, tenant_pk

GATEWAY_LINKS_GSI1PK = "GWLINKS"  # gsi1 lists every link of every tenant (the scheduled drift check)
USAGE_IDENTIFIER_PREFIX = "SUB#"


def gateway_link_key(tenant_id: str, product_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"GWLINK#{product_id}"}


def gateway_link_gsi1sk(tenant_id: str, product_id: str) -> str:
    return f"{tenant_id}#{product_id}"


def usage_identifiers_pk(tenant_id: str, product_id: str) -> str:
    return f"T#{tenant_id}#GWLINK#{product_id}"


def usage_identifier_key(tenant_id: str, product_id: str, subscription_id: str) -> Key:
    return {"pk": usage_identifiers_pk(tenant_id, product_id), "sk": f"{USAGE_IDENTIFIER_PREFIX}{subscription_id}"}
