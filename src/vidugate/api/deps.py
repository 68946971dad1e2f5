"""What routes are given: one narrow dependency each (`VideoServiceDep`, `SignerDep`,
`SettingsDep`, ...), never the whole process. The composition root (bootstrap.py) builds
the objects; the app's lifespan puts them in `app.state.gateway`, read here through the
`RouteObjects` protocol, so this layer never imports the root above it."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from vidugate.api.observe import CALLER
from vidugate.api.readiness import Readiness
from vidugate.clock import Clock
from vidugate.domain.keys import ApiKey, KeyRole
from vidugate.errors import AuthenticationError
from vidugate.files.base import FileStore
from vidugate.logs import caller
from vidugate.services.billing import Billing
from vidugate.services.callbacks import CallbackService
from vidugate.services.keys import KeyService
from vidugate.services.rates import RateLimiter
from vidugate.services.signing import UrlSigner
from vidugate.services.timeline import TimelineService
from vidugate.services.upstream import UpstreamAccounts
from vidugate.services.videos import VideoService
from vidugate.services.webhooks import WebhookService
from vidugate.settings import Settings


class Scraper(Protocol):
    """What /metrics reads (api/scrape.py's Scrape)."""

    async def text(self) -> bytes: ...


class RouteObjects(Protocol):
    """The members of bootstrap.Gateway that routes may be given."""

    @property
    def videos(self) -> VideoService: ...

    @property
    def keys(self) -> KeyService: ...

    @property
    def billing(self) -> Billing: ...

    @property
    def signer(self) -> UrlSigner: ...

    @property
    def files(self) -> FileStore: ...

    @property
    def callbacks(self) -> CallbackService: ...

    @property
    def readiness(self) -> Readiness: ...

    @property
    def rates(self) -> RateLimiter: ...

    @property
    def webhooks(self) -> WebhookService: ...

    @property
    def scrape(self) -> Scraper: ...

    @property
    def timeline(self) -> TimelineService: ...

    @property
    def upstream(self) -> UpstreamAccounts: ...


def objects_of(request: Request) -> RouteObjects:
    objects: RouteObjects = request.app.state.gateway
    return objects


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Dependencies are async on purpose: FastAPI runs a plain `def` dependency in a thread,
# which costs a thread hop on every request of the hottest routes.
async def get_settings(request: Request) -> Settings:
    return settings_of(request)


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_videos(request: Request) -> VideoService:
    return objects_of(request).videos


async def get_billing(request: Request) -> Billing:
    return objects_of(request).billing


async def get_signer(request: Request) -> UrlSigner:
    return objects_of(request).signer


async def get_files(request: Request) -> FileStore:
    return objects_of(request).files


async def get_callbacks(request: Request) -> CallbackService:
    return objects_of(request).callbacks


async def get_readiness(request: Request) -> Readiness:
    return objects_of(request).readiness


async def get_webhooks(request: Request) -> WebhookService:
    return objects_of(request).webhooks


async def get_timeline(request: Request) -> TimelineService:
    return objects_of(request).timeline


async def get_upstream(request: Request) -> UpstreamAccounts:
    return objects_of(request).upstream


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
VideoServiceDep = Annotated[VideoService, Depends(get_videos)]
BillingDep = Annotated[Billing, Depends(get_billing)]
SignerDep = Annotated[UrlSigner, Depends(get_signer)]
FileStoreDep = Annotated[FileStore, Depends(get_files)]
CallbackServiceDep = Annotated[CallbackService, Depends(get_callbacks)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]
TimelineDep = Annotated[TimelineService, Depends(get_timeline)]
UpstreamDep = Annotated[UpstreamAccounts, Depends(get_upstream)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError(
            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'."
        )
    scheme, _, token = header.partition(" ")
    # Vidu's own clients send 'Token'; the routes of both surfaces take either.
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise AuthenticationError(
            "Malformed Authorization header; expected 'Authorization: Bearer YOUR_KEY'."
        )
    return token.strip()


# Where a call's x-ratelimit-* headers wait for the response (api/middleware.py adds them).
RATE_HEADERS = "vidugate.rate_headers"


async def authenticate(request: Request) -> ApiKey:
    """The client key, within its requests-per-minute windows (key and tenant)."""
    return await _limited(request, create=False)


async def authenticate_create(request: Request) -> ApiKey:
    """The client key of a create: its requests and creates windows, in one check."""
    return await _limited(request, create=True)


async def _limited(request: Request, *, create: bool) -> ApiKey:
    objects = objects_of(request)
    key = _noted(request, await objects.keys.authenticate(bearer_token(request)))
    headers = await objects.rates.check(key, create=create)
    if headers:
        request.scope[RATE_HEADERS] = headers
    return key


ApiKeyDep = Annotated[ApiKey, Depends(authenticate)]
CreatorKeyDep = Annotated[ApiKey, Depends(authenticate_create)]


async def authenticate_admin(request: Request) -> ApiKey:
    """An admin key (vga-...): the admin API's only credential; a client key is refused."""
    key = await objects_of(request).keys.authenticate(bearer_token(request), KeyRole.ADMIN)
    return _noted(request, key)


def _noted(request: Request, key: ApiKey) -> ApiKey:
    """The request's key, in its log lines from now on and in its `http.request` event."""
    who = (key.id, key.tenant_id)
    caller.set(who)
    request.scope[CALLER] = who
    return key


AdminKeyDep = Annotated[ApiKey, Depends(authenticate_admin)]
