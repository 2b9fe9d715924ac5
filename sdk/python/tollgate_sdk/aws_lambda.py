"""AWS Lambda freezes the execution environment as soon as the handler returns: a background thread
cannot send between invocations. Flush before returning.

    client = Client(api_url=..., api_key=...)

    @flush_on_return(client)
    def handler(event, context):
        client.ingest(event_name="api.call", external_customer_id=event["customer"])
        return {"statusCode": 200}

With Powertools, ``flush_middleware(client)`` is the same as a ``lambda_handler_decorator``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tollgate_sdk.client import Client

Handler = TypeVar("Handler", bound=Callable[..., Any])


def flush_on_return(client: Client, timeout: float | None = 5.0) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler so that ``client.flush(timeout)`` runs before it returns (or raises)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                client.flush(timeout)

        return cast(Handler, wrapped)

    return decorate


def flush_middleware(client: Client, timeout: float | None = 5.0) -> Any:
    """The same as a Powertools middleware (``aws_lambda_powertools.middleware_factory``)."""
    from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

    @lambda_handler_decorator
    def tollgate_flush(handler: Callable[..., Any], event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            client.flush(timeout)

    return tollgate_flush
