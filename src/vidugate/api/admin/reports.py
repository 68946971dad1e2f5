"""/admin/v1 reports: every tenant's tasks, usage (from the ledger, which outlives purged
task rows) and the margin over the upstream's cost, as JSON or CSV (api/admin/export.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from vidugate.api.admin.export import (
    PERIOD_DOC,
    Format,
    margin_response,
    parse_period,
    report_responses,
    usage_response,
)
from vidugate.api.admin.render import task_object
from vidugate.api.admin.routes import MAX_PAGE
from vidugate.api.admin.schemas import (
    ID_PATTERN,
    MarginReportObject,
    TaskList,
    UsageReportObject,
)
from vidugate.api.deps import BillingDep, SettingsDep, authenticate_admin
from vidugate.api.openai.models import prices_in_force
from vidugate.api.responses import openai_errors
from vidugate.domain.tasks import TaskStatus
from vidugate.domain.usage import TaskQuery, UsageGroup

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])

Since = Annotated[str | None, Query(max_length=40, description=PERIOD_DOC)]
Until = Annotated[str | None, Query(max_length=40, description=PERIOD_DOC)]
FormatQuery = Annotated[Format, Query(description="json (default) or csv.")]
MODEL_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


@router.get(
    "/tasks",
    operation_id="admin_list_tasks",
    summary="Every tenant's tasks, newest first, with their price and upstream cost",
    response_model=TaskList,
    responses=openai_errors(401),
)
async def list_tasks(
    billing: BillingDep,
    tenant_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    key_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    model: Annotated[str | None, Query(pattern=MODEL_PATTERN)] = None,
    status: Annotated[TaskStatus | None, Query()] = None,
    created_after: Since = None,
    created_before: Until = None,
    after: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="The last task id already read (last_id)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> TaskList:
    query = TaskQuery(
        tenant_id=tenant_id,
        key_id=key_id,
        model=model,
        status=status,
        period=parse_period(created_after, created_before),
        before_id=after,
        limit=limit,
    )
    tasks, has_more = await billing.all_tasks(query)
    data = [task_object(task) for task in tasks]
    return TaskList(data=data, has_more=has_more, last_id=data[-1].id if data else None)


@router.get(
    "/usage",
    operation_id="admin_usage_report",
    summary="Usage per tenant, key, model or day, from the ledger (JSON or CSV)",
    response_model=UsageReportObject,
    responses={**openai_errors(401), **report_responses()},
)
async def usage_report(
    billing: BillingDep,
    group_by: Annotated[
        Literal["tenant", "key", "model", "day"], Query(description="What a line is per.")
    ] = "tenant",
    since: Since = None,
    until: Until = None,
    tenant_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    format: FormatQuery = "json",
) -> Response:
    period = parse_period(since, until)
    report = await billing.usage(UsageGroup(group_by), period, tenant_id=tenant_id)
    prices = await prices_in_force(billing)
    return usage_response(report, period, prices.currency if prices else None, format)


@router.get(
    "/margin",
    operation_id="admin_margin_report",
    summary="What clients were charged against what the upstream charged (JSON or CSV)",
    response_model=MarginReportObject,
    responses={**openai_errors(401), **report_responses()},
)
async def margin_report(
    billing: BillingDep,
    settings: SettingsDep,
    group_by: Annotated[
        Literal["model", "day", "tenant"], Query(description="What a line is per.")
    ] = "model",
    since: Since = None,
    until: Until = None,
    format: FormatQuery = "json",
) -> Response:
    period = parse_period(since, until)
    report = await billing.margin(UsageGroup(group_by), period, settings.upstream_credit_value)
    prices = await prices_in_force(billing)
    return margin_response(report, period, prices.currency if prices else None, format)
