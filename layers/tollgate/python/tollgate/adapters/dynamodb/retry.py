"""Retrying AWS calls that failed for a transient reason (throttling, 5xx, a dropped connection).

botocore already retries such failures a few times; this is the outer loop the ingestion and the
aggregator add for the calls whose outcome decides whether usage is counted, with jittered backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

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
