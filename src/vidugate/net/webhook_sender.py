"""POST a webhook to its receiver under the fetch guard's rules (net/fetch.py): never to a
private or loopback address unless the operator allows it, checked on the address actually
connected to; no redirects followed (a receiver that moved answers 3xx: a failed try); a
time limit on the whole call; at most a few bytes of the answer read, for the log."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from vidugate.errors import InvalidRequestError
from vidugate.net.fetch import (
    AddressGuard,
    BlockedAddressError,
    FetchPolicy,
    GuardedResolver,
    check_url,
    parse_url,
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # None: no HTTP answer came (error says why)
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    """One ClientSession for every delivery of the process."""

    def __init__(self, policy: FetchPolicy, *, timeout: float, answer_bytes: int) -> None:
        self.guard = AddressGuard(policy.allow_private, policy.allow_networks)
        self.timeout = timeout
        self.answer_bytes = answer_bytes
        self.user_agent = policy.user_agent
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None

    def check(self, raw: str, param: str) -> str:
        """The URL if the gateway may call it (400 naming `param` otherwise)."""
        try:
            check_url(parse_url(raw, param), self.guard, param)
        except InvalidRequestError as exc:
            raise InvalidRequestError(
                f"{param}: {exc.message}", param=param, code=exc.code
            ) from None
        return raw

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._resolver = GuardedResolver(self.guard)
            connector = aiohttp.TCPConnector(
                resolver=self._resolver, limit=64, limit_per_host=8, use_dns_cache=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": f"{self.user_agent}-webhooks"},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def post(self, raw_url: str, headers: dict[str, str], body: bytes) -> Answer:
        started = time.monotonic()

        def answer(status: int | None, error: str | None) -> Answer:
            return Answer(status, error, int((time.monotonic() - started) * 1000))

        try:
            url = URL(raw_url)
            check_url(url, self.guard, "url")
        except (InvalidRequestError, ValueError) as exc:
            return answer(None, f"not sent: {exc}")
        try:
            async with self._get_session().post(
                url,
                # A file-like body: aiohttp warns that large bytes block its loop.
                data=io.BytesIO(body),
                headers={"Content-Type": "application/json", **headers},
                allow_redirects=False,
            ) as response:
                # Read a little for the log; a receiver's long answer is not our business.
                await response.content.read(self.answer_bytes)
                error = None if 200 <= response.status < 300 else f"answered {response.status}"
                return answer(response.status, error)
        except BlockedAddressError as exc:
            return answer(None, f"not sent: {exc}")
        except TimeoutError:
            return answer(None, f"no answer within {self.timeout:g} s")
        except aiohttp.ClientError as exc:
            return answer(None, f"{type(exc).__name__}: {str(exc)[:200]}")

    async def close(self) -> None:
        session, self._session = self._session, None
        resolver, self._resolver = self._resolver, None
        if session is not None:
            await session.close()
        if resolver is not None:
            await resolver.close()
