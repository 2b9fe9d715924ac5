from infra.local.matching import matches


def test_stream_filter_selects_outbox_inserts_only():
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"item_type": {"S": ["OUTBOX"]}}}}
    insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"item_type": {"S": "OUTBOX"}}}}
    assert matches(pattern, insert)
    assert not matches(pattern, {**insert, "eventName": "MODIFY"})
    assert not matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"item_type": {"S": "API_KEY"}}}})


def test_prefix_and_exists_operators():
    assert matches({"detail-type": [{"prefix": "invoice."}]}, {"detail-type": "invoice.finalized"})
    assert not matches({"detail-type": [{"prefix": "invoice."}]}, {"detail-type": "api_key.created"})
    assert matches({"detail": {"x": [{"exists": False}]}}, {"detail": {}})
