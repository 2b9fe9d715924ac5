"""Outbound webhooks: endpoints (CRUD, rotate-secret), the delivery log, resend, replay, test, and the
catalogue of event types (``GET /v1/webhook-event-types``)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field, StrictBool, StrictInt

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import MetadataValue, Timestamp
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.webhooks.deliveries import Attempt, Delivery
from tollgate.domain.webhooks.endpoints import MAX_ENDPOINTS_PER_TENANT, WebhookEndpoint
from tollgate.usecases import webhooks as cases

router = Router()
TAGS = ["webhooks"]

Url = Annotated[str, Field(min_length=1, max_length=2048, description="https:// URL that receives the events.")]
EventTypeName = Annotated[str, Field(min_length=1, max_length=100)]
MetadataKey = Annotated[str, Field(min_length=1, max_length=40)]
Description = Annotated[str, Field(max_length=500)]
EnabledEvents = Annotated[
    list[EventTypeName],
    Field(min_length=1, max_length=100, description='["*"] for every type, or names from GET /v1/webhook-event-types.'),
]


def _answer(status: int, model: ApiModel) -> Response:
    return Response(status, "application/json", model.model_dump(mode="json"))


class EndpointIn(ApiModel):
    url: Url
    description: Description = ""
    enabled_events: EnabledEvents = Field(default_factory=lambda: ["*"])
    disabled: StrictBool = False
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, description="Up to 50 keys.")


class EndpointPatch(ApiModel):
    url: Url | None = None
    description: Description | None = None
    enabled_events: EnabledEvents | None = None
    disabled: StrictBool | None = Field(default=None, description="false enables a disabled endpoint again.")
    metadata: dict[MetadataKey, MetadataValue | None] | None = Field(
        default=None, description="The keys to set; a null value removes the key."
    )


class EndpointOut(ApiModel):
    id: str
    url: str
    description: str
    enabled_events: list[str]
    disabled: bool
    disabled_reason: str | None
    metadata: dict[str, str]
    failing_since: str | None = Field(description="First failed attempt since the last success (5 days disables).")
    previous_secret_expires_at: str | None = Field(description="Until then the previous secret signs too.")
    created_at: str
    updated_at: str


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="whsec_…: shown once; verify signatures with it.")


class EndpointList(PageFields):
    data: list[EndpointOut]


class RotateIn(ApiModel):
    overlap_seconds: StrictInt | None = Field(
        default=None, description="How long the previous secret keeps signing: 0 to 604800 (7 days); 86400 if absent."
    )


class AttemptOut(ApiModel):
    id: str
    delivery_id: str
    webhook_id: str
    event_type: str
    attempt: int
    attempted_at: str
    status_code: int | None = Field(description="The receiver's HTTP status; null when it did not answer.")
    latency_ms: int
    response_body: str = Field(description="The first 1024 characters of the answer.")
    error: str | None
    succeeded: bool
    next_retry_at: str | None
    manual: bool = Field(description="A resend or replay (no automatic retries follow it).")


class AttemptList(PageFields):
    data: list[AttemptOut]


class DeliveryOut(ApiModel):
    id: str
    endpoint_id: str
    webhook_id: str
    event_type: str
    status: str = Field(description="pending, succeeded or failed.")
    attempts: int
    created_at: str


class ReplayIn(ApiModel):
    since: Timestamp = Field(description="Resend what failed since then (at most 30 days ago).")


class ReplayOut(ApiModel):
    replayed: int
    delivery_ids: list[str]


class EventTypeOut(ApiModel):
    name: str
    description: str
    data_schema: dict[str, Any] = Field(description="JSON Schema of the event's data.")


class EventTypeList(ApiModel):
    data: list[EventTypeOut]


def endpoint_out(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.endpoint_id,
        "url": e.url,
        "description": e.description,
        "enabled_events": list(e.enabled_events),
        "disabled": e.disabled,
        "disabled_reason": e.disabled_reason,
        "metadata": e.metadata,
        "failing_since": to_rfc3339(e.failing_since) if e.failing_since else None,
        "previous_secret_expires_at": (
            to_rfc3339(e.previous_secret_expires_at) if e.previous_secret_expires_at else None
        ),
        "created_at": to_rfc3339(e.created_at),
        "updated_at": to_rfc3339(e.updated_at),
    }


def attempt_out(a: Attempt) -> AttemptOut:
    return AttemptOut(
        id=f"{a.delivery_id}#{a.number}",
        delivery_id=a.delivery_id,
        webhook_id=a.message_id,
        event_type=a.event_type,
        attempt=a.number,
        attempted_at=to_rfc3339(a.attempted_at),
        status_code=a.status_code,
        latency_ms=a.latency_ms,
        response_body=a.response_body,
        error=a.error,
        succeeded=a.succeeded,
        next_retry_at=to_rfc3339(a.next_attempt_at) if a.next_attempt_at else None,
        manual=a.manual,
    )


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.delivery_id,
        endpoint_id=d.endpoint_id,
        webhook_id=d.message_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        created_at=to_rfc3339(d.created_at),
    )


def _created(status: int, model: type[ApiModel]) -> dict:
    return {
        status: {
            "description": "Created" if status == 201 else "Accepted",
            "content": {"application/json": {"model": model}},
        }
    }


@router.post(
    "/v1/webhook-endpoints",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary=f"Create a webhook endpoint (at most {MAX_ENDPOINTS_PER_TENANT} per tenant); the secret is shown once",
    responses=_created(201, EndpointWithSecret),
)
def create_endpoint(
    body: EndpointIn, caller: Annotated[Caller, Depends(current_caller)]
) -> Response[EndpointWithSecret]:
    e = cases.create_endpoint(wiring.webhook_deps(), caller.tenant_id, body.model_dump())
    return _answer(201, EndpointWithSecret(**endpoint_out(e), secret=e.secret))


@router.get(
    "/v1/webhook-endpoints",
    openapi_extensions=requires(Permission.WEBHOOKS_READ),
    tags=TAGS,
    summary="List webhook endpoints",
)
def list_endpoints(
    caller: Annotated[Caller, Depends(current_caller)],
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> EndpointList:
    page = cases.page_endpoints(wiring.webhook_deps(), caller.tenant_id, limit=limit, cursor=starting_after)
    return EndpointList(data=[EndpointOut(**endpoint_out(e)) for e in page.data], **page_fields(page))


@router.get(
    "/v1/webhook-endpoints/<endpoint_id>",
    openapi_extensions=requires(Permission.WEBHOOKS_READ),
    tags=TAGS,
    summary="Get a webhook endpoint (never its secret)",
)
def get_endpoint(endpoint_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> EndpointOut:
    return EndpointOut(**endpoint_out(cases.get_endpoint(wiring.webhook_deps(), caller.tenant_id, endpoint_id)))


@router.patch(
    "/v1/webhook-endpoints/<endpoint_id>",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Update a webhook endpoint (url, description, enabled_events, disabled, metadata)",
)
def update_endpoint(
    endpoint_id: str, body: EndpointPatch, caller: Annotated[Caller, Depends(current_caller)]
) -> EndpointOut:
    changes = body.model_dump(exclude_unset=True)
    e = cases.update_endpoint(wiring.webhook_deps(), caller.tenant_id, endpoint_id, changes)
    return EndpointOut(**endpoint_out(e))


@router.delete(
    "/v1/webhook-endpoints/<endpoint_id>",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Delete a webhook endpoint (pending retries to it stop)",
)
def delete_endpoint(endpoint_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> EndpointOut:
    return EndpointOut(**endpoint_out(cases.delete_endpoint(wiring.webhook_deps(), caller.tenant_id, endpoint_id)))


@router.post(
    "/v1/webhook-endpoints/<endpoint_id>/rotate-secret",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Rotate the signing secret: the new one is shown once; the previous one also signs during the overlap",
)
def rotate_secret(
    endpoint_id: str, body: RotateIn, caller: Annotated[Caller, Depends(current_caller)]
) -> EndpointWithSecret:
    e = cases.rotate_secret(wiring.webhook_deps(), caller.tenant_id, endpoint_id, body.overlap_seconds)
    return EndpointWithSecret(**endpoint_out(e), secret=e.secret)


@router.get(
    "/v1/webhook-endpoints/<endpoint_id>/deliveries",
    openapi_extensions=requires(Permission.WEBHOOKS_READ),
    tags=TAGS,
    summary="The endpoint's delivery attempts, newest first (status code, latency, answer, next retry)",
)
def list_deliveries(
    endpoint_id: str,
    caller: Annotated[Caller, Depends(current_caller)],
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> AttemptList:
    deps = wiring.webhook_deps()
    page = cases.page_attempts(deps, caller.tenant_id, endpoint_id, limit=limit, cursor=starting_after)
    return AttemptList(data=[attempt_out(a) for a in page.data], **page_fields(page))


@router.post(
    "/v1/webhook-deliveries/<delivery_id>/resend",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Resend a delivery now (same webhook-id); 409 while it is still being retried",
    responses=_created(202, DeliveryOut),
)
def resend(delivery_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> Response[DeliveryOut]:
    return _answer(202, delivery_out(cases.resend(wiring.webhook_deps(), caller.tenant_id, delivery_id)))


@router.post(
    "/v1/webhook-endpoints/<endpoint_id>/replay",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Resend every delivery to the endpoint that failed since a time (at most 500 a call)",
    responses=_created(202, ReplayOut),
)
def replay(endpoint_id: str, body: ReplayIn, caller: Annotated[Caller, Depends(current_caller)]) -> Response[ReplayOut]:
    try:
        since = parse_rfc3339(body.since)
    except ValueError:
        raise InvalidInput("since must be RFC 3339 with an offset, e.g. 2026-01-31T00:00:00Z.", field="since") from None
    ids = cases.replay(wiring.webhook_deps(), caller.tenant_id, endpoint_id, since)
    return _answer(202, ReplayOut(replayed=len(ids), delivery_ids=ids))


@router.post(
    "/v1/webhook-endpoints/<endpoint_id>/test",
    openapi_extensions=requires(Permission.WEBHOOKS_WRITE),
    tags=TAGS,
    summary="Send a webhook.test event to the endpoint",
    responses=_created(202, DeliveryOut),
)
def send_test(endpoint_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> Response[DeliveryOut]:
    return _answer(202, delivery_out(cases.send_test(wiring.webhook_deps(), caller.tenant_id, endpoint_id)))


@cache
def _event_types() -> EventTypeList:
    from pydantic import TypeAdapter

    from tollgate.domain.event_types import CATALOGUE

    out = []
    for t in CATALOGUE:
        schema = TypeAdapter(t.data).json_schema()
        schema["additionalProperties"] = True
        out.append(EventTypeOut(name=t.name, description=t.description, data_schema=schema))
    return EventTypeList(data=out)


@router.get(
    "/v1/webhook-event-types",
    openapi_extensions=requires(Permission.WEBHOOKS_READ),
    tags=TAGS,
    summary="Every event type a webhook endpoint can subscribe to, with the JSON Schema of its data",
)
def list_event_types(caller: Annotated[Caller, Depends(current_caller)]) -> EventTypeList:
    return _event_types()
