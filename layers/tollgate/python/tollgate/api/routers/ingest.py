"""Usage ingestion: POST/GET /v1/ingest/events, GET /v1/ingest/diagnose, GET/PUT /v1/ingest/settings and
the usage query GET /v1/usage (seed 000 "Usage Ingestion", seed 001).

Request bodies are read here, not by the resolver's validation: numbers must be parsed exactly
(``Decimal`` from the JSON text, never a float) and every event of a batch answers on its own.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, StartingAfter
from tollgate.api.routers.ingest_schemas import INGEST_BODY, with_body
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import parse_rfc3339, utcnow
from tollgate.domain.errors import BadRequest, InvalidInput
from tollgate.domain.usage import numbers
from tollgate.domain.usage.aggregation import Window
from tollgate.domain.usage.canonical import canonical_json
from tollgate.domain.usage.events import MAX_BATCH
from tollgate.ports.usage import StoreUnavailable
from tollgate.usecases import ingest as ingest_cases
from tollgate.usecases import usage as usage_cases
from tollgate.usecases.diagnose import diagnose
from tollgate.usecases.ingest_settings import SETTING_RANGES

router = Router()

INGEST = requires(Permission.USAGE_INGEST, KeyKind.OPERATOR, KeyKind.CUSTOMER)
READ = requires(Permission.USAGE_READ, KeyKind.OPERATOR, KeyKind.CUSTOMER)
Caller_ = Annotated[Caller, Depends(current_caller)]

INGEST_DESCRIPTION = f"""One event, or `{{"events": [...]}}` with up to {MAX_BATCH} (more: 413).

An event: `event_id` (the idempotency key: the same event_id counts once, so a retry is safe; without
one the event is a new event with a server-assigned id, and the 202 warns `EVENT_ID_ASSIGNED`: a retry
of that request would count it again), `external_customer_id` (or `customerId`; a customer key may leave it out),
`event_name` (or `metricId`: the exact event name of an active meter), `timestamp` (RFC 3339, default
now), `quantity` (a JSON number, default 1), `properties` (an object).

Answers 202 `{{"accepted", "duplicates", "rejected": [{{"index", "event_id", "code", "detail"}}], "warnings"}}`.
Each event is judged on its own; a single event that is malformed, more than 90 days old or more than
5 minutes in the future answers 400 (409 for an event_id reused for another payload). Events 24 h or
more in the past are accepted and flagged LATE. Retrying a request whose events carry event_ids is always safe."""


def request_id() -> str:
    event = router.current_event
    for name, value in (event.headers or {}).items():
        if name.lower() == "x-request-id" and value:
            return str(value)[:128]
    return (event.raw_event.get("requestContext") or {}).get("requestId") or ""


def read_json() -> Any:
    """The body as JSON with exact, bounded numbers (``tollgate.domain.usage.numbers.loads``): fractions
    become Decimal, numbers out of range are judged per event, NaN/Infinity are refused."""
    event = router.current_event
    body = event.body
    if not body:
        raise BadRequest('The request has no body: send the event (or {"events": [...]}) as JSON.', code="EMPTY_BODY")
    try:
        if event.raw_event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8")
        return numbers.loads(body)
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON ({exc}).", code="INVALID_JSON") from None
    except RecursionError:
        raise BadRequest("The request body nests JSON too deeply.", code="INVALID_JSON") from None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None):
    return Response(status, "application/json", canonical_json(body, sort_keys=False), headers=headers)


def run_ingest(caller: Caller, events: list[Any], *, single: bool) -> ingest_cases.IngestResult:
    try:
        return ingest_cases.ingest(
            wiring.ingest_deps(), caller, events, single=single, received_at=utcnow(), request_id=request_id()
        )
    except StoreUnavailable as exc:
        raise usage_cases.unavailable(str(exc)) from None


def native_events(payload: Any) -> tuple[list[Any], bool]:
    if isinstance(payload, list):
        return payload, False
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise BadRequest('"events" must be a list of events.', code="INVALID_BATCH")
        return events, False
    if isinstance(payload, dict):
        return [payload], True
    raise BadRequest('Send one event (a JSON object) or a batch: {"events": [...]}.', code="INVALID_BATCH")


@router.post(
    "/v1/ingest/events",
    openapi_extensions=with_body(INGEST, INGEST_BODY),
    tags=["ingestion"],
    summary="Send usage events (one, or a batch of up to 1000)",
    description=INGEST_DESCRIPTION,
    responses={
        202: {"description": "Each event accepted, counted as a duplicate, or rejected with a code and a detail"}
    },
)
def ingest_events(caller: Caller_):
    events, single = native_events(read_json())
    result = run_ingest(caller, events, single=single)
    return json_response(202, result.to_json())


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)  # windows and spans computed from a time stay within datetime's range


def _time(value: str | None, name: str) -> datetime | None:
    """A query time: RFC 3339 with an offset, from 1970 up to (not including) the year 9999."""
    if value is None:
        return None
    try:
        at = parse_rfc3339(value)
    except ValueError:
        raise InvalidInput(f"{name} must be RFC 3339 with an offset, e.g. 2026-04-17T10:00:00Z.", field=name) from None
    if not EARLIEST <= at < LATEST:
        raise InvalidInput(f"{name} must be from 1970-01-01T00:00:00Z up to the year 9999 (exclusive).", field=name)
    return at


@router.get(
    "/v1/ingest/events",
    openapi_extensions=READ,
    tags=["ingestion"],
    summary="The event log (Event Debugger): stored, duplicate and rejected events with the reason, newest first",
)
def event_log(
    caller: Caller_,
    external_customer_id: Annotated[str | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
    event_name: Annotated[str | None, Query()] = None,
    meter_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["ACCEPTED", "LATE", "DUPLICATE", "REJECTED"] | None, Query()] = None,
    from_: Annotated[
        str | None, Query(alias="from", description="Received at or after (RFC 3339); default 24 h ago")
    ] = None,
    to: Annotated[str | None, Query(description="Received before (RFC 3339); default now")] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
):
    query = usage_cases.EventLogQuery(
        customer_id=customer_id,
        external_customer_id=external_customer_id,
        meter_id=meter_id,
        event_name=event_name,
        status=status,
        start=_time(from_, "from"),
        end=_time(to, "to"),
        limit=limit,
        cursor=starting_after,
    )
    body = usage_cases.list_event_log(
        wiring.usage_event_store(),
        wiring.customer_repository(),
        wiring.catalog_repository(),
        caller,
        query,
        now=utcnow(),
    )
    return json_response(200, body)


@router.get(
    "/v1/ingest/diagnose",
    openapi_extensions=READ,
    tags=["ingestion"],
    summary="Integration diagnosis: which documented cause explains missing or wrong usage",
)
def ingest_diagnose(
    caller: Caller_,
    external_customer_id: Annotated[str | None, Query(description="Focus on this customer")] = None,
    event_name: Annotated[str | None, Query(description="Check this event name against the meters")] = None,
    key_id: Annotated[
        str | None, Query(description="Check this key's ingestion permission (default: the calling key)")
    ] = None,
    hours: Annotated[int, Query(ge=1, le=168, description="How far back to look at ingestion")] = 24,
):
    if caller.kind is KeyKind.CUSTOMER:
        external_customer_id, key_id = None, None
    body = diagnose(
        caller=caller,
        events=wiring.usage_event_store(),
        customers=wiring.customer_repository(),
        subscriptions=wiring.subscription_repository(),
        catalog=wiring.catalog_repository(),
        tenancy=wiring.tenancy_repository(),
        now=utcnow(),
        external_customer_id=external_customer_id,
        event_name=event_name,
        key_id=key_id,
        hours=hours,
        gateway=wiring.gateway_store() if caller.kind is KeyKind.OPERATOR else None,
    )
    return json_response(200, body)


def _setting(name: str, description: str) -> Any:
    """A whole number within the setting's range; strict: ``true`` is not 1, ``"5"`` is not 5."""
    low, high = SETTING_RANGES[name]
    return Field(default=None, strict=True, ge=low, le=high, description=f"{description} ({low} to {high}).")


class IngestSettingsIn(ApiModel):
    rate_limit_per_second: int | None = _setting("rate_limit_per_second", "Events per second for the whole tenant")
    key_rate_limit_per_second: int | None = _setting("key_rate_limit_per_second", "Events per second for one API key")
    retention_days: int | None = _setting("retention_days", "Days raw events and the event log are kept")


class IngestSettingsOut(ApiModel):
    rate_limit_per_second: int
    key_rate_limit_per_second: int
    retention_days: int


@router.get(
    "/v1/ingest/settings",
    openapi_extensions=requires(Permission.USAGE_READ),
    tags=["ingestion"],
    summary="The tenant's ingestion rate limits and event retention",
)
def get_ingest_settings(caller: Caller_) -> IngestSettingsOut:
    return IngestSettingsOut(**ingest_cases.effective_settings(wiring.ingest_deps(), caller.tenant_id).to_json())


@router.put(
    "/v1/ingest/settings",
    openapi_extensions=requires(Permission.USAGE_INGEST),
    tags=["ingestion"],
    summary="Change the tenant's ingestion rate limits and event retention",
)
def put_ingest_settings(body: IngestSettingsIn, caller: Caller_) -> IngestSettingsOut:
    updated = ingest_cases.update_settings(wiring.ingest_deps(), caller.tenant_id, body.model_dump(exclude_none=True))
    return IngestSettingsOut(**updated.to_json())


@router.get(
    "/v1/usage",
    openapi_extensions=READ,
    tags=["usage"],
    summary="Aggregated usage of a customer for a meter (Query Tool), per HOUR, DAY or MONTH window",
)
def usage_query(
    caller: Caller_,
    customer_id: Annotated[str | None, Query()] = None,
    external_customer_id: Annotated[str | None, Query()] = None,
    meter_id: Annotated[str | None, Query()] = None,
    event_name: Annotated[str | None, Query()] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from", description="Event time (RFC 3339), rounded down to the hour; default: start of this month"
        ),
    ] = None,
    to: Annotated[str | None, Query(description="Event time (RFC 3339), exclusive; default now")] = None,
    window: Annotated[Window | None, Query(description="HOUR, DAY or MONTH (UTC); omit for the total only")] = None,
):
    body = usage_cases.usage_report(
        wiring.customer_repository(),
        wiring.catalog_repository(),
        wiring.usage_store(),
        caller,
        customer_id=customer_id,
        external_customer_id=external_customer_id,
        meter_id=meter_id,
        event_name=event_name,
        start=_time(from_, "from"),
        end=_time(to, "to"),
        window=window,
        now=utcnow(),
    )
    return json_response(200, body)
