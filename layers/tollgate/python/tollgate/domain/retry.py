"""Optimistic concurrency: the one retry-on-conflict loop the use cases share.

A use case reads, decides and writes conditionally on what it read; a lost race raises
``ConcurrentUpdate`` and the whole read-decide-write step runs again on fresh data. Other 409s (an
illegal state move, a duplicate) are answers, not races: they pass through at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tollgate.domain.errors import ConcurrentUpdate

T = TypeVar("T")

ATTEMPTS = 3  # a lost race is re-read and retried this many times before answering CONCURRENT_UPDATE


def retry_on_conflict(step: Callable[[], T], *, exhausted: str, attempts: int = ATTEMPTS) -> T:
    """Run ``step`` until it returns without a ``ConcurrentUpdate``; after ``attempts`` lost races
    answer 409 ``CONCURRENT_UPDATE`` with ``exhausted`` as the detail (say what kept changing)."""
    for _ in range(attempts):
        try:
            return step()
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(exhausted)
