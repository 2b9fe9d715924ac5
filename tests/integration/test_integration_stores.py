"""Integrations on moto: the item in the main table never holds credentials; the credentials are one
Secrets Manager secret per integration, replaced on rotation and gone with the integration."""

from datetime import UTC, datetime

import pytest

from tollgate import wiring_gateways
from tollgate.adapters.dynamodb.integration_keys import integration_key, integration_secret_name
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.integrations.integration import Integration, IntegrationType

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_item_and_secret_round_trip_apart(local_stack) -> None:
    repo, secrets = wiring_gateways.integration_repository(), wiring_gateways.integration_credentials()
    i = Integration("intg_s1", "ten_store", IntegrationType.KONG, "k", {"admin_url": "https://k"}, NOW, NOW, NOW)
    with local_stack.exclusive():
        secrets.put("ten_store", "intg_s1", {"token": "kpat_1"})
        secrets.put("ten_store", "intg_s1", {"token": "kpat_2"})  # rotation replaces the value
        repo.create(i)
        with pytest.raises(Conflict):
            repo.create(i)
        assert repo.get("ten_store", "intg_s1") == i and repo.count("ten_store") == 1
        item = local_stack.client("dynamodb").get_item(
            TableName=repo.table_name, Key={k: {"S": v} for k, v in integration_key("ten_store", "intg_s1").items()}
        )["Item"]
        assert "kpat" not in str(item)
        value = local_stack.client("secretsmanager").get_secret_value(
            SecretId=integration_secret_name("ten_store", "intg_s1")
        )
        assert value["SecretString"] == '{"token": "kpat_2"}' and secrets.get("ten_store", "intg_s1") == {
            "token": "kpat_2"
        }
        after = i.changed(NOW, name="k2")
        repo.save(i, after)
        with pytest.raises(ConcurrentUpdate):
            repo.save(i, after)
        assert [x.name for x in repo.page("ten_store", limit=10).data] == ["k2"]
        repo.delete(after)
        secrets.delete("ten_store", "intg_s1")
        secrets.delete("ten_store", "intg_s1")  # nothing when absent
        assert repo.get("ten_store", "intg_s1") is None and secrets.get("ten_store", "intg_s1") is None
