"""Domain errors. Each maps to one HTTP status once, in ``tollgate.api.app``."""

from __future__ import annotations

from typing import Any


class TollgateError(Exception):
    status: int = 500
    title: str = "Internal error"
    code: str = "INTERNAL_ERROR"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class BadRequest(TollgateError):
    status, title, code = 400, "Bad request", "BAD_REQUEST"


class Unauthorized(TollgateError):
    status, title, code = 401, "Unauthorized", "UNAUTHORIZED"


class Forbidden(TollgateError):
    status, title, code = 403, "Forbidden", "FORBIDDEN"


class NotFound(TollgateError):
    status, title, code = 404, "Not found", "NOT_FOUND"


class Conflict(TollgateError):
    status, title, code = 409, "Conflict", "CONFLICT"


class ConcurrentUpdate(Conflict):
    """A lost optimistic-concurrency race: what was read changed before the conditional write.

    The one kind of 409 that :func:`tollgate.domain.retry.retry_on_conflict` retries."""

    code = "CONCURRENT_UPDATE"


class PayloadTooLarge(TollgateError):
    status, title, code = 413, "Payload too large", "PAYLOAD_TOO_LARGE"


class InvalidInput(TollgateError):
    """Input that is well-formed JSON but breaks a rule (a field is named in ``extra['field']``)."""

    status, title, code = 422, "Invalid input", "INVALID_INPUT"


class TooManyRequests(TollgateError):
    status, title, code = 429, "Too many requests", "RATE_LIMITED"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class ServiceUnavailable(TollgateError):
    status, title, code = 503, "Service unavailable", "SERVICE_UNAVAILABLE"
