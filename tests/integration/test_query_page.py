"""One page of a DynamoDB Query on moto: Limit + ExclusiveStartKey, one more item read than asked (so
``has_more`` is exact), a filtered page bounded in reads, and a cursor checked before anything is read."""

import pytest

from tollgate import wiring
from tollgate.adapters.dynamodb import paging
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.errors import BadRequest


class CountingTable:
    """The table, counting the Query calls and the items they read."""

    def __init__(self, table):
        self.table, self.calls, self.read = table, 0, 0

    def query(self, **kwargs):
        self.calls += 1
        answer = self.table.query(**kwargs)
        self.read += answer["ScannedCount"]  # read, whether or not the filter kept it
        return answer


@pytest.fixture(scope="module")
def table(local_stack):
    from tollgate.adapters import aws

    name = wiring.customer_repository().table_name
    t = aws.table(name)
    with local_stack.exclusive(), t.batch_writer() as batch:
        for n in range(250):
            batch.put_item(Item={"pk": "T#paging_it", "sk": f"ROW#{n:04d}", "odd": n % 2 == 1, "last": n == 249})
        batch.put_item(Item={"pk": "T#paging_it", "sk": "SOMETHING_ELSE#1"})
    return t


def walk(table, query: PageQuery, limit: int) -> tuple[list[str], list[int]]:
    keys, sizes, cursor = [], [], None
    while True:
        page = query_page(table, query, limit=limit, cursor=cursor)
        keys += [i["sk"] for i in page.data]
        sizes.append(len(page.data))
        if not page.has_more:
            return keys, sizes
        cursor = page.next_cursor


def test_pages_of_a_prefix_return_every_item_once_in_key_order(table):
    query = PageQuery(partition=("pk", "T#paging_it"), prefix="ROW#")
    keys, sizes = walk(table, query, 100)
    assert keys == [f"ROW#{n:04d}" for n in range(250)] and sizes == [100, 100, 50]
    counted = CountingTable(table)
    query_page(counted, query, limit=10, cursor=None)
    assert counted.calls == 1 and counted.read == 11  # one Query of limit + 1 items


def test_newest_first_walks_backwards(table):
    query = PageQuery(partition=("pk", "T#paging_it"), prefix="ROW#", newest_first=True)
    keys, _ = walk(table, query, 70)
    assert keys == [f"ROW#{n:04d}" for n in reversed(range(250))]


def test_a_filtered_page_is_bounded_in_reads_and_says_more_may_follow(table, monkeypatch):
    from boto3.dynamodb.conditions import Attr

    monkeypatch.setattr(paging, "MAX_ROUNDS", 2)
    query = PageQuery(partition=("pk", "T#paging_it"), prefix="ROW#", filter=Attr("last").eq(True))
    counted = CountingTable(table)
    first = query_page(counted, query, limit=5, cursor=None)
    assert counted.calls == 2 and counted.read == 2 * paging.FILTERED_READ
    assert first.data == [] and first.has_more  # nothing matched within the bound: not the end
    keys = [i["sk"] for i in first.data]
    cursor = first.next_cursor
    while cursor:  # a short (even empty) page with has_more: follow it
        page = query_page(table, query, limit=5, cursor=cursor)
        keys += [i["sk"] for i in page.data]
        cursor = page.next_cursor
    assert keys == ["ROW#0249"]
    odd, _ = walk(table, PageQuery(partition=("pk", "T#paging_it"), prefix="ROW#", filter=Attr("odd").eq(True)), 30)
    assert odd == [f"ROW#{n:04d}" for n in range(1, 250, 2)]


def test_a_cursor_of_another_partition_or_prefix_is_refused_before_any_read(table):
    mine = PageQuery(partition=("pk", "T#paging_it"), prefix="ROW#")
    cursor = query_page(table, mine, limit=1, cursor=None).next_cursor
    for other in (
        PageQuery(partition=("pk", "T#someone_else"), prefix="ROW#"),
        PageQuery(partition=("pk", "T#paging_it"), prefix="SOMETHING_ELSE#"),
        PageQuery(partition=("gsi1pk", "T#paging_it"), index="gsi1"),
    ):
        counted = CountingTable(table)
        with pytest.raises(BadRequest) as refused:
            query_page(counted, other, limit=1, cursor=cursor)
        assert refused.value.code == "INVALID_CURSOR" and counted.calls == 0
