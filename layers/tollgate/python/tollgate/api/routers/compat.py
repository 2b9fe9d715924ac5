"""Drop-in ingestion for clients written for OpenMeter and Lago: change the base URL, keep the client.

These paths sit behind the ``key_only`` authorizer (``infra/definitions/api.json``): the clients send
``Authorization: Bearer <key>`` and no ``X-Tenant-Id``; the tenant is the key's. A customer key sends for
its own customer, an operator key with usage:ingest for any. Events go through the same ingestion as
``POST /v1/ingest/events`` (same rules, same exactly-once storage).

- OpenMeter, ``POST /compat/openmeter/api/v1/events``: a CloudEvent (``application/cloudevents+json``) or
  a JSON array of them (``application/cloudevents-batch+json``; ``application/json`` takes either).
  ``id`` -> event_id, ``type`` -> event name, ``subject`` -> customer external id, ``time`` -> timestamp,
  ``data`` -> properties. 204 when every event is stored (or already was); otherwise 400 with the
  rejections (the other events are stored: resending the whole batch is safe).
- Lago, ``POST /compat/lago/api/v1/events`` (``{"event": {...}}``) and ``.../events/batch``
  (``{"events": [...]}``): ``transaction_id`` -> event_id, ``code`` -> event name,
  ``external_customer_id`` or ``external_subscription_id`` -> customer, ``timestamp`` in Unix seconds,
  ``properties``. 200 with the event(s) as Lago answers them; 422 with the rejections otherwise.

An event without an id (CloudEvents' ``id`` and Lago's ``transaction_id`` are required by the peers, and
their clients always send one) is treated as natively: a new event with a server-assigned id, so a resend
of it counts again.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends

from tollgate.api.access import current_caller, requires
from tollgate.api.problems import PROBLEM_JSON, problem_body
from tollgate.api.routers.ingest import json_response, read_json, run_ingest
from tollgate.api.routers.ingest_schemas import LAGO_BATCH_BODY, LAGO_EVENT_BODY, OPENMETER_BODY, with_body
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import BadRequest
from tollgate.domain.usage import numbers
from tollgate.domain.usage.canonical import canonical_json
from tollgate.domain.usage.numbers import unix_seconds_to_rfc3339
from tollgate.domain.usage.parsing import storable

router = Router()
INGEST = requires(Permission.USAGE_INGEST, KeyKind.OPERATOR, KeyKind.CUSTOMER)
Caller_ = Annotated[Caller, Depends(current_caller)]


def _problem(status: int, title: str, detail: str, code: str, **extra: Any):
    body = problem_body(status, title, detail, router.current_event.path, code, **extra)
    return Response(status, PROBLEM_JSON, canonical_json(body, sort_keys=False))


def _rejections_problem(status: int, result):
    first = result.rejected[0]
    return _problem(
        status,
        "Events rejected",
        f"{len(result.rejected)} of {len(result.outcomes)} events were rejected; the others were stored "
        f"(resending them is safe). First: event {first.index} ({first.code.value}): {first.detail}",
        first.code.value,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=[r.to_json() for r in result.rejected],
    )


# -- OpenMeter ----------------------------------------------------------------------------------------
def from_cloudevent(ce: Any) -> Any:
    if not isinstance(ce, dict):
        return ce
    data = ce.get("data")
    if isinstance(data, str):
        with contextlib.suppress(ValueError, RecursionError):
            data = numbers.loads(data)
    event: dict[str, Any] = {
        "event_id": ce.get("id"),
        "event_name": ce.get("type"),
        "external_customer_id": ce.get("subject"),
        "timestamp": ce.get("time"),
        "properties": data,
    }
    return {k: v for k, v in event.items() if v is not None}


@router.post(
    "/compat/openmeter/api/v1/events",
    openapi_extensions=with_body(INGEST, OPENMETER_BODY),
    tags=["compatibility"],
    summary="OpenMeter-compatible ingestion (CloudEvents; 204)",
    # 400 (some events rejected: problem+json with the rejections) is documented with every problem response.
    responses={204: {"description": "Every event stored (or stored before)"}},
)
def openmeter_ingest(caller: Caller_):
    payload = read_json()
    if isinstance(payload, list):
        events = [from_cloudevent(ce) for ce in payload]
    elif isinstance(payload, dict):
        events = [from_cloudevent(payload)]
    else:
        raise BadRequest("Send a CloudEvent or a JSON array of CloudEvents.", code="INVALID_BATCH")
    result = run_ingest(caller, events, single=False)
    if result.rejected:
        return _rejections_problem(400, result)
    return Response(204, None, "")


# -- Lago ----------------------------------------------------------------------------------------------
def _unix_to_rfc3339(value: Any) -> Any:
    """Lago's Unix seconds as RFC 3339; a value that is not in range (1970..9999) is passed on unchanged
    and rejected by ingestion (INVALID_TIMESTAMP), a string that is no number may be RFC 3339 already."""
    if value is None or isinstance(value, bool):
        return value
    return unix_seconds_to_rfc3339(value) or value


def from_lago(event: Any) -> Any:
    if not isinstance(event, dict):
        return event
    out: dict[str, Any] = {
        "event_id": event.get("transaction_id"),
        "event_name": event.get("code"),
        "external_customer_id": event.get("external_customer_id"),
        "external_subscription_id": event.get("external_subscription_id"),
        "timestamp": _unix_to_rfc3339(event.get("timestamp")),
        "properties": event.get("properties"),
    }
    return {k: v for k, v in out.items() if v is not None}


def _echoed(value: Any) -> Any:
    """A field ingestion does not read, echoed only when it is a number in range or storable text."""
    if numbers.billable_number(value) is not None:
        return value
    return storable(value)


def _lago_event(sent: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    stored = outcome.get("stored")
    return {
        "lago_id": stored.event_id if stored else None,
        "transaction_id": sent.get("transaction_id") or (stored.event_id if stored else ""),
        "lago_customer_id": stored.customer_id if stored else None,
        "lago_subscription_id": None,
        "external_subscription_id": sent.get("external_subscription_id") or "",
        "external_customer_id": stored.external_customer_id if stored else sent.get("external_customer_id"),
        "code": sent.get("code") or "",
        "timestamp": to_rfc3339(stored.timestamp) if stored else "",
        "precise_total_amount_cents": _echoed(sent.get("precise_total_amount_cents")),
        "properties": sent.get("properties") or {},
        "created_at": to_rfc3339(stored.received_at) if stored else None,
    }


def _lago(caller: Caller, sent: list[Any], single: bool):
    result = run_ingest(caller, [from_lago(e) for e in sent], single=False)
    if result.rejected:
        return _rejections_problem(422, result)
    events = [_lago_event(e if isinstance(e, dict) else {}, o) for e, o in zip(sent, result.outcomes, strict=True)]
    return json_response(200, {"event": events[0]} if single else {"events": events})


@router.post(
    "/compat/lago/api/v1/events",
    openapi_extensions=with_body(INGEST, LAGO_EVENT_BODY),
    tags=["compatibility"],
    summary="Lago-compatible ingestion of one event",
)
def lago_event(caller: Caller_):
    payload = read_json()
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), dict):
        raise BadRequest(
            'Send {"event": {"transaction_id", "code", "external_subscription_id" or "external_customer_id", ...}}.',
            code="INVALID_BATCH",
        )
    return _lago(caller, [payload["event"]], single=True)


@router.post(
    "/compat/lago/api/v1/events/batch",
    openapi_extensions=with_body(INGEST, LAGO_BATCH_BODY),
    tags=["compatibility"],
    summary="Lago-compatible ingestion of a batch of events",
)
def lago_batch(caller: Caller_):
    payload = read_json()
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise BadRequest('Send {"events": [...]}.', code="INVALID_BATCH")
    return _lago(caller, payload["events"], single=False)
