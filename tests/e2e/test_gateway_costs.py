"""What a gateway decision costs in AWS calls (issue 15 "make bench": the check API's AWS calls per
uncached decision, goal 1; strict mode's write units per request). Counted with a botocore hook on the
clients the use case uses, for calls made by this thread only (the local stack's workers share them)."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

import pytest

from tests.e2e import gateway_kit
from tests.e2e.billing_kit import tenant_of
from tollgate import wiring
from tollgate.adapters import aws
from tollgate.settings import get_settings
from tollgate.usecases.gateway.check import check

pytestmark = pytest.mark.e2e


@contextmanager
def aws_calls():
    me, calls = threading.get_ident(), Counter()

    def count(model, **_):
        if threading.get_ident() == me:
            calls[model.name] += 1

    clients = {aws.client("dynamodb"), aws.table(get_settings().main_table).meta.client}
    for c in clients:
        c.meta.events.register("before-call.dynamodb", count)
    try:
        yield calls
    finally:
        for c in clients:
            c.meta.events.unregister("before-call.dynamodb", count)


def test_an_uncached_decision_is_one_getitem_and_strict_mode_adds_one_conditional_write(server):
    s = gateway_kit.setup(server)
    body = {"api_key": s.key, "method": "GET", "path": "/api/widgets/1"}
    tenant = tenant_of(s.owner)
    assert s.check()["allowed"]  # the snapshot exists (built on the first check) and the policies are cached
    with aws_calls() as calls:
        assert check(wiring.gateway_repos(), tenant, body)["allowed"]
    assert dict(calls) == {"GetItem": 1}

    strict = gateway_kit.setup(server, policy={"limit_mode": "strict"})
    assert strict.check()["allowed"]
    with aws_calls() as calls:
        assert check(wiring.gateway_repos(), tenant_of(strict.owner), {**body, "api_key": strict.key})["allowed"]
    assert dict(calls) == {"GetItem": 1, "UpdateItem": 1}  # one conditional counter update: 1 WCU (< 1 KB item)
