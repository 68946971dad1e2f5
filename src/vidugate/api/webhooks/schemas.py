"""Wire schemas of the webhook routes, and the one place domain objects become them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field

from vidugate.api.admin.schemas import _plain_text
from vidugate.domain.caps import MAX_URL_CHARS
from vidugate.domain.webhooks import MAX_DESCRIPTION_CHARS, Attempt, Endpoint, EventType, Message

EndpointId = Annotated[
    str, Path(pattern=r"^whep_[0-9A-Z]{26}$", description="An endpoint's id (whep_...).")
]
MessageId = Annotated[
    str, Path(pattern=r"^msg_[0-9A-Z]{26}$", description="A message's id (msg_...).")
]
PageLimit = Annotated[int, Query(ge=1, le=1000, description="At most this many tries.")]
Before = Annotated[
    int | None, Query(ge=1, description="The `next_before` of the page before: pages on.")
]
Text = Annotated[str, AfterValidator(_plain_text)]
EVENTS_DOC = (
    "The events it gets; absent or empty: all (" + ", ".join(e.value for e in EventType) + ")."
)


class EndpointCreate(BaseModel):
    url: str = Field(max_length=MAX_URL_CHARS, description="http(s) URL deliveries are POSTed to.")
    events: list[EventType] | None = Field(default=None, max_length=16, description=EVENTS_DOC)
    description: Text = Field(default="", max_length=MAX_DESCRIPTION_CHARS)


class EndpointUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    events: list[EventType] | None = Field(default=None, max_length=16, description=EVENTS_DOC)
    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    disabled: bool | None = Field(
        default=None, description="A disabled endpoint gets nothing; what waits for it is dropped."
    )


class EndpointObject(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    tenant_id: str
    url: str
    events: list[str]
    description: str
    disabled: bool
    created_at: int
    updated_at: int


class EndpointCreated(EndpointObject):
    secret: str = Field(description="The whsec_ secret that signs its deliveries (v1 HMAC).")


class EndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EndpointObject]


class EndpointDeleted(BaseModel):
    id: str
    object: Literal["webhook_endpoint.deleted"] = "webhook_endpoint.deleted"
    deleted: bool = True


class SecretObject(BaseModel):
    object: Literal["webhook_secret"] = "webhook_secret"
    secret: str


class AttemptObject(BaseModel):
    object: Literal["webhook_attempt"] = "webhook_attempt"
    message_id: str
    endpoint_id: str | None
    task_id: str
    event: str
    attempt: int
    at: float
    status: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    error: str | None
    duration_ms: int


class AttemptList(BaseModel):
    object: Literal["list"] = "list"
    data: list[AttemptObject]
    next_before: int | None = Field(description="Pass as `before` for older tries; null: none.")


class MessageObject(BaseModel):
    id: str = Field(description="The webhook-id header of every try.")
    object: Literal["webhook_message"] = "webhook_message"
    task_id: str
    event: str
    endpoint_id: str | None = Field(description="null: the request's own webhook_url.")
    state: Literal["pending", "delivered", "failed", "dropped"]
    attempts: int
    created_at: float
    next_attempt_at: float | None
    last_status: int | None
    last_error: str | None
    delivered_at: float | None


class PublicKey(BaseModel):
    object: Literal["webhook_public_key"] = "webhook_public_key"
    public_key: str = Field(description="Ed25519, Standard Webhooks form (whpk_ + base64).")
    key_id: str
    jwks_url: str = Field(description="The same key as a JSON Web Key Set.")
    signature_version: Literal["v1a"] = "v1a"


def endpoint_object(endpoint: Endpoint) -> EndpointObject:
    return EndpointObject(
        id=endpoint.id,
        tenant_id=endpoint.tenant_id,
        url=endpoint.url,
        events=sorted(e.value for e in endpoint.events),
        description=endpoint.description,
        disabled=endpoint.disabled,
        created_at=int(endpoint.created_at),
        updated_at=int(endpoint.updated_at),
    )


def endpoint_created(endpoint: Endpoint, secret: str) -> EndpointCreated:
    return EndpointCreated(**endpoint_object(endpoint).model_dump(), secret=secret)


def attempt_list(page: list[tuple[int, Attempt]], limit: int) -> AttemptList:
    data = [
        AttemptObject(
            message_id=a.message_id,
            endpoint_id=a.endpoint_id,
            task_id=a.task_id,
            event=a.event.value,
            attempt=a.attempt,
            at=a.at,
            status=a.status,
            error=a.error,
            duration_ms=a.duration_ms,
        )
        for _cursor, a in page
    ]
    return AttemptList(data=data, next_before=page[-1][0] if len(page) == limit else None)


def message_object(message: Message) -> MessageObject:
    return MessageObject(
        id=message.id,
        task_id=message.task_id,
        event=message.event.value,
        endpoint_id=message.endpoint_id,
        state=message.state.value,
        attempts=message.attempts,
        created_at=message.created_at,
        next_attempt_at=message.next_attempt_at,
        last_status=message.last_status,
        last_error=message.last_error,
        delivered_at=message.delivered_at,
    )
