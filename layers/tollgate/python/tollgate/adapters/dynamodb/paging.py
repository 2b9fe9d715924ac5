"""One page of a DynamoDB Query: ``Limit`` and ``ExclusiveStartKey``, never read-all-then-sort.

The list's order is the key's order (the table's sort key, or an index's), so a page is one Query
(a few when a filter drops items) and the cursor is the key of the last item returned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tollgate.domain.paging import Page, bound_limit, decode_cursor, encode_cursor

# A filtered list reads at most this many Query pages per request; a page may then hold fewer than
# ``limit`` items with ``has_more`` true (follow ``next_cursor``), as the bound on one request's reads.
MAX_ROUNDS = 10
FILTERED_READ = 100


@dataclass(frozen=True)
class PageQuery:
    """A Query over one partition: ``partition`` (attribute, value) of the table or of ``index``,
    optionally ``prefix`` on its sort key, ``filter`` (a boto3 condition) and the direction."""

    partition: tuple[str, str]
    index: str | None = None
    prefix: str | None = None
    filter: Any = None
    newest_first: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_names(self) -> tuple[str, ...]:
        table = ("pk", "sk")
        return table if self.index is None else (*table, f"{self.index}pk", f"{self.index}sk")

    @property
    def sort_name(self) -> str:
        return "sk" if self.index is None else f"{self.index}sk"

    def kwargs(self) -> dict[str, Any]:
        from boto3.dynamodb.conditions import Key

        name, value = self.partition
        condition = Key(name).eq(value)
        if self.prefix:
            condition = condition & Key(self.sort_name).begins_with(self.prefix)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, **self.extra}
        if self.index:
            kwargs["IndexName"] = self.index
        if self.filter is not None:
            kwargs["FilterExpression"] = self.filter
        if self.newest_first:
            kwargs["ScanIndexForward"] = False
        return kwargs


def query_page(table: Any, query: PageQuery, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """Up to ``limit`` items after ``cursor`` (a ``next_cursor`` this same query returned) and the
    cursor of the next page. A cursor of another partition (another tenant, another customer) or of
    another kind of item is refused (400 INVALID_CURSOR) before anything is read."""
    limit = bound_limit(limit)
    kwargs = query.kwargs()
    if cursor is not None:
        prefixes = {query.sort_name: query.prefix} if query.prefix else {}
        kwargs["ExclusiveStartKey"] = decode_cursor(cursor, query.key_names, dict([query.partition]), prefixes)
    items: list[dict[str, Any]] = []
    last_key: dict[str, Any] | None = None
    for _ in range(MAX_ROUNDS):
        # One more than asked, so the answer knows whether another page exists.
        kwargs["Limit"] = limit + 1 if query.filter is None else max(limit + 1, FILTERED_READ)
        answer = table.query(**kwargs)
        items.extend(answer["Items"])
        last_key = answer.get("LastEvaluatedKey")
        if len(items) > limit or last_key is None:
            break
        kwargs["ExclusiveStartKey"] = last_key
    if len(items) > limit:
        items = items[:limit]
        return Page(items, encode_cursor({n: items[-1][n] for n in query.key_names}))
    if last_key is not None:  # the read bound was reached before the page filled up
        return Page(items, encode_cursor({n: last_key[n] for n in query.key_names}))
    return Page(items)
