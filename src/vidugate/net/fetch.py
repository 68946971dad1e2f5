"""Fetch user-supplied URLs to files without letting them reach the gateway's own network.

IP-literal hosts (which aiohttp never hands to a resolver) are checked here before every
request; host names go through :class:`GuardedResolver`, which drops blocked addresses from
what the connector may dial, so the check is on the address actually connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from vidugate.errors import InvalidRequestError, PayloadTooLargeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_PRIVATE_SETTING = "VIDUGATE_FETCH_ALLOW_PRIVATE"
_SCHEMES = ("http", "https")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_SIZE = 64 * 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# One part of a legacy inet_aton() IPv4 form: hex, octal or decimal.
_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


class FetchBudget:
    """The bytes one request may still make the gateway fetch, shared by all its URLs
    (images and watermark): a small request must not buy many large downloads."""

    __slots__ = ("limit", "used")
    SETTING = "VIDUGATE_MAX_FETCH_BYTES_PER_REQUEST"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def refuse(self, param: str) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"{param}: the URLs of one request may make the gateway fetch at most "
            f"{self.limit} bytes in all ({self.SETTING}), and this one would go past that.",
            param=param,
        )

    def take(self, size: int, param: str) -> None:
        self.used += size
        if self.used > self.limit:
            raise self.refuse(param)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_private: bool = False  # allow loopback/private/link-local/etc. destinations
    allow_networks: tuple[str, ...] = ()  # CIDRs allowed even when allow_private is False
    timeout: float = 20.0  # whole fetch, all redirects included
    connect_timeout: float = 5.0
    max_redirects: int = 5
    user_agent: str = "vidugate"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address wraps (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_blocked_address(ip: IPAddress) -> bool:
    """True for anything but a globally routable unicast address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return is_blocked_address(embedded)
    if isinstance(ip, ipaddress.IPv6Address) and (ip.teredo is not None or ip.is_site_local):
        return True
    # not is_global covers loopback, RFC 1918, fc00::/7, link-local, CGNAT, 0/8, broadcast,
    # documentation and benchmark ranges; multicast and reserved are listed as global.
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


class AddressGuard:
    """Decides whether the gateway may connect to an address under a policy."""

    __slots__ = ("_allow_private", "_networks")

    def __init__(self, allow_private: bool = False, allow_networks: tuple[str, ...] = ()) -> None:
        self._allow_private = allow_private
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks)

    def allows(self, ip: IPAddress) -> bool:
        if self._allow_private:
            return True
        embedded = _embedded_ipv4(ip)
        for candidate in (ip, embedded):
            if candidate is not None and any(
                candidate.version == net.version and candidate in net for net in self._networks
            ):
                return True
        return not is_blocked_address(ip)


class BlockedAddressError(Exception):
    """Every address a host name resolved to is refused by the guard."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves only to blocked addresses")
        self.host = host


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and drops every address the guard refuses."""

    def __init__(self, guard: AddressGuard, inner: AbstractResolver | None = None) -> None:
        self._guard = guard
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = aiohttp.ThreadedResolver()  # needs the running loop, so made lazily
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._allows(r["host"])]
        if results and not allowed:
            raise BlockedAddressError(host)
        return allowed

    def _allows(self, address: str) -> bool:
        try:
            return self._guard.allows(ipaddress.ip_address(address))
        except ValueError:
            return False

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def _aton_part_value(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    return int(part, 8 if part.startswith("0") else 10)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse the numeric forms inet_aton() accepts: 2130706433, 0x7f.1, 0177.0.0.1, 127.1."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_ATON_PART.fullmatch(p) for p in parts):
        return None
    values = [_aton_part_value(p) for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, v in enumerate(head):
        value += v << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _invalid_url(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code="invalid_url")


def _not_allowed(host: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The URL host {host!r} resolves to a private or loopback address, which the gateway "
        f"does not connect to; enable {ALLOW_PRIVATE_SETTING} to allow it.",
        param=param,
        code="url_not_allowed",
    )


def _fetch_failed(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code="fetch_failed")


_FAILURE_KINDS: tuple[tuple[type[aiohttp.ClientError], str], ...] = (
    (aiohttp.ClientConnectorDNSError, "could not resolve the URL's host name (DNS failure)"),
    (aiohttp.ClientSSLError, "TLS error while connecting to the URL's host"),
    (aiohttp.ServerTimeoutError, "timed out connecting to or reading from the URL's host"),
    (aiohttp.ClientConnectorError, "could not connect to the URL's host"),
    (aiohttp.ServerDisconnectedError, "the server closed the connection"),
    (aiohttp.ClientPayloadError, "the response body was incomplete or malformed"),
    (aiohttp.ClientResponseError, "the server sent an invalid HTTP response"),
)


def _describe(exc: aiohttp.ClientError) -> str:
    return next((text for kind, text in _FAILURE_KINDS if isinstance(exc, kind)), "network error")


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _open_part(dest: Path) -> BinaryIO:
    return _part_path(dest).open("wb")


def check_url(url: URL, guard: AddressGuard, param: str) -> None:
    """Refuse what the gateway may never connect to: not http(s), credentials in the URL,
    or an IP-literal host the guard refuses (a host name is checked where it resolves)."""
    host = url.host
    if url.scheme not in _SCHEMES or not host or (url.user, url.password) != (None, None):
        raise _invalid_url(
            "Only http(s) URLs with a host and without credentials are allowed.", param
        )
    try:
        address: IPAddress | None = ipaddress.ip_address(host)
        canonical = True
    except ValueError:
        address, canonical = _legacy_ipv4(host.removesuffix(".")), False
    if address is None and ":" in host:  # aiohttp would dial it as an IP literal
        raise _invalid_url(f"The URL host {host!r} is not a valid IP address.", param)
    if address is None:
        return  # a host name: GuardedResolver checks what it resolves to
    if not guard.allows(address):
        raise _not_allowed(host, param)
    if not canonical:
        raise _invalid_url(
            f"The URL host {host!r} is a non-standard numeric IPv4 form; "
            "write the address as a dotted quad.",
            param,
        )


def parse_url(raw: str, param: str, base: URL | None = None) -> URL:
    try:
        url = URL(raw)
        return base.join(url) if base is not None else url
    except (ValueError, TypeError):
        raise _invalid_url("The URL is malformed; only http(s) URLs are allowed.", param) from None


class UrlFetcher:
    """Fetches http(s) URLs to files under a :class:`FetchPolicy`; owns one ClientSession."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._guard = AddressGuard(policy.allow_private, policy.allow_networks)
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> UrlFetcher:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        resolver, self._resolver = self._resolver, None
        if session is not None:
            await session.close()
        if resolver is not None:
            await resolver.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._resolver = GuardedResolver(self._guard)
            connector = aiohttp.TCPConnector(
                resolver=self._resolver, limit=32, limit_per_host=8, use_dns_cache=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self._policy.connect_timeout,
                    sock_connect=self._policy.connect_timeout,
                ),
                headers={"User-Agent": self._policy.user_agent, "Accept-Encoding": "identity"},
                cookie_jar=aiohttp.DummyCookieJar(),  # never carry cookies between users' fetches
                trust_env=False,  # no proxies from the environment
                auto_decompress=True,
            )
        return self._session

    async def fetch_to_file(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int,
        param: str,
        budget: FetchBudget | None = None,
    ) -> int:
        """Download ``url`` to ``dest`` and return the number of bytes written; every byte
        read counts against ``budget`` as it arrives."""
        session = self._get_session()
        timeout = self._policy.timeout
        budget = budget if budget is not None else FetchBudget(max_bytes)
        try:
            async with asyncio.timeout(timeout):
                return await self._fetch(
                    session, parse_url(url, param), dest, max_bytes, param, budget
                )
        except TimeoutError:
            raise _fetch_failed(
                f"Fetching the URL timed out after {timeout:g} seconds.", param
            ) from None
        finally:
            _part_path(dest).unlink(missing_ok=True)

    async def _fetch(
        self,
        session: aiohttp.ClientSession,
        url: URL,
        dest: Path,
        max_bytes: int,
        param: str,
        budget: FetchBudget,
    ) -> int:
        current = url
        for _hop in range(self._policy.max_redirects + 1):
            check_url(current, self._guard, param)
            try:
                async with session.get(current, allow_redirects=False) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in _REDIRECT_STATUSES and location:
                        current = parse_url(location, param, base=current)
                        continue
                    if not 200 <= resp.status < 300:
                        message = (
                            f"Fetching the URL failed: the server answered HTTP {resp.status}."
                        )
                        raise _fetch_failed(message, param)
                    length = resp.content_length
                    if length is not None and length > max_bytes:
                        raise PayloadTooLargeError(
                            f"The file at the URL is {length} bytes, over the "
                            f"{max_bytes}-byte limit.",
                            param=param,
                        )
                    if length is not None and length > budget.left:
                        raise budget.refuse(param)
                    return await self._stream(resp, dest, max_bytes, param, budget)
            except BlockedAddressError:
                raise _not_allowed(current.host or "", param) from None
            except aiohttp.InvalidURL:
                raise _invalid_url("The URL is not a valid http(s) URL.", param) from None
            except aiohttp.ClientError as exc:
                raise _fetch_failed(f"Fetching the URL failed: {_describe(exc)}.", param) from None
        limit = self._policy.max_redirects
        raise _fetch_failed(f"Fetching the URL failed: more than {limit} redirects.", param)

    @staticmethod
    async def _stream(
        resp: aiohttp.ClientResponse, dest: Path, max_bytes: int, param: str, budget: FetchBudget
    ) -> int:
        total = 0
        with _open_part(dest) as fh:  # small sequential writes to local disk
            async for chunk in resp.content.iter_chunked(_CHUNK_SIZE):
                total += len(chunk)
                if total > max_bytes:
                    raise PayloadTooLargeError(
                        f"The file at the URL is larger than the {max_bytes}-byte limit.",
                        param=param,
                    )
                budget.take(len(chunk), param)
                fh.write(chunk)
        os.replace(_part_path(dest), dest)
        return total
