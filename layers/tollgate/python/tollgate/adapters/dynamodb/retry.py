"""Retrying AWS calls that failed for a transient reason (throttling, 5xx, a dropped connection).

botocore already retries such failures a few times; this is the outer loop the ingestion and the
aggregator add for the calls whose outcome decides whether usage is counted, with jittered backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottlingError",
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "InternalException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflict",
        "TransactionConflictException",
    }
)
ATTEMPTS = 6
BASE_DELAY = 0.02
MAX_DELAY = 0.5
BATCH_ROUNDS = 8  # rounds of a batch call whose unprocessed part is sent again


def is_transient(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt)))


def retrying(call: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            backoff(attempt)
    raise AssertionError("unreachable")


def until_processed(
    call: Callable[..., dict[str, Any]],
    request: dict[str, Any],
    unprocessed: str,
    exhausted: Exception,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Send a batch request (BatchGetItem, BatchWriteItem) until DynamoDB has processed all of it: it
    answers what it did not under ``unprocessed``, sent again after a backoff; ``exhausted`` is raised
    after BATCH_ROUNDS rounds. ``on_page`` reads each answer."""
    for attempt in range(BATCH_ROUNDS):
        page = retrying(partial(call, RequestItems=request))
        if on_page is not None:
            on_page(page)
        request = page.get(unprocessed) or {}
        if not request:
            return
        backoff(attempt)
    raise exhausted
