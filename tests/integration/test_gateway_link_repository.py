"""The DynamoDB product gateway link repository on moto: conditional saves (a lost race changes nothing),
usage identifiers generated once (the first stored value wins), every link listed for the scheduled check,
and an unlink removing the identifiers too."""

from dataclasses import replace

import pytest

from tollgate import wiring_gateway_sync
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.integrations.gateway_link import GatewayState, new_link


def test_links_are_conditional_identifiers_are_generated_once_and_unlink_cleans_up(local_stack):
    tenant = local_stack.bootstrap_tenant("gateway link repository").tenant_id
    repo, now = wiring_gateway_sync.gateway_link_repository(), utcnow()
    link = new_link(tenant, "prod_1", "int_1", {"rest_api_id": "abc", "stage": "prod"}, now)
    with local_stack.exclusive():
        repo.save(link, None, [])
        with pytest.raises(ConcurrentUpdate):
            repo.save(link, None, [])  # created twice
        stale = replace(link, state=GatewayState.STALE, diff=({"op": "remove", "path": "/x"},), revision=2)
        repo.save(stale, 1, [DomainEvent("product.gateway_stale", tenant, now, {"product_id": "prod_1"})])
        with pytest.raises(ConcurrentUpdate):
            repo.save(replace(stale, revision=2), 1, [])  # written against a revision that moved
        assert repo.get(tenant, "prod_1") == stale and repo.get("ten_other", "prod_1") is None

        assert repo.add_usage_identifiers(tenant, "prod_1", {"sub_1": "tgu_first"}) == {"sub_1": "tgu_first"}
        both = repo.add_usage_identifiers(tenant, "prod_1", {"sub_1": "tgu_second", "sub_2": "tgu_two"})
        assert both == {"sub_1": "tgu_first", "sub_2": "tgu_two"}
        assert repo.usage_identifier(tenant, "prod_1", "sub_2") == "tgu_two"  # one read (the snapshot's build)
        assert repo.usage_identifier(tenant, "prod_1", "sub_3") is None
        assert repo.usage_identifier("ten_other", "prod_1", "sub_2") is None
        assert (tenant, "prod_1") in _all(repo)

        repo.delete(tenant, "prod_1")
        assert repo.get(tenant, "prod_1") is None and repo.usage_identifiers(tenant, "prod_1") == {}
        assert repo.usage_identifier(tenant, "prod_1", "sub_1") is None
        assert (tenant, "prod_1") not in _all(repo)


def _all(repo) -> list[tuple[str, str]]:
    found, cursor = [], None
    while True:
        page = repo.page_all(limit=100, cursor=cursor)
        found += page.data
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
