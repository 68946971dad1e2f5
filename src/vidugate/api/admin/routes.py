"""/admin/v1: the operator's API for tenants, their money, keys and prices. Every route
takes an admin key (`Authorization: Bearer vga-...`, made by `vidugate keys create
--admin`); a client key is refused (401), as an admin key is on every client route."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from vidugate.api.admin.render import (
    created_key,
    entry_object,
    key_object,
    price_table,
    price_table_set,
    tenant_object,
)
from vidugate.api.admin.schemas import (
    ID_PATTERN,
    Adjustment,
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyObject,
    KeyUpdate,
    LedgerEntryObject,
    LedgerList,
    PriceDocumentIn,
    PriceTableObject,
    PriceTableSet,
    TenantCreate,
    TenantList,
    TenantObject,
    TenantUpdate,
    Topup,
)
from vidugate.api.body import media_type, read_limited
from vidugate.api.deps import BillingDep, authenticate_admin
from vidugate.api.responses import openai_errors
from vidugate.domain.ledger import LedgerKind
from vidugate.domain.money import parse_amount
from vidugate.domain.price_documents import MAX_DOCUMENT_BYTES, loads_prices
from vidugate.errors import InvalidRequestError, UnsupportedMediaError

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])

TenantId = Annotated[str, Path(pattern=ID_PATTERN, description="A tenant's id.")]
KeyId = Annotated[str, Path(pattern=ID_PATTERN, description="A key's id (key_...).")]
MAX_PAGE = 1000
PRICE_SOURCE = "admin api"


@router.post(
    "/tenants",
    operation_id="admin_create_tenant",
    summary="Create a tenant (an account), optionally with a first balance",
    response_model=TenantObject,
    responses=openai_errors(401),
)
async def create_tenant(body: TenantCreate, billing: BillingDep) -> TenantObject:
    overdraft, balance = (
        Decimal(0) if value is None else parse_amount(value, param=param)
        for value, param in ((body.overdraft, "overdraft"), (body.balance, "balance"))
    )
    tenant = await billing.open_tenant(body.name, overdraft=overdraft, balance=balance)
    return tenant_object(tenant)


@router.get(
    "/tenants",
    operation_id="admin_list_tenants",
    summary="List the tenants, with their balances",
    response_model=TenantList,
    responses=openai_errors(401),
)
async def list_tenants(billing: BillingDep) -> TenantList:
    return TenantList(data=[tenant_object(t) for t in await billing.tenants.all()])


@router.get(
    "/tenants/{tenant_id}",
    operation_id="admin_retrieve_tenant",
    summary="Read a tenant and its balance",
    response_model=TenantObject,
    responses=openai_errors(401, 404),
)
async def retrieve_tenant(tenant_id: TenantId, billing: BillingDep) -> TenantObject:
    return tenant_object(await billing.tenant(tenant_id))


@router.patch(
    "/tenants/{tenant_id}",
    operation_id="admin_update_tenant",
    summary="Change a tenant's overdraft or weight",
    response_model=TenantObject,
    responses=openai_errors(401, 404),
)
async def update_tenant(
    tenant_id: TenantId, body: TenantUpdate, billing: BillingDep
) -> TenantObject:
    if body.overdraft is None and body.weight is None:
        raise InvalidRequestError("Give the overdraft or the weight to set.", param="overdraft")
    tenant = await billing.tenant(tenant_id)
    if body.overdraft is not None:
        overdraft = parse_amount(body.overdraft, param="overdraft")
        tenant = await billing.set_overdraft(tenant_id, overdraft)
    if body.weight is not None:
        tenant = await billing.set_weight(tenant_id, body.weight)
    return tenant_object(tenant)


@router.post(
    "/tenants/{tenant_id}/topups",
    operation_id="admin_create_topup",
    summary="Add money to a tenant's balance (a payment), with its reason",
    response_model=LedgerEntryObject,
    responses=openai_errors(401, 404),
)
async def create_topup(tenant_id: TenantId, body: Topup, billing: BillingDep) -> LedgerEntryObject:
    money = parse_amount(body.amount, param="amount")
    return entry_object(await billing.move(tenant_id, LedgerKind.TOPUP, money, body.reason))


@router.post(
    "/tenants/{tenant_id}/adjustments",
    operation_id="admin_create_adjustment",
    summary="Correct a tenant's balance either way, with its reason",
    response_model=LedgerEntryObject,
    responses=openai_errors(401, 404),
)
async def create_adjustment(
    tenant_id: TenantId, body: Adjustment, billing: BillingDep
) -> LedgerEntryObject:
    money = parse_amount(body.amount, param="amount", allow_negative=True)
    return entry_object(await billing.move(tenant_id, LedgerKind.ADJUST, money, body.reason))


@router.get(
    "/ledger",
    operation_id="admin_list_ledger",
    summary="Ledger rows, oldest first, after a row id",
    response_model=LedgerList,
    responses=openai_errors(401),
)
async def list_ledger(
    billing: BillingDep,
    tenant_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    task_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="The last row id already read (0: from the start).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> LedgerList:
    rows = await billing.ledger.entries(
        tenant_id=tenant_id, task_id=task_id, after=after, limit=limit + 1
    )
    data = [entry_object(row) for row in rows[:limit]]
    return LedgerList(data=data, has_more=len(rows) > limit, last_id=data[-1].id if data else None)


@router.post(
    "/keys",
    operation_id="admin_create_key",
    summary="Make a client key for a tenant (its token is shown once)",
    response_model=KeyCreated,
    responses=openai_errors(401, 404),
)
async def create_key(body: KeyCreate, billing: BillingDep) -> KeyCreated:
    cap = None if body.spend_cap is None else parse_amount(body.spend_cap, param="spend_cap")
    key, token = await billing.create_key(
        body.tenant_id, body.name, spend_cap=cap, status_dialect=body.status_dialect
    )
    return created_key(key, token)


@router.get(
    "/keys",
    operation_id="admin_list_keys",
    summary="List keys (no tokens), with their caps and what they have spent",
    response_model=KeyList,
    responses=openai_errors(401, 404),
)
async def list_keys(
    billing: BillingDep,
    tenant_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> KeyList:
    keys = await billing.keys_with_spent(tenant_id)
    return KeyList(data=[key_object(key, spent) for key, spent in keys])


@router.patch(
    "/keys/{key_id}",
    operation_id="admin_update_key",
    summary="Set or remove a key's spend cap",
    response_model=KeyObject,
    responses=openai_errors(401, 404),
)
async def update_key(key_id: KeyId, body: KeyUpdate, billing: BillingDep) -> KeyObject:
    cap = None if body.spend_cap is None else parse_amount(body.spend_cap, param="spend_cap")
    return key_object(*await billing.set_key_cap(key_id, cap))


@router.post(
    "/keys/{key_id}/revoke",
    operation_id="admin_revoke_key",
    summary="Revoke a key (at once in this process, within the key cache time elsewhere)",
    response_model=KeyObject,
    responses=openai_errors(401, 404),
)
async def revoke_key(key_id: KeyId, billing: BillingDep) -> KeyObject:
    return key_object(*await billing.revoke_key(key_id))


@router.get(
    "/prices",
    operation_id="admin_retrieve_prices",
    summary="The price table in force",
    response_model=PriceTableObject,
    responses=openai_errors(401, 404),
)
async def retrieve_prices(billing: BillingDep) -> PriceTableObject:
    stored = await billing.stored_prices()
    return price_table(stored.id, stored.source, stored.created_at, stored.document)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its $defs put in place: in the OpenAPI document a
    "#/$defs/..." reference would point at the document's root, where nothing is."""
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


_PRICES_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inlined(PriceDocumentIn.model_json_schema())},
            "application/toml": {"schema": {"type": "string"}},
        },
    }
}


@router.put(
    "/prices",
    operation_id="admin_set_prices",
    summary="Put a price table in force (JSON, or TOML as in prices.example.toml)",
    response_model=PriceTableSet,
    responses=openai_errors(401, 413, 415),
    openapi_extra=_PRICES_BODY,
)
async def set_prices(request: Request, billing: BillingDep) -> PriceTableSet:
    """The body is read as text and checked by the price table's own parser (numbers as
    exact decimals, repeated keys refused); a mistake is a 400 whose param is the path of
    the entry at fault, e.g. models.viduq3-pro.per_second.1080p."""
    sent_as = media_type(request)
    if sent_as not in ("application/json", "application/toml", ""):
        raise UnsupportedMediaError(
            f"Send the price table as application/json or application/toml (got {sent_as!r}).",
            param="Content-Type",
        )
    raw = await read_limited(request, MAX_DOCUMENT_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"The price table is not UTF-8 text (byte {exc.start} is not valid)."
        ) from None
    table = loads_prices(text, format="toml" if sent_as == "application/toml" else "json")
    stored, changed = await billing.put_prices(table, PRICE_SOURCE)
    shown = price_table(stored.id, stored.source, stored.created_at, stored.document)
    return price_table_set(shown, changed)
