"""Drop-in ingestion for code written for Stripe Billing's meter events: change the API base, keep the client.

Under ``/compat/stripe`` (behind the ``key_only`` authorizer like the other compatibility routes: the
tenant is the key's; a customer key sends for its own customer, an operator key with usage:ingest for any).
Events go through the same ingestion as ``POST /v1/ingest/events`` (same rules, same exactly-once storage).

- v1 ``POST /compat/stripe/v1/billing/meter_events`` (form-encoded, as ``stripe.billing.MeterEvent.create``
  sends it): ``event_name``; ``payload[stripe_customer_id]`` -> the customer's external id;
  ``payload[value]`` -> quantity; other ``payload[...]`` keys -> properties; ``identifier`` -> event_id
  (absent: derived from the payload); ``timestamp`` in Unix seconds (default now). 200 with a
  ``billing.meter_event``; a resend of the same identifier and payload answers 200 again (counted once).
- v2 ``POST /compat/stripe/v2/billing/meter_event_session``: a session whose ``authentication_token`` is
  the caller's own key (Tollgate has no short-lived tokens: ``expires_at`` is informational), and
  ``POST /compat/stripe/v2/billing/meter_event_stream`` (JSON ``{"events": [...]}``, up to 100 as Stripe
  allows; ``timestamp`` RFC 3339): 202 ``{}``.
- Errors answer in Stripe's shape, ``{"error": {"type", "code", "message", "param"}}``, so the client raises
  its own exception classes (``InvalidRequestError``, ``RateLimitError`` with ``Retry-After``).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import BaseModel, ConfigDict, Field

from tollgate.api.access import current_caller, requires
from tollgate.api.contract import json_body_schema
from tollgate.api.routers.ingest import run_ingest
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.errors import TollgateError
from tollgate.domain.usage.parsing import canonical_json

router = Router()
INGEST = requires(Permission.USAGE_INGEST, KeyKind.OPERATOR, KeyKind.CUSTOMER)
Caller_ = Annotated[Caller, Depends(current_caller)]
STREAM_MAX_EVENTS = 100  # Stripe's limit per meter_event_stream request


class StripeMeterEventForm(BaseModel):
    """Stripe v1 ``POST /compat/stripe/v1/billing/meter_events``, form-encoded as Stripe's clients send it."""

    model_config = ConfigDict(populate_by_name=True)
    event_name: str = Field(description="The meter's event name")
    identifier: str | None = Field(default=None, description="Idempotency: Tollgate's event_id")
    timestamp: int | None = Field(default=None, description="Unix seconds (default: now)")
    stripe_customer_id: str = Field(alias="payload[stripe_customer_id]", description="The customer's external id")
    value: str | None = Field(default=None, alias="payload[value]", description="The quantity, a decimal string")


class StripeStreamEvent(BaseModel):
    event_name: str
    identifier: str | None = None
    timestamp: str | None = Field(default=None, description="RFC 3339")
    payload: dict[str, str] = Field(description="stripe_customer_id and value, as strings")


class StripeMeterEventStream(BaseModel):
    """Stripe v2 ``POST /compat/stripe/v2/billing/meter_event_stream``."""

    events: list[StripeStreamEvent] = Field(min_length=1, max_length=STREAM_MAX_EVENTS)


class StripeErrorDetail(BaseModel):
    type: str = Field(description="invalid_request_error, api_error")
    code: str
    message: str
    param: str | None = None


class StripeErrorBody(BaseModel):
    """Stripe's error shape: what Stripe's clients parse into their exception classes."""

    error: StripeErrorDetail


class StripeMeterEventOut(BaseModel):
    object: str = "billing.meter_event"
    created: int
    event_name: str
    identifier: str | None
    livemode: bool
    payload: dict[str, Any]
    timestamp: int


class StripeMeterEventSessionOut(BaseModel):
    id: str
    object: str = "v2.billing.meter_event_session"
    authentication_token: str = Field(description="Send it as the stream's Bearer token (the caller's own key)")
    created: str
    expires_at: str
    livemode: bool


class StripeStreamAccepted(BaseModel):
    """Stripe answers an accepted meter event stream with an empty object."""


def _success(status: int, model: type[BaseModel], what: str) -> dict[int, Any]:
    return {status: {"description": what, "content": {"application/json": {"model": model}}}}


#: Ingestion's refusals are answered in Stripe's error shape (401s from the authorizer stay problems).
STRIPE_ERRORS: dict[int, Any] = {
    status: {
        "description": "Refused, in Stripe's error shape (or a Problem from the gateway edge)",
        "content": {"application/json": {"model": StripeErrorBody}},
    }
    for status in (400, 403, 409, 413, 422, 429, 503)
}
SESSION_MINUTES = 15

# Tollgate's rejection codes, as Stripe's request parameter they are about
_PARAM = {
    "METER_NOT_FOUND": "event_name",
    "METER_ARCHIVED": "event_name",
    "MISSING_EVENT_NAME": "event_name",
    "FILTER_NOT_MATCHED": "event_name",
    "CUSTOMER_NOT_FOUND": "payload[stripe_customer_id]",
    "CUSTOMER_NOT_ALLOWED": "payload[stripe_customer_id]",
    "MISSING_CUSTOMER": "payload[stripe_customer_id]",
    "INVALID_QUANTITY": "payload[value]",
    "INVALID_TIMESTAMP": "timestamp",
    "TIMESTAMP_TOO_OLD": "timestamp",
    "TIMESTAMP_IN_FUTURE": "timestamp",
    "IDEMPOTENCY_CONFLICT": "identifier",
}


class StripeError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.param, self.retry_after = status, code, message, param, retry_after

    def response(self) -> Response:
        kind = "invalid_request_error" if self.status < 500 else "api_error"
        error = {"type": kind, "code": self.code.lower(), "message": self.message}
        if self.param:
            error["param"] = self.param
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return _json(self.status, {"error": error}, headers)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, "application/json", canonical_json(body, sort_keys=False), headers=headers)


def _raw_body() -> str:
    event = router.current_event
    body = event.body or ""
    if event.raw_event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return body


def _form() -> dict[str, str]:
    try:
        return dict(parse_qsl(_raw_body(), keep_blank_values=True, strict_parsing=False, max_num_fields=200))
    except ValueError as exc:
        raise StripeError(400, "parameter_invalid", f"The body is not form-encoded: {exc}") from None


def _unix(value: Any, param: str) -> str:
    try:
        seconds = Decimal(str(value))
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(seconds))
    except (InvalidOperation, OverflowError, ValueError):
        raise StripeError(
            400, "parameter_invalid_integer", f"{param} must be Unix seconds, not {value!r}.", param
        ) from None
    return to_rfc3339(at)


def _value(value: Any, param: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise StripeError(400, "parameter_invalid", f"{param} must be a number, not {value!r}.", param)
    return number


def _event(event_name: Any, identifier: Any, payload: dict[str, Any], timestamp: str | None) -> dict[str, Any]:
    """One Stripe meter event as a Tollgate event."""
    payload = dict(payload)
    customer = payload.pop("stripe_customer_id", None)
    value = payload.pop("value", None)
    event: dict[str, Any] = {
        "event_id": identifier or None,
        "event_name": event_name,
        "external_customer_id": customer,
        "timestamp": timestamp,
        "quantity": _value(value, "payload[value]") if value is not None else None,
        "properties": payload or None,
    }
    return {k: v for k, v in event.items() if v is not None}


def _ingest(caller: Caller, events: list[dict[str, Any]]):
    try:
        result = run_ingest(caller, events, single=False)
    except TollgateError as exc:
        raise StripeError(exc.status, exc.code, exc.detail, retry_after=getattr(exc, "retry_after", None)) from None
    if result.rejected:
        first = result.rejected[0]
        message = first.detail if len(events) == 1 else f"event {first.index}: {first.detail}"
        raise StripeError(400, first.code.value, message, _PARAM.get(first.code.value))
    return result


def _answer(handler):
    try:
        return handler()
    except StripeError as exc:
        return exc.response()


# -- v1 ------------------------------------------------------------------------------------------------
@router.post(
    "/compat/stripe/v1/billing/meter_events",
    openapi_extensions={
        **INGEST,
        **json_body_schema(StripeMeterEventForm, media_types=("application/x-www-form-urlencoded",)),
    },
    responses={**_success(200, StripeMeterEventOut, "The meter event, as Stripe answers it"), **STRIPE_ERRORS},
    tags=["compatibility"],
    summary="Stripe-compatible meter event (v1, form-encoded)",
)
def stripe_meter_event(caller: Caller_):
    def handle() -> Response:
        form = _form()
        payload = {k[len("payload[") : -1]: v for k, v in form.items() if k.startswith("payload[") and k.endswith("]")}
        if not form.get("event_name"):
            raise StripeError(400, "parameter_missing", "Missing required param: event_name.", "event_name")
        timestamp = _unix(form["timestamp"], "timestamp") if form.get("timestamp") else None
        event = _event(form["event_name"], form.get("identifier"), payload, timestamp)
        stored = _ingest(caller, [event]).outcomes[0].get("stored")
        at = stored.timestamp if stored else utcnow()
        return _json(
            200,
            {
                "object": "billing.meter_event",
                "created": int(utcnow().timestamp()),
                "event_name": form["event_name"],
                "identifier": stored.event_id if stored else form.get("identifier"),
                "livemode": caller.livemode,
                "payload": payload,
                "timestamp": int(at.timestamp()),
            },
        )

    return _answer(handle)


# -- v2 ------------------------------------------------------------------------------------------------
@router.post(
    "/compat/stripe/v2/billing/meter_event_session",
    openapi_extensions=INGEST,
    responses={**_success(200, StripeMeterEventSessionOut, "The session and its token"), **STRIPE_ERRORS},
    tags=["compatibility"],
    summary="Stripe-compatible meter event session (v2): the token for the meter event stream",
)
def stripe_meter_event_session(caller: Caller_):
    now = utcnow()
    token = _bearer(router.current_event.headers or {})
    return _json(
        200,
        {
            "id": f"mes_{caller.key_id}",
            "object": "v2.billing.meter_event_session",
            "authentication_token": token,
            "created": to_rfc3339(now),
            "expires_at": to_rfc3339(now + timedelta(minutes=SESSION_MINUTES)),
            "livemode": caller.livemode,
        },
    )


def _bearer(headers: dict[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "authorization":
            return value.partition(" ")[2].strip()
    return ""


@router.post(
    "/compat/stripe/v2/billing/meter_event_stream",
    openapi_extensions={**INGEST, **json_body_schema(StripeMeterEventStream)},
    responses={**_success(202, StripeStreamAccepted, "Every event accepted (an empty object)"), **STRIPE_ERRORS},
    tags=["compatibility"],
    summary="Stripe-compatible meter event stream (v2, JSON; up to 100 events)",
)
def stripe_meter_event_stream(caller: Caller_):
    def handle() -> Response:
        try:
            body = json.loads(_raw_body() or "null", parse_float=Decimal)
        except ValueError as exc:
            raise StripeError(400, "invalid_json", f"The body is not valid JSON ({exc}).") from None
        sent = body.get("events") if isinstance(body, dict) else None
        if not isinstance(sent, list) or not sent or len(sent) > STREAM_MAX_EVENTS:
            raise StripeError(
                400, "parameter_invalid", f"Send {{'events': [...]}} with 1 to {STREAM_MAX_EVENTS} events.", "events"
            )
        events = []
        for item in sent:
            if not isinstance(item, dict) or not isinstance(item.get("payload"), dict):
                raise StripeError(400, "parameter_invalid", "Each event needs event_name and a payload.", "events")
            events.append(
                _event(item.get("event_name"), item.get("identifier"), item["payload"], item.get("timestamp"))
            )
        _ingest(caller, events)
        return _json(202, {})

    return _answer(handle)
