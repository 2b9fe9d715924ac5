"""Manifests in S3: the JSON array of pages a Distributed Map reads (ItemReader), or a list of references
that a later task of the same execution reads back (never carried in the state: 256 KB per state)."""

from __future__ import annotations

import json
from typing import Any

from tollgate.adapters import aws


class S3ManifestStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, items: list[dict[str, Any]]) -> dict[str, str]:
        aws.client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(items, separators=(",", ":")).encode(),
            ContentType="application/json",
        )
        return {"bucket": self.bucket, "key": key}

    def get(self, key: str) -> list[dict[str, Any]]:
        body = aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        items: list[dict[str, Any]] = json.loads(body)
        return items
