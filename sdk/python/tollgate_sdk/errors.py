"""Errors the SDK raises in the caller's thread (bad input, refused early) or hands to ``on_error``."""

from __future__ import annotations


class TollgateError(Exception):
    """Base class of every error the SDK raises."""


class InvalidEvent(TollgateError, ValueError):
    """An event the API would reject for its shape: refused at ``ingest()``, before it is queued."""


class EventTooLarge(InvalidEvent):
    """The event's properties exceed the API's 16 KB limit (``EVENT_TOO_LARGE``)."""


class ApiError(TollgateError):
    """A request that finally failed: a 4xx that is not worth retrying, or the retries ran out.

    ``status`` is the HTTP status (``None`` for a network error), ``code`` and ``detail`` come from the
    RFC 7807 problem the API answered."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
