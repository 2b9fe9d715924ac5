"""Issue 3: keys are stored hashed only. After creating keys, no table holds a plaintext key."""

import json

import pytest

from infra import definitions
from tests.e2e import builders
from tollgate.domain.keys import prefix_of

pytestmark = pytest.mark.e2e


def test_no_table_holds_a_plaintext_key(server, owner):
    secrets = [server.owner_key]
    for role in ("OWNER", "ADMIN", "MEMBER", "BILLING_ADMIN"):
        secrets.append(owner.post("/v1/api-keys", json={"kind": "operator", "role": role}).json()["secret"])
    customer_id = builders.customer(owner)["id"]
    for livemode in (True, False):
        r = owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": customer_id, "livemode": livemode})
        secrets.append(r.json()["secret"])
    assert any(s.startswith("sk_test_") for s in secrets) and any(s.startswith("sk_live_") for s in secrets)

    ddb = server.stack.client("dynamodb")
    scanned = 0
    for table in definitions.tables().values():
        kwargs = {"TableName": table.local_name}
        while True:
            page = ddb.scan(**kwargs)
            dump = json.dumps(page["Items"])
            scanned += page["Count"]
            for secret in secrets:
                # Neither the key nor its random part (after the prefix) may be stored anywhere.
                random_part = secret.removeprefix(prefix_of(secret))
                assert secret not in dump and random_part not in dump
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert scanned > len(secrets)


def test_the_secret_is_shown_once_then_only_prefix_and_last_four(owner):
    created = owner.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER"}).json()
    secret = created["secret"]
    assert secret.startswith("afo_") and len(secret) >= 4 + 43  # 32 random bytes, base64url
    listed = next(k for k in owner.get("/v1/api-keys").json()["data"] if k["id"] == created["id"])
    assert listed["secret"] is None
    assert listed["display"] == f"afo_…{secret[-4:]}"
    assert {"status", "role", "created_at", "last_used_at"} <= listed.keys()
