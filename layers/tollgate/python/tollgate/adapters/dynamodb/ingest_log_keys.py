"""The keys of the ingestion log (GET /v1/ingest/events) in the usage table: its entries and the
index of stored events, by hour received, each sharded by request (kept apart from ``keys.py``, at its
size limit; pinned by ``tests/unit/test_table_keys.py``).
"""

from __future__ import annotations

from tollgate.adapters.dynamodb.shards import key_shard, sharded


def ingest_log_pk(tenant_id: str, hour: str, request_id: str) -> str:
    """Sharded by request: readers query the hour's KEY_SHARDS keys (``all_shards``)."""
    return sharded(f"T#{tenant_id}#LOG#{hour}", key_shard(tenant_id, request_id))


def ingest_log_sk(received_at: str, request_id: str, index: int) -> str:
    return f"{received_at}#{request_id}#{index:04d}"


def ingest_index_pk(tenant_id: str, hour: str, request_id: str) -> str:
    """Sharded by request: readers query the hour's KEY_SHARDS keys (``all_shards``)."""
    return sharded(f"T#{tenant_id}#IDX#{hour}", key_shard(tenant_id, request_id))


def ingest_index_prefix(customer_id: str, meter_id: str | None = None) -> str:
    return f"{customer_id}#{meter_id}#" if meter_id else f"{customer_id}#"


def ingest_index_sk(customer_id: str, meter_id: str, received_at: str, request_id: str) -> str:
    return f"{customer_id}#{meter_id}#{received_at}#{request_id}"
