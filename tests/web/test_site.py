"""The playground's and the console's pages as the gateway serves them: at / and /console,
with a CSP that allows this origin alone and no inline code, every asset they name shipped
in the package; and the committed build (src/vidugate/web/site) is the build of the
committed source (web/)."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.api.playground import SITE_DIR

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
INSTALL = "npm ci --prefix web"


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/console"])
async def test_the_page_and_its_assets_are_served_from_the_package(
    tmp_path: Path, path: str
) -> None:
    async with running_app(gateway_settings(tmp_path)) as app, asgi_client(app) as client:
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'"):
            assert directive in csp
        assert "unsafe" not in csp
        html = page.text
        # No inline script or style: each <script> has a src, no element a style attribute.
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert " style=" not in html
        names = re.findall(r'(?:src|href)="\./(playground/[^"]+)"', html)
        assert {Path(n).suffix for n in names} == {".js", ".css"}, html
        for name in names:
            asset = await client.get("/" + name)
            assert asset.status_code == 200, name
            assert asset.content == (SITE_DIR / name).read_bytes()
            # Nothing loaded from elsewhere: the only URLs are XML namespace names.
            urls = re.findall(r"https?://[^\"'\s)]+", asset.text)
            assert [u for u in urls if not u.startswith("http://www.w3.org/")] == [], name


def test_the_committed_build_is_the_build_of_the_source(tmp_path: Path) -> None:
    """Whoever changes web/src rebuilds (`npm run build --prefix web`) and commits both."""
    problem = None
    if shutil.which("npm") is None:
        problem = "npm is not installed (Node.js 20 or newer builds web/)"
    elif not (WEB_DIR / "node_modules" / "vite" / "package.json").is_file():
        problem = f"web/'s packages are not installed: run `{INSTALL}` (./scripts/check does)"
    if problem is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must check the committed build: {problem}")
        pytest.skip(problem)
    out = tmp_path / "site"
    subprocess.run(
        ["npm", "run", "--silent", "build", "--", "--outDir", str(out), "--logLevel", "warn"],
        cwd=WEB_DIR,
        check=True,
        timeout=300,
    )
    built = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SITE_DIR) for p in SITE_DIR.rglob("*") if p.is_file())
    assert built == committed, "rebuild web/ (npm run build --prefix web) and commit the result"
    _, mismatch, errors = filecmp.cmpfiles(out, SITE_DIR, [str(p) for p in built], shallow=False)
    assert mismatch == errors == [], mismatch or errors
