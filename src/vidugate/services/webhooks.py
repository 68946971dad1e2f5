"""Webhook endpoints and their delivery log, for an account's own key and for the operator
(docs/webhooks.md). An endpoint's URL is checked as every URL the gateway calls is (the
fetch guard's rules); its secret is shown when it is made or rotated, and on request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vidugate.clock import Clock
from vidugate.domain.caps import MAX_URL_CHARS
from vidugate.domain.tasks import new_id
from vidugate.domain.webhooks import (
    MAX_DESCRIPTION_CHARS,
    MAX_ENDPOINTS_PER_TENANT,
    Attempt,
    Endpoint,
    Message,
    is_endpoint_id,
    is_message_id,
    parse_events,
)
from vidugate.errors import ConflictError, InvalidRequestError, NotFoundError
from vidugate.net.webhook_sender import WebhookSender
from vidugate.services.webhook_signing import WebhookSigner, new_secret
from vidugate.store.tenants import TenantRepository
from vidugate.store.webhook_endpoints import EndpointRepository
from vidugate.store.webhook_log import WebhookLog
from vidugate.store.webhook_outbox import WebhookOutbox


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """What an update sets (None: left as is)."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    disabled: bool | None = None


class WebhookService:
    def __init__(
        self,
        endpoints: EndpointRepository,
        outbox: WebhookOutbox,
        log: WebhookLog,
        tenants: TenantRepository,
        sender: WebhookSender,
        signer: WebhookSigner,
        *,
        clock: Clock,
    ) -> None:
        self.endpoints = endpoints
        self.outbox = outbox
        self.log = log
        self.tenants = tenants
        self.sender = sender
        self.signer = signer
        self.clock = clock

    def check_url(self, url: str, param: str) -> str:
        if len(url) > MAX_URL_CHARS:
            raise InvalidRequestError(
                f"{param} has {len(url)} characters; at most {MAX_URL_CHARS} are allowed.",
                param=param,
            )
        return self.sender.check(url, param)

    async def create(
        self,
        tenant_id: str,
        url: str,
        events: Iterable[str] | None = None,
        description: str = "",
    ) -> tuple[Endpoint, str]:
        """A new endpoint of the account and its secret (shown now; readable later)."""
        self.check_url(url, "url")
        _check_description(description)
        chosen = parse_events(events)
        if await self.tenants.get(tenant_id) is None:
            raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
        if await self.endpoints.count(tenant_id) >= MAX_ENDPOINTS_PER_TENANT:
            raise ConflictError(
                f"An account has at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints; "
                "delete one first.",
                code="too_many_endpoints",
            )
        now = self.clock.now()
        endpoint = Endpoint(
            id=new_id("whep_", now),
            tenant_id=tenant_id,
            url=url,
            events=chosen,
            description=description,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        secret = new_secret()
        await self.endpoints.insert(endpoint, secret)
        return endpoint, secret

    async def get(self, endpoint_id: str, tenant_id: str | None = None) -> Endpoint:
        found = None
        if is_endpoint_id(endpoint_id):
            found = await self.endpoints.get(endpoint_id, tenant_id)
        if found is None:
            raise _no_endpoint(endpoint_id)
        return found

    async def of_tenant(self, tenant_id: str | None) -> list[Endpoint]:
        return await self.endpoints.of_tenant(tenant_id)

    async def update(
        self, endpoint_id: str, change: EndpointChange, tenant_id: str | None = None
    ) -> Endpoint:
        await self.get(endpoint_id, tenant_id)
        values: dict[str, Any] = {"updated_at": self.clock.now()}
        if change.url is not None:
            values["url"] = self.check_url(change.url, "url")
        if change.events is not None:
            values["events"] = parse_events(change.events)
        if change.description is not None:
            _check_description(change.description)
            values["description"] = change.description
        if change.disabled is not None:
            values["disabled"] = change.disabled
        updated = await self.endpoints.update(endpoint_id, values)
        if updated is None:
            raise _no_endpoint(endpoint_id)
        return updated

    async def delete(self, endpoint_id: str, tenant_id: str | None = None) -> None:
        """Gone at once; its messages not yet sent are dropped when their turn comes."""
        await self.get(endpoint_id, tenant_id)
        await self.endpoints.delete(endpoint_id)

    async def secret(self, endpoint_id: str, tenant_id: str | None = None) -> str:
        await self.get(endpoint_id, tenant_id)
        secret = await self.endpoints.secret(endpoint_id)
        if secret is None:
            raise _no_endpoint(endpoint_id)
        return secret

    async def rotate_secret(self, endpoint_id: str, tenant_id: str | None = None) -> str:
        """A new secret, in force for every try from now on (earlier ones stay signed with
        the old one)."""
        await self.get(endpoint_id, tenant_id)
        secret = new_secret()
        await self.endpoints.update(endpoint_id, {"secret": secret, "updated_at": self.clock.now()})
        return secret

    def request_secret(self, tenant_id: str) -> str:
        """The secret of the account's per-request URLs (`webhook_url`, `callback_url`)."""
        return self.signer.tenant_secret(tenant_id)

    async def deliveries(
        self,
        *,
        tenant_id: str | None,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[tuple[int, Attempt]]:
        if endpoint_id is not None:
            await self.get(endpoint_id, tenant_id)
        if message_id is not None:
            await self.message(message_id, tenant_id)
        if endpoint_id is None and message_id is None:
            raise InvalidRequestError("Name an endpoint or a message.", param="endpoint_id")
        return await self.log.attempts(
            endpoint_id=endpoint_id, message_id=message_id, limit=limit, before=before
        )

    async def message(self, message_id: str, tenant_id: str | None = None) -> Message:
        found = None
        if is_message_id(message_id):
            found = await self.log.get(message_id, tenant_id)
        if found is None:
            raise NotFoundError(f"No webhook message {message_id!r}.", param="message_id")
        return found

    async def messages_of_task(self, task_id: str) -> list[Message]:
        return await self.log.of_task(task_id)

    async def redeliver(self, message_id: str, tenant_id: str | None = None) -> Message:
        """Send the message again now, with its own webhook-id."""
        await self.message(message_id, tenant_id)
        again = await self.outbox.redeliver(message_id, self.clock.now())
        if again is None:
            raise NotFoundError(f"No webhook message {message_id!r}.", param="message_id")
        return again


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(
            f"description has {len(description)} characters; at most "
            f"{MAX_DESCRIPTION_CHARS} are allowed.",
            param="description",
        )


def _no_endpoint(endpoint_id: str) -> NotFoundError:
    return NotFoundError(f"No webhook endpoint {endpoint_id!r}.", param="endpoint_id")
