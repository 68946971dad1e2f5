"""Dependency aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vidugate.domain.keys import ApiKey
from vidugate.errors import AuthenticationError
from vidugate.services.container import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Dependencies are async on purpose: FastAPI runs a plain `def` dependency in a thread,
# which costs a thread hop on every request of the hottest routes.
async def get_services(request: Request) -> Services:
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


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


async def authenticate(request: Request) -> ApiKey:
    return await services_of(request).keys.authenticate(bearer_token(request))


ApiKeyDep = Annotated[ApiKey, Depends(authenticate)]
