"""/admin/v1/keys/{id}/limits and /admin/v1/tenants/{id}/limits: read and change a key's or
a tenant's own limits (docs/limits.md). A PATCH changes the fields it names; null clears
one (the settings' default applies again). A change reaches every process within
VIDUGATE_KEY_CACHE_SECONDS (the key cache holds a key's and its tenant's limits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import Field

from vidugate.api.admin.render import limits_object
from vidugate.api.admin.schemas import ID_PATTERN, LimitsObject, NullableAmountIn, _Body
from vidugate.api.deps import BillingDep, authenticate_admin
from vidugate.api.responses import openai_errors
from vidugate.domain.limits import LimitKind
from vidugate.domain.money import parse_amount
from vidugate.services.limits import update_key_limits, update_tenant_limits

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])

TenantId = Annotated[str, Path(pattern=ID_PATTERN, description="A tenant's id.")]
KeyId = Annotated[str, Path(pattern=ID_PATTERN, description="A key's id (key_...).")]


class LimitsUpdate(_Body):
    """Only the fields given change; null clears one."""

    requests_per_minute: int | None = Field(default=None, ge=1)
    creates_per_minute: int | None = Field(default=None, ge=1)
    active_videos: int | None = Field(default=None, ge=0)
    spend_per_day: NullableAmountIn = Field(default=None, description="An exact decimal.")

    def changes(self) -> dict[LimitKind, int | Decimal | None]:
        out: dict[LimitKind, int | Decimal | None] = {}
        for name in self.model_fields_set:
            kind = LimitKind(name)
            value: Any = getattr(self, name)
            if kind is LimitKind.SPEND_PER_DAY and value is not None:
                value = parse_amount(value, param="spend_per_day")
            out[kind] = value
        return out


@router.get(
    "/keys/{key_id}/limits",
    operation_id="admin_retrieve_key_limits",
    summary="Read a key's own limits",
    response_model=LimitsObject,
    responses=openai_errors(401, 404),
)
async def retrieve_key_limits(key_id: KeyId, billing: BillingDep) -> LimitsObject:
    return limits_object((await billing.key(key_id)).limits)


@router.patch(
    "/keys/{key_id}/limits",
    operation_id="admin_update_key_limits",
    summary="Change a key's own limits (null clears one)",
    response_model=LimitsObject,
    responses=openai_errors(400, 401, 404),
)
async def update_key(key_id: KeyId, body: LimitsUpdate, billing: BillingDep) -> LimitsObject:
    key = await update_key_limits(billing.keys, key_id, body.changes())
    return limits_object(key.limits)


@router.get(
    "/tenants/{tenant_id}/limits",
    operation_id="admin_retrieve_tenant_limits",
    summary="Read a tenant's own limits (they count all its keys)",
    response_model=LimitsObject,
    responses=openai_errors(401, 404),
)
async def retrieve_tenant_limits(tenant_id: TenantId, billing: BillingDep) -> LimitsObject:
    return limits_object((await billing.tenant(tenant_id)).limits)


@router.patch(
    "/tenants/{tenant_id}/limits",
    operation_id="admin_update_tenant_limits",
    summary="Change a tenant's own limits (null clears one)",
    response_model=LimitsObject,
    responses=openai_errors(400, 401, 404),
)
async def update_tenant(
    tenant_id: TenantId, body: LimitsUpdate, billing: BillingDep
) -> LimitsObject:
    tenant = await update_tenant_limits(billing.tenants, tenant_id, body.changes())
    # The key cache holds tenants' limits too: this process sees the change at once.
    billing.keys.forget()
    return limits_object(tenant.limits)
