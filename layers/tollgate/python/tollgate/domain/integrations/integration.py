"""A tenant's connection to one API gateway (issue 19): AWS API Gateway, Kong, Azure API Management, Apigee.

An integration holds its type, a name and a ``config`` (where the gateway is: role ARN and region, Admin
API URL, APIM service, Apigee organization). Its ``credentials`` are write-only and live apart from it
(Secrets Manager, one secret per integration: ``ports.integrations.IntegrationCredentials``); the item
only says when they were last set. Test Connection moves it ``PENDING`` → ``CONNECTED`` | ``ERROR`` (with
the seed's cause and fix); changing its config or credentials sends it back to ``PENDING``.

Validation here is shape only (required fields, lengths, formats); whether a base URL may be reached is
decided by the use case (``domain.webhooks.urls``), whether the credentials work by Test Connection.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from tollgate.domain.errors import InvalidInput

MAX_NAME = 200
MAX_VALUE = 2048  # any config or credential string
MAX_SECRET_JSON = 16_384  # a Google service-account key file
MAX_INTEGRATIONS_PER_TENANT = 100
MAX_DETAIL = 500  # a stored failure's detail (it quotes vendor answers): bounded


def capped(detail: str | None) -> str | None:
    """A failure's detail as stored: at most ``MAX_DETAIL`` characters (an ellipsis says it was cut)."""
    if detail is None or len(detail) <= MAX_DETAIL:
        return detail
    return detail[: MAX_DETAIL - 1] + "…"


class IntegrationType(StrEnum):
    AWS_API_GATEWAY = "aws_api_gateway"
    KONG = "kong"
    AZURE_APIM = "azure_apim"
    APIGEE = "apigee"


class IntegrationStatus(StrEnum):
    PENDING = "PENDING"  # created or changed, not tested since
    CONNECTED = "CONNECTED"  # the last Test Connection succeeded
    ERROR = "ERROR"  # the last Test Connection failed: error_code, detail, fix


@dataclass(frozen=True)
class Integration:
    integration_id: str
    tenant_id: str
    type: IntegrationType
    name: str
    config: dict[str, str]
    created_at: datetime
    updated_at: datetime
    credentials_updated_at: datetime | None = None
    status: IntegrationStatus = IntegrationStatus.PENDING
    error_code: str | None = None
    detail: str | None = None
    fix: str | None = None
    last_checked_at: datetime | None = None
    version: int = 1

    @property
    def credentials_set(self) -> bool:
        return self.credentials_updated_at is not None

    def checked(
        self, *, ok: bool, error_code: str | None, detail: str | None, fix: str | None, at: datetime
    ) -> Integration:
        """The integration after a Test Connection that answered ``ok`` (or the failure's cause and fix)."""
        if ok:
            status, error_code, detail, fix = IntegrationStatus.CONNECTED, None, None, None
        else:
            status, error_code = IntegrationStatus.ERROR, error_code or "GATEWAY_UNREACHABLE"
        return replace(
            self,
            status=status,
            error_code=error_code,
            detail=capped(detail),
            fix=fix,
            last_checked_at=at,
            version=self.version + 1,
        )

    def changed(self, at: datetime, **fields: Any) -> Integration:
        """Name, config or credentials changed: a new config or credential needs a new test (PENDING)."""
        needs_test = "config" in fields or "credentials_updated_at" in fields
        after = replace(self, **fields, updated_at=at, version=self.version + 1)
        if needs_test:
            after = replace(after, status=IntegrationStatus.PENDING, error_code=None, detail=None, fix=None)
        return after


# -- per type: the config and credential fields ---------------------------------------------------------

Check = Callable[[str, str], str]  # (field path, value) -> the value to store, or InvalidInput


def _pattern(regex: str, example: str) -> Check:
    compiled = re.compile(regex)

    def check(path: str, value: str) -> str:
        if not compiled.fullmatch(value):
            raise InvalidInput(f"{path} is not valid: expected something like {example!r}.", field=path)
        return value

    return check


def _text(path: str, value: str) -> str:
    if not value.strip():
        raise InvalidInput(f"{path} must not be blank.", field=path)
    return value


def _url(path: str, value: str) -> str:
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidInput(f"{path} is not a valid URL: {exc}.", field=path) from None
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise InvalidInput(f"{path} must be an absolute https:// URL without credentials.", field=path)
    return value.rstrip("/")


def _service_account(path: str, value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not parsed.get("client_email") or not parsed.get("private_key"):
        raise InvalidInput(
            f"{path} must be a Google service-account key file (JSON with client_email and private_key).", field=path
        )
    return value


ROLE_ARN = _pattern(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", "arn:aws:iam::123456789012:role/Tollgate")
REGION = _pattern(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", "us-east-1")
GUID = _pattern(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", "00000000-0000-0000-0000-000000000000")
AZURE_NAME = _pattern(r"[\w().-]{1,90}", "my-resource-group")
AZURE_TENANT = _pattern(r"[0-9a-fA-F-]{36}|[\w.-]{1,253}", "contoso.onmicrosoft.com")
APIGEE_NAME = _pattern(r"[a-z][a-z0-9-]{0,99}", "my-org")


@dataclass(frozen=True)
class TypeSpec:
    """The config and credential fields of a type: name -> check; ``required`` ones must be present.
    ``credential_choices``: exactly one of these sets of credential fields (Apigee: a token or a key file)."""

    config: dict[str, Check]
    config_required: frozenset[str]
    credentials: dict[str, Check]
    credential_choices: tuple[frozenset[str], ...]
    url_fields: tuple[str, ...] = field(default=())


SPECS: dict[IntegrationType, TypeSpec] = {
    IntegrationType.AWS_API_GATEWAY: TypeSpec(
        config={"role_arn": ROLE_ARN, "region": REGION},  # external_id: generated by Tollgate, never sent
        config_required=frozenset({"role_arn", "region"}),
        credentials={},
        credential_choices=(frozenset(),),
    ),
    IntegrationType.KONG: TypeSpec(
        config={"admin_url": _url},
        config_required=frozenset({"admin_url"}),
        credentials={"token": _text},
        credential_choices=(frozenset({"token"}),),
        url_fields=("admin_url",),
    ),
    IntegrationType.AZURE_APIM: TypeSpec(
        config={
            "tenant_id": AZURE_TENANT,
            "subscription_id": GUID,
            "resource_group": AZURE_NAME,
            "service_name": _pattern(r"[a-zA-Z][a-zA-Z0-9-]{0,49}", "contoso-apim"),
            "login_url": _url,
            "management_url": _url,
        },
        config_required=frozenset({"tenant_id", "subscription_id", "resource_group", "service_name"}),
        credentials={"client_id": _text, "client_secret": _text},
        credential_choices=(frozenset({"client_id", "client_secret"}),),
        url_fields=("login_url", "management_url"),
    ),
    IntegrationType.APIGEE: TypeSpec(
        config={"organization": APIGEE_NAME, "environment": APIGEE_NAME, "base_url": _url},
        config_required=frozenset({"organization"}),
        credentials={"access_token": _text, "service_account_json": _service_account},
        credential_choices=(frozenset({"access_token"}), frozenset({"service_account_json"})),
        url_fields=("base_url",),
    ),
}


def parse_type(value: Any) -> IntegrationType:
    try:
        return IntegrationType(value)
    except ValueError:
        names = ", ".join(t.value for t in IntegrationType)
        raise InvalidInput(f"type must be one of {names}.", field="type") from None


def _strings(kind: str, data: Any, allowed: dict[str, Check], limit: int = MAX_VALUE) -> dict[str, str]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{kind} must be a JSON object.", field=kind)
    out: dict[str, str] = {}
    for name, value in data.items():
        path = f"{kind}.{name}"
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(f"{path} is not a field of this type (known: {known}).", field=path)
        if name == "service_account_json" and isinstance(value, dict):
            value = json.dumps(value)  # the key file as an object, stored as its text
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{path} must be a string.", field=path)
        bound = MAX_SECRET_JSON if name == "service_account_json" else limit
        if not 0 < len(value) <= bound:
            raise InvalidInput(f"{path} must be 1 to {bound} characters.", field=path)
        out[name] = allowed[name](path, value)
    return out


def validate_config(
    type_: IntegrationType, data: Any, *, tenant_id: str, external_id: str | None = None
) -> dict[str, str]:
    """The config to store, else InvalidInput naming the field. AWS: the ExternalId is Tollgate's alone (a
    client-sent one is refused): ``external_id`` (the stored one, on a change) is kept, else one is generated."""
    spec = SPECS[type_]
    if type_ is IntegrationType.AWS_API_GATEWAY and isinstance(data, dict) and "external_id" in data:
        if external_id is None or data["external_id"] != external_id:  # the stored one sent back is fine (GET + PATCH)
            raise InvalidInput(
                "config.external_id cannot be set: Tollgate generates the ExternalId (bound to your tenant) when "
                "the integration is created; leave it out.",
                field="config.external_id",
            )
        data = {k: v for k, v in data.items() if k != "external_id"}
    config = _strings("config", data, spec.config)
    missing = sorted(spec.config_required - set(config))
    if missing:
        raise InvalidInput(f"config.{missing[0]} is required for type {type_.value}.", field=f"config.{missing[0]}")
    if type_ is IntegrationType.AWS_API_GATEWAY:
        bound = external_id and external_id.startswith(external_id_prefix(tenant_id))
        config["external_id"] = external_id if external_id and bound else new_external_id(tenant_id)
    return config


def validate_credentials(type_: IntegrationType, data: Any) -> dict[str, str]:
    spec = SPECS[type_]
    credentials = _strings("credentials", data, spec.credentials)
    if set(credentials) not in spec.credential_choices:
        choices = " or ".join("{" + ", ".join(sorted(c)) + "}" for c in spec.credential_choices)
        raise InvalidInput(f"credentials for type {type_.value} must be exactly {choices}.", field="credentials")
    return credentials


def validate_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise InvalidInput(f"name must be 1 to {MAX_NAME} characters.", field="name")
    return value


def new_external_id(tenant_id: str) -> str:
    """The sts:ExternalId a tenant's role trusts Tollgate with: bound to the tenant, random per integration."""
    return f"{external_id_prefix(tenant_id)}{secrets.token_hex(16)}"


def external_id_prefix(tenant_id: str) -> str:
    """Every ExternalId of a tenant starts with this (checked again before Tollgate assumes a role)."""
    return f"tg-{tenant_id}-"


# -- the seed's causes: error codes, fixes --------------------------------------------------------------

ROLE_TEMPLATE_PATH = "GET /v1/integrations/aws/role-template"
FIXES: dict[str, str] = {
    "KONG_PAT_EXPIRED": "Generate a new token in Kong Manager",
    "AWS_ROLE_PERMISSIONS_INSUFFICIENT": f"Check the CloudFormation template was applied ({ROLE_TEMPLATE_PATH})",
    "AWS_ROLE_NOT_ASSUMABLE": (
        "Check the role's trust policy names Tollgate's account and this integration's ExternalId: apply the "
        f"CloudFormation template ({ROLE_TEMPLATE_PATH})"
    ),
    "AZURE_SECRET_EXPIRED": "Rotate the service principal secret in Azure AD",
    "APIGEE_TOKEN_EXPIRED": "Re-authorize the integration",
    "GATEWAY_UNREACHABLE": "Check the gateway's URL and that it accepts connections, then test again",
    "GATEWAY_NOT_FOUND": "Check the integration's config names an existing gateway, service or organization",
}
