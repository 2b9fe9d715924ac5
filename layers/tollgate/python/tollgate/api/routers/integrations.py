"""Gateway integrations (issue 19): connect AWS API Gateway, Kong, Azure API Management or Apigee, test
the connection, and serve the AWS role template. Credentials are write-only: a response says only
``credentials_set`` and ``credentials_updated_at``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ConfigDict, Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.integrations.integration import MAX_NAME, MAX_SECRET_JSON, MAX_VALUE, Integration, IntegrationType
from tollgate.usecases import integrations as cases

router = Router()
TAGS = ["integrations"]

TypeName = Annotated[str, Field(description="aws_api_gateway, kong, azure_apim or apigee.", max_length=40)]
FieldName = Annotated[str, Field(min_length=1, max_length=64)]
ConfigValue = Annotated[str, Field(max_length=MAX_VALUE)]
CredentialValue = Annotated[str, Field(max_length=MAX_SECRET_JSON)] | dict[str, Any]
Config = Annotated[
    dict[FieldName, ConfigValue],
    Field(
        max_length=20,
        description=(
            "Per type: aws_api_gateway {role_arn, region, external_id?}; kong {admin_url}; azure_apim "
            "{tenant_id, subscription_id, resource_group, service_name, login_url?, management_url?}; apigee "
            "{organization, environment?, base_url?}."
        ),
    ),
]
Credentials = Annotated[
    dict[FieldName, CredentialValue],
    Field(
        max_length=20,
        description=(
            "Write-only. aws_api_gateway {} (Tollgate assumes the role with the ExternalId); kong {token}; "
            "azure_apim {client_id, client_secret}; apigee {access_token} or {service_account_json}."
        ),
    ),
]
IntegrationName = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]


class IntegrationIn(ApiModel):
    type: TypeName
    name: IntegrationName
    config: Config
    credentials: Credentials = Field(default_factory=dict)


class IntegrationPatch(ApiModel):
    name: IntegrationName | None = None
    config: Config | None = Field(default=None, description="Replaces the config (AWS keeps its external_id).")
    credentials: Credentials | None = Field(default=None, description="Rotates the credentials (replaced whole).")


class IntegrationOut(ApiModel):
    id: str
    type: str
    name: str
    config: dict[str, str] = Field(description="As stored; for aws_api_gateway it includes the external_id.")
    status: str = Field(description="PENDING (not tested since created or changed), CONNECTED or ERROR.")
    error_code: str | None = Field(description="When ERROR: e.g. KONG_PAT_EXPIRED, AWS_ROLE_PERMISSIONS_INSUFFICIENT.")
    detail: str | None = Field(description="When ERROR: what Test Connection found.")
    fix: str | None = Field(description="When ERROR: what to do about it.")
    last_checked_at: str | None
    credentials_set: bool
    credentials_updated_at: str | None
    created_at: str
    updated_at: str


class IntegrationList(PageFields):
    data: list[IntegrationOut]


class RoleTemplate(ApiModel):
    """A CloudFormation template (JSON): apply it in the account whose API Gateway Tollgate manages."""

    model_config = ConfigDict(extra="allow")

    AWSTemplateFormatVersion: str
    Description: str
    Parameters: dict[str, Any]
    Resources: dict[str, Any]
    Outputs: dict[str, Any]


def integration_out(i: Integration) -> IntegrationOut:
    return IntegrationOut(
        id=i.integration_id,
        type=i.type.value,
        name=i.name,
        config=dict(i.config),
        status=i.status.value,
        error_code=i.error_code,
        detail=i.detail,
        fix=i.fix,
        last_checked_at=to_rfc3339(i.last_checked_at) if i.last_checked_at else None,
        credentials_set=i.credentials_set,
        credentials_updated_at=to_rfc3339(i.credentials_updated_at) if i.credentials_updated_at else None,
        created_at=to_rfc3339(i.created_at),
        updated_at=to_rfc3339(i.updated_at),
    )


def _created(model: IntegrationOut) -> Response:
    return Response(201, "application/json", model.model_dump(mode="json"))


@router.post(
    "/v1/integrations",
    openapi_extensions=requires(Permission.INTEGRATIONS_WRITE),
    tags=TAGS,
    summary="Connect a gateway (status PENDING until tested); credentials are stored encrypted, never returned",
    responses={201: {"description": "Created", "content": {"application/json": {"model": IntegrationOut}}}},
)
def create_integration(
    body: IntegrationIn, caller: Annotated[Caller, Depends(current_caller)]
) -> Response[IntegrationOut]:
    created = cases.create(wiring.integration_deps(), caller.tenant_id, body.model_dump())
    return _created(integration_out(created))


@router.get(
    "/v1/integrations",
    openapi_extensions=requires(Permission.INTEGRATIONS_READ),
    tags=TAGS,
    summary="List gateway integrations",
)
def list_integrations(
    caller: Annotated[Caller, Depends(current_caller)],
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> IntegrationList:
    page = cases.page(wiring.integration_deps(), caller.tenant_id, limit=limit, cursor=starting_after)
    return IntegrationList(data=[integration_out(i) for i in page.data], **page_fields(page))


@router.get(
    "/v1/integrations/aws/role-template",
    openapi_extensions=requires(Permission.INTEGRATIONS_READ),
    tags=TAGS,
    summary="The CloudFormation template of the role Tollgate assumes in your AWS account (least privilege)",
)
def aws_role_template(
    caller: Annotated[Caller, Depends(current_caller)],
    integration_id: Annotated[
        str | None,
        Query(max_length=200, description="An aws_api_gateway integration: its external_id fills the parameter."),
    ] = None,
) -> RoleTemplate:
    from tollgate.adapters.gateways.aws import role_template, tollgate_account_id

    external_id = None
    if integration_id is not None:
        integration = cases.get(wiring.integration_deps(), caller.tenant_id, integration_id)
        if integration.type is not IntegrationType.AWS_API_GATEWAY:
            raise InvalidInput("integration_id must name an aws_api_gateway integration.", field="integration_id")
        external_id = integration.config.get("external_id")
    return RoleTemplate(**role_template(tollgate_account_id(), external_id))


@router.get(
    "/v1/integrations/<integration_id>",
    openapi_extensions=requires(Permission.INTEGRATIONS_READ),
    tags=TAGS,
    summary="Get a gateway integration (never its credentials)",
)
def get_integration(integration_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> IntegrationOut:
    return integration_out(cases.get(wiring.integration_deps(), caller.tenant_id, integration_id))


@router.patch(
    "/v1/integrations/<integration_id>",
    openapi_extensions=requires(Permission.INTEGRATIONS_WRITE),
    tags=TAGS,
    summary="Rename, change the config or rotate the credentials (a new config or credentials needs a new test)",
)
def update_integration(
    integration_id: str, body: IntegrationPatch, caller: Annotated[Caller, Depends(current_caller)]
) -> IntegrationOut:
    changes = body.model_dump(exclude_unset=True)
    return integration_out(cases.update(wiring.integration_deps(), caller.tenant_id, integration_id, changes))


@router.delete(
    "/v1/integrations/<integration_id>",
    openapi_extensions=requires(Permission.INTEGRATIONS_WRITE),
    tags=TAGS,
    summary="Delete a gateway integration and its stored credentials",
)
def delete_integration(integration_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> IntegrationOut:
    return integration_out(cases.delete(wiring.integration_deps(), caller.tenant_id, integration_id))


@router.post(
    "/v1/integrations/<integration_id>/test",
    openapi_extensions=requires(Permission.INTEGRATIONS_WRITE),
    tags=TAGS,
    summary="Test Connection: a real call with the stored credentials; CONNECTED, or ERROR with the cause and fix",
)
def check_integration(integration_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> IntegrationOut:
    return integration_out(cases.test_connection(wiring.integration_deps(), caller.tenant_id, integration_id))
