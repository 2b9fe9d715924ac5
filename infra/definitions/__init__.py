"""The one source of truth for Tollgate's resources.

Tables, functions, the event bus and its rules, schedules, API routes and state machine definitions
(ASL files) are declared here once. The CDK stack (``infra.stack``) and the local stack on moto
(``infra.local``) both build from these declarations, so the two cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

HERE = Path(__file__).parent
REPO_ROOT = HERE.parent.parent


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyAttribute(_Model):
    name: str
    type: Literal["S", "N", "B"]


class GlobalSecondaryIndex(_Model):
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None


class Table(_Model):
    description: str
    env: str
    local_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    global_secondary_indexes: list[GlobalSecondaryIndex]
    ttl_attribute: str | None
    stream: Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "OLD_IMAGE"] | None


class Bucket(_Model):
    description: str
    env: str
    local_name: str
    expire_after_days: int


class StreamSource(_Model):
    type: Literal["dynamodb_stream"]
    table: str
    batch_size: int
    filter: dict | None = None


class Function(_Model):
    description: str
    code: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    tables: dict[str, Literal["read", "read_write"]]
    event_bus: bool
    state_machines: list[str]
    platform_admin_secret: bool = False
    event_sources: list[StreamSource] = []
    buckets: dict[str, Literal["read", "read_write"]] = {}
    # Sends invoice email through SES (and submits the tenant's sender address for verification).
    send_email: bool = False
    # Replays what stream consumers gave up on: consumes every stream failure queue, reads the streams.
    replays_stream_failures: bool = False
    # PartiQL statement kinds the function runs per table ("INSERT", "SELECT", "UPDATE", "DELETE"): each
    # needs its own dynamodb:PartiQL* action, which the table's read/read_write grants do not include.
    partiql: dict[str, list[Literal["INSERT", "SELECT", "UPDATE", "DELETE"]]] = {}
    # Gateway integrations (issue 19): sts:AssumeRole of tenants' roles and their secrets (tollgate/*/integrations/*):
    # "manage" creates, rotates, reads and deletes them (the API), "use" only reads them (the drift check).
    gateway_integrations: Literal["manage", "use"] | None = None

    @property
    def module(self) -> str:
        """Import path of the handler module, e.g. ``functions.api.handler``."""
        return ".".join([*Path(self.code).parts, self.handler.rsplit(".", 1)[0]])

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


class Bus(_Model):
    name: str
    env: str
    source: str


class Rule(_Model):
    name: str
    description: str
    pattern: dict
    queue: str
    consumer: str
    batch_size: int
    max_receive_count: int
    # The queue's URL in this environment variable of each ``senders`` function, which may send to it.
    queue_env: str | None = None
    senders: list[str] = []


class Events(_Model):
    bus: Bus
    rules: list[Rule]


class ScheduleTarget(_Model):
    """What a schedule starts: a state machine's execution, or one function's invocation (exactly one)."""

    state_machine: str | None = None
    function: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduleTarget:
        if (self.state_machine is None) == (self.function is None):
            raise ValueError("a schedule targets exactly one of state_machine or function")
        return self


class Schedule(_Model):
    name: str
    description: str
    expression: str
    timezone: str
    target: ScheduleTarget
    input: dict


class Authorizer(_Model):
    function: str
    identity_headers: list[str]
    cache_ttl_seconds: int
    # The header holding the caller's key (the authorizer function reads it: tollgate.usecases.authorize).
    credential_header: str = "Authorization"


class ApiRoute(_Model):
    path: str
    function: str
    authorizer: str | None


class Api(_Model):
    description: str
    authorizers: dict[str, Authorizer]
    routes: list[ApiRoute]


class StateMachine(_Model):
    file: str
    env: str
    local_name: str
    functions: dict[str, str]
    # Buckets a Distributed Map reads its items from (s3:GetObject for the state machine's role).
    item_buckets: list[str] = []
    # The bucket a Distributed Map writes its child results to (ResultWriter: s3:PutObject; the definition
    # names it ${ResultBucketName}), so that the Map's output is a reference instead of one entry per child
    # (100,000 children would exceed 256 KB).
    result_bucket: str | None = None
    # A Distributed Map starts child executions of its own state machine.
    distributed_map: bool = False
    # Its task function starts a new execution of this state machine (continue-as-new) before the
    # history grows too long (states:StartExecution on this machine only).
    continues_as_new: bool = False

    def placeholders(self, function_arn: Callable[[str], str], bucket_name: Callable[[str], str]) -> dict[str, str]:
        """The values of the definition's ``${Name}`` placeholders: function ARNs and the result bucket's name."""
        values = {placeholder: function_arn(function) for placeholder, function in self.functions.items()}
        if self.result_bucket:
            values["ResultBucketName"] = bucket_name(self.result_bucket)
        return values

    def definition(self, substitutions: dict[str, str]) -> str:
        """The ASL text with ``${Name}`` placeholders replaced (what CDK's definitionSubstitutions does)."""
        text = (HERE / self.file).read_text()
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", value)
        return text


def _load(name: str) -> dict:
    return json.loads((HERE / name).read_text())


@lru_cache(maxsize=1)
def tables() -> dict[str, Table]:
    return {k: Table.model_validate(v) for k, v in _load("tables.json").items()}


@lru_cache(maxsize=1)
def buckets() -> dict[str, Bucket]:
    return {k: Bucket.model_validate(v) for k, v in _load("buckets.json").items()}


@lru_cache(maxsize=1)
def functions() -> dict[str, Function]:
    return {k: Function.model_validate(v) for k, v in _load("functions.json").items()}


@lru_cache(maxsize=1)
def events() -> Events:
    return Events.model_validate(_load("events.json"))


@lru_cache(maxsize=1)
def schedules() -> list[Schedule]:
    return [Schedule.model_validate(s) for s in _load("schedules.json")["schedules"]]


@lru_cache(maxsize=1)
def api() -> Api:
    return Api.model_validate(_load("api.json"))


@lru_cache(maxsize=1)
def state_machines() -> dict[str, StateMachine]:
    return {k: StateMachine.model_validate(v) for k, v in _load("statemachines.json").items()}
