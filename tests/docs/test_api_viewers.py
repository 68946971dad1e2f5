"""/docs and /redoc work offline: the pages name only the gateway's own URLs, and the
gateway serves every file they load (the packaged Swagger UI and ReDoc)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import vidugate
from gatewaylib import Gateway

ASSETS = Path(vidugate.__file__).parent / "api" / "docs_assets"
# Every URL a page names: src= and href= attributes, and the strings handed to the viewers.
URL = re.compile(r"""(?:src|href)=["']([^"']+)["']|(?:url|spec-url)["']?\s*[:=]\s*["']([^"']+)""")


def named_urls(html: str) -> list[str]:
    return [a or b for a, b in URL.findall(html)]


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}),
        ("/redoc", {"redoc.standalone.js"}),
    ],
)
def test_a_viewer_loads_only_what_the_gateway_serves(
    gateway: Gateway, page: str, assets: set[str]
) -> None:
    response = httpx.get(gateway.base_url + page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = named_urls(response.text)
    assert "/openapi.json" in urls, urls
    # Nothing from elsewhere: no scheme, no protocol-relative //host.
    remote = [url for url in urls if "://" in url or url.startswith("//")]
    assert not remote, remote
    assert "fonts.googleapis" not in response.text
    named = {url.rsplit("/", 1)[-1] for url in urls}
    assert assets <= named, urls
    for url in urls:
        got = httpx.get(gateway.base_url + url)
        assert got.status_code == 200, url
        if url.startswith("/docs/assets/"):
            packaged = ASSETS / url.removeprefix("/docs/assets/")
            assert got.content == packaged.read_bytes(), url


def test_the_packaged_viewers_carry_their_licences() -> None:
    for directory in ("swagger-ui", "redoc"):
        assert (ASSETS / directory / "LICENSE").is_file()
    assert "Apache License" in (ASSETS / "swagger-ui" / "LICENSE").read_text()
    assert "MIT" in (ASSETS / "redoc" / "LICENSE").read_text()
