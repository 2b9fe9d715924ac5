"""Cursors are opaque but checked: only a key of the list's own partition and kind is followed."""

import base64
import json

import pytest

from tollgate.domain.errors import BadRequest
from tollgate.domain.paging import MAX_CURSOR_LENGTH, Page, bound_limit, decode_cursor, encode_cursor

NAMES = ("pk", "sk")
FIXED = {"pk": "T#ten_1"}
PREFIXES = {"sk": "PRODUCT#"}


def raw(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_gives_back_the_key_it_was_made_of():
    key = {"pk": "T#ten_1", "sk": "PRODUCT#prod_1"}
    cursor = encode_cursor(key)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor  # safe in a query string
    assert decode_cursor(cursor, NAMES, FIXED, PREFIXES) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "%%%",
        "a" * (MAX_CURSOR_LENGTH + 1),
        raw([1, 2]),
        raw("T#ten_1"),
        raw({"pk": "T#ten_1"}),  # a name missing
        raw({"pk": "T#ten_1", "sk": "PRODUCT#p", "gsi1pk": "x"}),  # a name too many
        raw({"pk": "T#ten_2", "sk": "PRODUCT#p"}),  # another tenant's partition
        raw({"pk": "T#ten_1", "sk": "CUSTOMER#c"}),  # another kind of item
        raw({"pk": "T#ten_1", "sk": 7}),
        raw({"pk": "T#ten_1", "sk": ""}),
        raw({"pk": "T#ten_1", "sk": "PRODUCT#" + "p" * 2000}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        raw({"pk": "T#ten_1", "sk": {"S": "PRODUCT#p"}}),
    ],
)
def test_anything_but_a_cursor_of_this_list_is_400_invalid_cursor(cursor):
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, NAMES, FIXED, PREFIXES)
    assert refused.value.code == "INVALID_CURSOR" and "next_cursor" in refused.value.detail


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_limit_outside_1_to_100_is_refused(limit):
    with pytest.raises(BadRequest):
        bound_limit(limit)
    assert bound_limit(1) == 1 and bound_limit(100) == 100


def test_a_page_knows_whether_more_follow():
    assert Page([1, 2], "c").has_more and not Page([1, 2]).has_more
    assert Page([1, 2], "c").map(str) == Page(["1", "2"], "c")
