"""Write sharding of hot partition keys (keys.py builds the keys).

A partition key takes ~1,000 write units/s. Keys that every ingest request, domain event, finalized invoice
or timed move would write are spread over ``KEY_SHARDS`` partition keys (a ``#<00..15>`` suffix), like raw
usage events; their readers query every shard (``all_shards``) and merge.
"""

from __future__ import annotations

import hashlib

KEY_SHARDS = 16


def key_shard(*parts: str) -> int:
    """A stable shard (0..KEY_SHARDS-1) of what identifies the item: a retry lands on the same key."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % KEY_SHARDS


def sharded(prefix: str, shard: int) -> str:
    return f"{prefix}#{shard:02d}"


def all_shards(pk: str) -> list[str]:
    """Every shard of the sharded partition key ``pk`` belongs to (what a reader queries and merges)."""
    return [sharded(pk[: pk.rindex("#")], shard) for shard in range(KEY_SHARDS)]
