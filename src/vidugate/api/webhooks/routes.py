"""/v1/webhooks: a client key manages its account's endpoints and reads their delivery log;
/.well-known/jwks.json and /v1/webhooks/public-key publish the key that verifies every
delivery's v1a signature, with no key needed (docs/webhooks.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vidugate.api.deps import ApiKeyDep, WebhooksDep
from vidugate.api.responses import openai_errors
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
    PublicKey,
    SecretObject,
    attempt_list,
    endpoint_created,
    endpoint_object,
    message_object,
)
from vidugate.services.webhooks import EndpointChange

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
public = APIRouter(tags=["webhooks"])
JWKS_PATH = "/.well-known/jwks.json"


@router.post(
    "/endpoints",
    operation_id="create_webhook_endpoint",
    summary="Register an endpoint for this account's video events",
    response_model=EndpointCreated,
    responses=openai_errors(400, 401, 409),
)
async def create_endpoint(
    body: EndpointCreate, key: ApiKeyDep, webhooks: WebhooksDep
) -> EndpointCreated:
    events = [e.value for e in body.events] if body.events else None
    endpoint, secret = await webhooks.create(key.tenant_id, body.url, events, body.description)
    return endpoint_created(endpoint, secret)


@router.get(
    "/endpoints",
    operation_id="list_webhook_endpoints",
    summary="This account's endpoints",
    response_model=EndpointList,
    responses=openai_errors(401),
)
async def list_endpoints(key: ApiKeyDep, webhooks: WebhooksDep) -> EndpointList:
    found = await webhooks.of_tenant(key.tenant_id)
    return EndpointList(data=[endpoint_object(e) for e in found])


@router.get(
    "/endpoints/{endpoint_id}",
    operation_id="retrieve_webhook_endpoint",
    summary="One of this account's endpoints",
    response_model=EndpointObject,
    responses=openai_errors(401, 404),
)
async def retrieve_endpoint(
    endpoint_id: EndpointId, key: ApiKeyDep, webhooks: WebhooksDep
) -> EndpointObject:
    return endpoint_object(await webhooks.get(endpoint_id, key.tenant_id))


@router.patch(
    "/endpoints/{endpoint_id}",
    operation_id="update_webhook_endpoint",
    summary="Change an endpoint's URL, events, description, or disable it",
    response_model=EndpointObject,
    responses=openai_errors(400, 401, 404),
)
async def update_endpoint(
    endpoint_id: EndpointId, body: EndpointUpdate, key: ApiKeyDep, webhooks: WebhooksDep
) -> EndpointObject:
    updated = await webhooks.update(endpoint_id, change_of(body), key.tenant_id)
    return endpoint_object(updated)


@router.delete(
    "/endpoints/{endpoint_id}",
    operation_id="delete_webhook_endpoint",
    summary="Delete an endpoint (what still waits for it is dropped)",
    response_model=EndpointDeleted,
    responses=openai_errors(401, 404),
)
async def delete_endpoint(
    endpoint_id: EndpointId, key: ApiKeyDep, webhooks: WebhooksDep
) -> EndpointDeleted:
    await webhooks.delete(endpoint_id, key.tenant_id)
    return EndpointDeleted(id=endpoint_id)


@router.get(
    "/endpoints/{endpoint_id}/secret",
    operation_id="retrieve_webhook_endpoint_secret",
    summary="The endpoint's signing secret (whsec_...)",
    response_model=SecretObject,
    responses=openai_errors(401, 404),
)
async def retrieve_secret(
    endpoint_id: EndpointId, key: ApiKeyDep, webhooks: WebhooksDep
) -> SecretObject:
    return SecretObject(secret=await webhooks.secret(endpoint_id, key.tenant_id))


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    operation_id="rotate_webhook_endpoint_secret",
    summary="Give the endpoint a new signing secret, in force for every try from now on",
    response_model=SecretObject,
    responses=openai_errors(401, 404),
)
async def rotate_secret(
    endpoint_id: EndpointId, key: ApiKeyDep, webhooks: WebhooksDep
) -> SecretObject:
    return SecretObject(secret=await webhooks.rotate_secret(endpoint_id, key.tenant_id))


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="The endpoint's delivery log, newest try first",
    response_model=AttemptList,
    responses=openai_errors(401, 404),
)
async def list_deliveries(
    endpoint_id: EndpointId,
    key: ApiKeyDep,
    webhooks: WebhooksDep,
    limit: PageLimit = 100,
    before: Before = None,
) -> AttemptList:
    page = await webhooks.deliveries(
        tenant_id=key.tenant_id, endpoint_id=endpoint_id, limit=limit, before=before
    )
    return attempt_list(page, limit)


@router.get(
    "/messages/{message_id}",
    operation_id="retrieve_webhook_message",
    summary="A message (one event for one destination) and where its delivery stands",
    response_model=MessageObject,
    responses=openai_errors(401, 404),
)
async def retrieve_message(
    message_id: MessageId, key: ApiKeyDep, webhooks: WebhooksDep
) -> MessageObject:
    return message_object(await webhooks.message(message_id, key.tenant_id))


@router.post(
    "/messages/{message_id}/redeliver",
    operation_id="redeliver_webhook_message",
    summary="Send a message again now, with its own webhook-id",
    response_model=MessageObject,
    responses=openai_errors(401, 404),
)
async def redeliver(message_id: MessageId, key: ApiKeyDep, webhooks: WebhooksDep) -> MessageObject:
    return message_object(await webhooks.redeliver(message_id, key.tenant_id))


@router.get(
    "/secret",
    operation_id="retrieve_request_webhook_secret",
    summary="The secret that signs deliveries to a request's own webhook_url / callback_url",
    response_model=SecretObject,
    responses=openai_errors(401),
)
async def retrieve_request_secret(key: ApiKeyDep, webhooks: WebhooksDep) -> SecretObject:
    return SecretObject(secret=webhooks.request_secret(key.tenant_id))


@router.get(
    "/public-key",
    operation_id="retrieve_webhook_public_key",
    summary="The Ed25519 key every delivery's v1a signature verifies against (no key needed)",
    response_model=PublicKey,
)
async def public_key(request: Request, webhooks: WebhooksDep) -> PublicKey:
    signer = webhooks.signer
    return PublicKey(
        public_key=signer.public_key(),
        key_id=signer.key_id(),
        jwks_url=str(request.base_url).rstrip("/") + JWKS_PATH,
    )


@public.get(
    JWKS_PATH,
    operation_id="retrieve_webhook_jwks",
    summary="The webhook signing key as a JSON Web Key Set (RFC 8037 OKP / Ed25519)",
)
async def jwks(webhooks: WebhooksDep) -> dict[str, list[dict[str, str]]]:
    return webhooks.signer.jwks()


def change_of(body: EndpointUpdate) -> EndpointChange:
    return EndpointChange(
        url=body.url,
        events=None if body.events is None else [e.value for e in body.events],
        description=body.description,
        disabled=body.disabled,
    )
