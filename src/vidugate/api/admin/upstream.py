"""/admin/v1/upstream/accounts: the upstream accounts the gateway sends work to, with their
health, credits and slots; an operator's reset of one, and a read of its credits now
(docs/console-api.md). Never an account's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from vidugate.api.admin.console import AccountList, AccountObject, account_object
from vidugate.api.deps import UpstreamDep, authenticate_admin
from vidugate.api.responses import openai_errors

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])

AccountId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="An upstream account's id.")
]


@router.get(
    "/upstream/accounts",
    operation_id="admin_list_upstream_accounts",
    summary="Every upstream account: health, credits, slots in use and the queue",
    response_model=AccountList,
    responses=openai_errors(401),
)
async def list_upstream_accounts(upstream: UpstreamDep) -> AccountList:
    return AccountList(data=[account_object(line) for line in await upstream.lines()])


@router.post(
    "/upstream/accounts/{account_id}/reset",
    operation_id="admin_reset_upstream_account",
    summary="Say a disabled, throttled or exhausted account is fine again (health active)",
    response_model=AccountObject,
    responses=openai_errors(401, 404),
)
async def reset_upstream_account(account_id: AccountId, upstream: UpstreamDep) -> AccountObject:
    return account_object(await upstream.reset(account_id))


@router.post(
    "/upstream/accounts/{account_id}/credits/refresh",
    operation_id="admin_refresh_upstream_credits",
    summary="Read an account's remaining credits from its upstream now",
    response_model=AccountObject,
    responses=openai_errors(400, 401, 404, 502),
)
async def refresh_upstream_credits(account_id: AccountId, upstream: UpstreamDep) -> AccountObject:
    return account_object(await upstream.refresh_credits(account_id))
