"""Bulk migrations: move every subscription of a plan to another plan, asynchronously, with progress
and per-subscription results."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import Flag, Identifier, VersionNumber
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.migrations import BulkMigration, MigrationResult
from tollgate.usecases import migrations as migration_cases

router = Router()


def _answer(status: int, model: ApiModel) -> Response:
    """A JSON response with a status other than 200 (the route's ``responses`` documents its model)."""
    return Response(status, "application/json", model.model_dump(mode="json"))


Caller_ = Annotated[Caller, Depends(current_caller)]


class BulkMigrationIn(ApiModel):
    from_plan_id: Identifier
    from_version: VersionNumber | None = Field(
        default=None, description="Only subscriptions on this version (default: any)."
    )
    to_plan_id: Identifier
    to_version: VersionNumber | None = Field(
        default=None, description="Default: the target plan's current published version."
    )
    at_period_end: Flag = False


class MigrationOut(ApiModel):
    id: str
    status: str
    from_plan_id: str
    from_version: int | None
    to_plan_id: str
    to_version: int | None
    total: int
    migrated: int
    skipped: int
    failed: int
    created_at: str
    completed_at: str | None
    error: str | None
    results: list[dict] = Field(description="The first 100 per-subscription results (all: GET …/results).")
    results_has_more: bool = Field(default=False, description="More results than shown: GET …/results pages them.")


class ResultList(PageFields):
    data: list[dict]


def result_out(r: MigrationResult) -> dict:
    return {"subscription_id": r.subscription_id, "outcome": r.outcome, "detail": r.detail}


def migration_out(m: BulkMigration, results: list[MigrationResult], more: bool = False) -> MigrationOut:
    return MigrationOut(
        id=m.migration_id,
        status=m.status.value,
        from_plan_id=m.from_plan_id,
        from_version=m.from_version,
        to_plan_id=m.to_plan_id,
        to_version=m.to_version,
        total=m.total,
        migrated=m.migrated,
        skipped=m.skipped,
        failed=m.failed,
        created_at=to_rfc3339(m.created_at),
        completed_at=to_rfc3339(m.completed_at) if m.completed_at else None,
        error=m.error,
        results=[result_out(r) for r in results],
        results_has_more=more,
    )


@router.post(
    "/v1/migrations",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["migrations"],
    summary="Migrate every subscription of a plan to another plan, asynchronously (202)",
    responses={202: {"description": "Started", "content": {"application/json": {"model": MigrationOut}}}},
)
def start_migration(body: BulkMigrationIn, caller: Caller_) -> Response[MigrationOut]:
    m = migration_cases.start_bulk_migration(
        wiring.subscription_repos(),
        wiring.migration_repository(),
        wiring.workflow_starter(),
        caller.tenant_id,
        body.model_dump(),
    )
    return _answer(202, migration_out(m, []))


@router.get(
    "/v1/migrations/<migration_id>",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["migrations"],
    summary="Progress and per-subscription results of a bulk migration",
)
def get_migration(migration_id: str, caller: Caller_) -> MigrationOut:
    m, page = migration_cases.get_bulk_migration(
        wiring.migration_repository(), caller.tenant_id, migration_id, limit=100
    )
    return migration_out(m, page.data, page.has_more)


@router.get(
    "/v1/migrations/<migration_id>/results",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["migrations"],
    summary="The per-subscription results of a bulk migration, by subscription id",
)
def list_migration_results(
    migration_id: str, caller: Caller_, limit: Limit = 100, starting_after: StartingAfter = None
) -> ResultList:
    _, page = migration_cases.get_bulk_migration(
        wiring.migration_repository(), caller.tenant_id, migration_id, limit=limit, cursor=starting_after
    )
    return ResultList(data=[result_out(r) for r in page.data], **page_fields(page))
