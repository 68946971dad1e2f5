"""Which addresses the fetch guard refuses (anything but globally routable unicast, IPv4
inside IPv6 forms included), and the resolver that drops them before a connection is made."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from vidugate.net.fetch import (
    AddressGuard,
    BlockedAddressError,
    GuardedResolver,
    is_blocked_address,
)

pytestmark = pytest.mark.asyncio

BLOCKED_ADDRESSES = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.251",
    "240.0.0.1",
    "::1",
    "::",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "fec0::1",
    "::ffff:10.0.0.1",
    "::7f00:1",
    "64:ff9b::a00:1",
    "2002:a00:1::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "::ffff:8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
async def test_blocked_address(address: str) -> None:
    assert is_blocked_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
async def test_public_address(address: str) -> None:
    assert not is_blocked_address(ipaddress.ip_address(address))


class _FixedResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=0, proto=0, flags=0)
            for a in self._addresses
        ]

    async def close(self) -> None:
        return None


async def test_guarded_resolver_drops_blocked_addresses() -> None:
    resolver = GuardedResolver(AddressGuard(), _FixedResolver("10.0.0.1", "93.184.216.34"))
    assert [r["host"] for r in await resolver.resolve("example.test", 80)] == ["93.184.216.34"]
    with pytest.raises(BlockedAddressError):
        await GuardedResolver(AddressGuard(), _FixedResolver("127.0.0.1", "::1")).resolve("x")
