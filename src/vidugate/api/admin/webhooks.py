"""/admin/v1 webhook routes: the operator manages any account's endpoints, reads every
delivery log, sees a video's messages and sends one again (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from vidugate.api.admin.schemas import ID_PATTERN
from vidugate.api.deps import WebhooksDep, authenticate_admin
from vidugate.api.responses import openai_errors
from vidugate.api.webhooks.routes import change_of
from vidugate.api.webhooks.schemas import (
    AttemptList,
    Before,
    EndpointCreate,
    EndpointCreated,
    EndpointDeleted,
    EndpointId,
    EndpointList,
    EndpointObject,
    EndpointUpdate,
    MessageId,
    MessageObject,
    PageLimit,
    attempt_list,
    endpoint_created,
    endpoint_object,
    message_object,
)

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])
TenantId = Annotated[str, Path(pattern=ID_PATTERN, description="A tenant's id.")]


@router.post(
    "/tenants/{tenant_id}/webhooks/endpoints",
    operation_id="admin_create_webhook_endpoint",
    summary="Register an endpoint for a tenant's video events",
    response_model=EndpointCreated,
    responses=openai_errors(400, 401, 404, 409),
)
async def create_endpoint(
    tenant_id: TenantId, body: EndpointCreate, webhooks: WebhooksDep
) -> EndpointCreated:
    events = [e.value for e in body.events] if body.events else None
    endpoint, secret = await webhooks.create(tenant_id, body.url, events, body.description)
    return endpoint_created(endpoint, secret)


@router.get(
    "/webhooks/endpoints",
    operation_id="admin_list_webhook_endpoints",
    summary="Every tenant's endpoints, or one tenant's",
    response_model=EndpointList,
    responses=openai_errors(401),
)
async def list_endpoints(
    webhooks: WebhooksDep,
    tenant_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> EndpointList:
    return EndpointList(data=[endpoint_object(e) for e in await webhooks.of_tenant(tenant_id)])


@router.get(
    "/webhooks/endpoints/{endpoint_id}",
    operation_id="admin_retrieve_webhook_endpoint",
    summary="An endpoint",
    response_model=EndpointObject,
    responses=openai_errors(401, 404),
)
async def retrieve_endpoint(endpoint_id: EndpointId, webhooks: WebhooksDep) -> EndpointObject:
    return endpoint_object(await webhooks.get(endpoint_id))


@router.patch(
    "/webhooks/endpoints/{endpoint_id}",
    operation_id="admin_update_webhook_endpoint",
    summary="Change an endpoint, or disable it",
    response_model=EndpointObject,
    responses=openai_errors(400, 401, 404),
)
async def update_endpoint(
    endpoint_id: EndpointId, body: EndpointUpdate, webhooks: WebhooksDep
) -> EndpointObject:
    return endpoint_object(await webhooks.update(endpoint_id, change_of(body)))


@router.delete(
    "/webhooks/endpoints/{endpoint_id}",
    operation_id="admin_delete_webhook_endpoint",
    summary="Delete an endpoint",
    response_model=EndpointDeleted,
    responses=openai_errors(401, 404),
)
async def delete_endpoint(endpoint_id: EndpointId, webhooks: WebhooksDep) -> EndpointDeleted:
    await webhooks.delete(endpoint_id)
    return EndpointDeleted(id=endpoint_id)


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    operation_id="admin_list_webhook_deliveries",
    summary="An endpoint's delivery log, newest try first",
    response_model=AttemptList,
    responses=openai_errors(401, 404),
)
async def list_deliveries(
    endpoint_id: EndpointId, webhooks: WebhooksDep, limit: PageLimit = 100, before: Before = None
) -> AttemptList:
    page = await webhooks.deliveries(
        tenant_id=None, endpoint_id=endpoint_id, limit=limit, before=before
    )
    return attempt_list(page, limit)


@router.get(
    "/videos/{video_id}/webhooks",
    operation_id="admin_list_video_webhooks",
    summary="A video's webhook messages, in the order they were written",
    response_model=list[MessageObject],
    responses=openai_errors(401),
)
async def list_video_messages(
    video_id: Annotated[str, Path(pattern=ID_PATTERN)], webhooks: WebhooksDep
) -> list[MessageObject]:
    return [message_object(m) for m in await webhooks.messages_of_task(video_id)]


@router.post(
    "/webhooks/messages/{message_id}/redeliver",
    operation_id="admin_redeliver_webhook_message",
    summary="Send a message again now, with its own webhook-id",
    response_model=MessageObject,
    responses=openai_errors(401, 404),
)
async def redeliver(message_id: MessageId, webhooks: WebhooksDep) -> MessageObject:
    return message_object(await webhooks.redeliver(message_id))
