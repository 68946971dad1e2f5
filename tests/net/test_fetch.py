"""UrlFetcher against real loopback HTTP servers: SSRF guard, redirects, caps, timeouts
(which addresses count as private, and the resolver that drops them: test_address_guard.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from PIL import Image

from vidugate.errors import InvalidRequestError, PayloadTooLargeError
from vidugate.net.fetch import (
    FetchBudget,
    FetchPolicy,
    UrlFetcher,
)

pytestmark = pytest.mark.asyncio

LOOPBACK_ONLY = FetchPolicy(allow_networks=("127.0.0.1/32",))
PRIVATE_OK = FetchPolicy(allow_private=True)


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.frombytes("RGB", (160, 90), os.urandom(160 * 90 * 3)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png_bytes()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _words(text: str) -> list[str]:
    return text.split()


# All resolve to somewhere the default policy refuses; {port} is the main loopback server.
BLOCKED_LITERAL_URLS = _words("""
    http://169.254.169.254/latest/meta-data/ http://[::ffff:127.0.0.1]:{port}/img.png
    http://[::ffff:7f00:1]:{port}/img.png http://0.0.0.0:{port}/img.png
    http://2130706433:{port}/img.png http://0x7f.1:{port}/img.png
    http://0177.0.0.1:{port}/img.png
    http://127.1:{port}/img.png http://127.0.0.1.:{port}/img.png http://[::1]:{port}/img.png
    http://[::]:{port}/img.png http://10.1.2.3/ http://100.64.0.1/ http://[fe80::1]/
    http://[fd00::1]/ http://[2002:7f00:1::]/ http://224.0.0.1/ http://255.255.255.255/
""")
NOT_HTTP_URLS = _words("""
    file:///etc/passwd ftp://example.com/x.png data:image/png;base64,iVBORw0KGgo=
    gopher://example.com/ javascript:alert(1) http:///img.png //example.com/x.png not-a-url
    http://user:pass@example.com/x.png https://user@example.com/x.png
    http://example.com:99999/
""")


@dataclass
class Servers:
    port: int  # main server on 127.0.0.1
    port2: int  # second server on 127.0.0.2
    hits: list[str] = field(default_factory=list)
    hits2: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _app(hits: list[str]) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits.append(request.path_qs)
        return await handler(request)

    async def img(_: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")

    async def big_declared(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.content_length = 10_000_000
        await resp.prepare(request)
        await resp.write(PNG[:16])
        await asyncio.sleep(30)  # a client that read the body would hang here
        return resp

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(64):
                await resp.write(b"\0" * 65536)
        return resp

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(300):
                await resp.write(b"x")
                await asyncio.sleep(0.1)
        return resp

    app = web.Application(middlewares=[record])
    app.router.add_get("/img.png", img)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop/{n}", loop)
    app.router.add_get("/big-declared", big_declared)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/slow", slow)
    return app


async def _start(app: web.Application, host: str) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, host, 0).start()
    return runner, runner.addresses[0][1]


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[Servers]:
    hits: list[str] = []
    hits2: list[str] = []
    runner, port = await _start(_app(hits), "127.0.0.1")
    runner2, port2 = await _start(_app(hits2), "127.0.0.2")
    try:
        yield Servers(port=port, port2=port2, hits=hits, hits2=hits2)
    finally:
        await runner2.cleanup()
        await runner.cleanup()


async def _fetch(policy: FetchPolicy, url: str, dest: Path, max_bytes: int = 1 << 20) -> int:
    async with UrlFetcher(policy) as fetcher:
        return await fetcher.fetch_to_file(url, dest, max_bytes=max_bytes, param="image")


def _no_files(dest: Path) -> bool:
    return not dest.exists() and not dest.with_name(dest.name + ".part").exists()


async def test_png_from_loopback_arrives_byte_identical(servers: Servers, tmp_path: Path) -> None:
    dest = tmp_path / "in.png"
    assert await _fetch(PRIVATE_OK, servers.url("/img.png"), dest) == len(PNG)
    assert dest.read_bytes() == PNG
    assert not (tmp_path / "in.png.part").exists()


async def test_default_policy_refuses_loopback(servers: Servers, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(FetchPolicy(), servers.url("/img.png"), tmp_path / "x")
    assert info.value.code == "url_not_allowed"
    assert info.value.param == "image"
    assert "private or loopback" in info.value.message
    assert "VIDUGATE_FETCH_ALLOW_PRIVATE" in info.value.message
    assert servers.hits == []


async def test_localhost_name_refused_by_resolver(servers: Servers, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(FetchPolicy(), f"http://localhost:{servers.port}/img.png", tmp_path / "x")
    assert info.value.code == "url_not_allowed"
    assert info.value.param == "image"
    assert servers.hits == []


async def test_allow_networks_admits_only_that_network(servers: Servers, tmp_path: Path) -> None:
    dest = tmp_path / "in.png"
    assert await _fetch(LOOPBACK_ONLY, servers.url("/img.png"), dest) == len(PNG)
    assert dest.read_bytes() == PNG


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port2}/img.png",
        "http://[::1]:{port2}/",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_redirect_hop_is_rechecked(servers: Servers, tmp_path: Path, target: str) -> None:
    to = target.format(port2=servers.port2)
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(LOOPBACK_ONLY, servers.url(f"/redirect?to={to}"), tmp_path / "x")
    assert info.value.code == "url_not_allowed"
    assert len(servers.hits) == 1
    assert servers.hits2 == []
    assert _no_files(tmp_path / "x")


async def test_redirect_to_host_name_is_rechecked(servers: Servers, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_networks=("127.0.0.2/32",))
    to = f"http://localhost:{servers.port}/img.png"  # resolves to 127.0.0.1 (and maybe ::1)
    start = f"http://127.0.0.2:{servers.port2}/redirect?to={to}"
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(policy, start, tmp_path / "x")
    assert info.value.code == "url_not_allowed"
    assert len(servers.hits2) == 1
    assert servers.hits == []


async def test_second_server_reachable_when_private_allowed(
    servers: Servers, tmp_path: Path
) -> None:
    to = f"http://127.0.0.2:{servers.port2}/img.png"
    dest = tmp_path / "in.png"
    assert await _fetch(PRIVATE_OK, servers.url(f"/redirect?to={to}"), dest) == len(PNG)
    assert servers.hits2 == ["/img.png"]


async def test_relative_redirect_is_followed(servers: Servers, tmp_path: Path) -> None:
    dest = tmp_path / "in.png"
    assert await _fetch(PRIVATE_OK, servers.url("/redirect?to=img.png"), dest) == len(PNG)
    assert dest.read_bytes() == PNG


@pytest.mark.parametrize("url", BLOCKED_LITERAL_URLS)
async def test_blocked_literals_refused_without_connecting(
    servers: Servers, tmp_path: Path, url: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(FetchPolicy(), url.format(port=servers.port), tmp_path / "x")
    assert info.value.code == "url_not_allowed"
    assert info.value.param == "image"
    assert servers.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://134744072/x.png",  # 8.8.8.8 in decimal
        "http://0x8.0x8.0x8.0x8/x.png",
        "http://1.2.3.4.5/x.png",
        "http://[1:2]/x.png",
    ],
)
async def test_odd_ip_forms_are_invalid(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(FetchPolicy(), url, tmp_path / "x")
    assert info.value.code == "invalid_url"


@pytest.mark.parametrize("url", NOT_HTTP_URLS)
async def test_non_http_urls_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(PRIVATE_OK, url, tmp_path / "x")
    assert info.value.code == "invalid_url"
    assert info.value.param == "image"
    assert "http(s)" in info.value.message


async def test_redirect_to_file_scheme_refused(servers: Servers, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(PRIVATE_OK, servers.url("/redirect?to=file:///etc/passwd"), tmp_path / "x")
    assert info.value.code == "invalid_url"


async def test_content_length_over_cap_refused_before_body(
    servers: Servers, tmp_path: Path
) -> None:
    dest = tmp_path / "x"
    with pytest.raises(PayloadTooLargeError) as info:
        await _fetch(PRIVATE_OK, servers.url("/big-declared"), dest, max_bytes=100_000)
    assert info.value.param == "image"
    assert "10000000" in info.value.message
    assert _no_files(dest)


async def test_chunked_body_over_cap_aborted(servers: Servers, tmp_path: Path) -> None:
    dest = tmp_path / "x"
    with pytest.raises(PayloadTooLargeError) as info:
        await _fetch(PRIVATE_OK, servers.url("/chunked"), dest, max_bytes=100_000)
    assert info.value.code == "too_large"
    assert _no_files(dest)


async def test_slow_server_times_out(servers: Servers, tmp_path: Path) -> None:
    dest = tmp_path / "x"
    policy = FetchPolicy(allow_private=True, timeout=0.5)
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(policy, servers.url("/slow"), dest)
    assert info.value.code == "fetch_failed"
    assert "timed out" in info.value.message
    assert "0.5 seconds" in info.value.message
    assert _no_files(dest)


async def test_not_found_names_status(servers: Servers, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(PRIVATE_OK, servers.url("/missing"), tmp_path / "x")
    assert info.value.code == "fetch_failed"
    assert "404" in info.value.message


async def test_too_many_redirects(servers: Servers, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private=True, max_redirects=3)
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(policy, servers.url("/loop/0"), tmp_path / "x")
    assert info.value.code == "fetch_failed"
    assert "redirects" in info.value.message
    assert servers.hits == ["/loop/0", "/loop/1", "/loop/2", "/loop/3"]


async def test_connection_refused_is_fetch_failed(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(PRIVATE_OK, f"http://127.0.0.1:{port}/x.png", tmp_path / "x")
    assert info.value.code == "fetch_failed"
    assert "connect" in info.value.message


async def test_tls_error_is_fetch_failed(servers: Servers, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(PRIVATE_OK, f"https://127.0.0.1:{servers.port}/img.png", tmp_path / "x")
    assert info.value.code == "fetch_failed"
    assert "TLS" in info.value.message


async def test_dns_failure_is_fetch_failed(tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private=True, timeout=5)
    with pytest.raises(InvalidRequestError) as info:
        await _fetch(policy, "http://no-such-host.invalid/x.png", tmp_path / "x")
    assert info.value.code == "fetch_failed"


async def test_fetcher_usable_without_context_manager(servers: Servers, tmp_path: Path) -> None:
    fetcher = UrlFetcher(PRIVATE_OK)
    try:
        dest = tmp_path / "in.png"
        await fetcher.fetch_to_file(servers.url("/img.png"), dest, max_bytes=1 << 20, param="p")
    finally:
        await fetcher.close()
    assert dest.read_bytes() == PNG


async def test_one_budget_is_shared_by_a_requests_fetches(servers: Servers, tmp_path: Path) -> None:
    budget = FetchBudget(2 * len(PNG) + 100)
    async with UrlFetcher(PRIVATE_OK) as fetcher:
        for index in range(2):
            dest = tmp_path / f"in{index}"
            await fetcher.fetch_to_file(
                servers.url("/img.png"), dest, max_bytes=1 << 20, param="images", budget=budget
            )
            assert dest.read_bytes() == PNG
        assert budget.used == 2 * len(PNG)
        dest = tmp_path / "in2"
        with pytest.raises(PayloadTooLargeError) as info:
            await fetcher.fetch_to_file(
                servers.url("/img.png"), dest, max_bytes=1 << 20, param="images[2]", budget=budget
            )
    assert info.value.param == "images[2]"
    assert info.value.message.startswith("images[2]:")
    assert FetchBudget.SETTING in info.value.message
    assert _no_files(dest)
    # Refused from its Content-Length: the body was never read.
    assert budget.used == 2 * len(PNG)


async def test_budget_is_enforced_while_streaming(servers: Servers, tmp_path: Path) -> None:
    # No Content-Length: the budget stops the read as it passes, well under the file's cap.
    budget = FetchBudget(300_000)
    dest = tmp_path / "x"
    async with UrlFetcher(PRIVATE_OK) as fetcher:
        with pytest.raises(PayloadTooLargeError) as info:
            await fetcher.fetch_to_file(
                servers.url("/chunked"), dest, max_bytes=1 << 30, param="wm_url", budget=budget
            )
    assert info.value.param == "wm_url"
    assert 300_000 < budget.used <= 300_000 + 65536  # at most one chunk past the limit
    assert _no_files(dest)
