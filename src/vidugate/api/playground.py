"""The playground at / and the operator's console at /console: the front end built from web/
(TypeScript, Preact, Vite) and committed under vidugate/web/site, so serving needs no node.
Each page holds its key (the console an admin key, for /admin/v1) in localStorage and sends
it only as the Authorization header of its own requests; their CSP allows scripts, styles
and connections to this origin alone, with no inline script, so a page of the gateway's
cannot be made to send the key anywhere else."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

SITE_DIR = Path(__file__).resolve().parent.parent / "web" / "site"
ASSETS_URL = "/playground"  # vite.config.ts's assetsDir, under the page's own "./"

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        # blob: for the previews of images picked before upload; results are same-origin.
        "img-src 'self' blob:",
        "media-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page names its hashed assets; a stale copy would name ones an upgrade removed.
    "Cache-Control": "no-cache",
}


def install(app: FastAPI) -> None:
    """Serve the pages at / and /console, and their hashed assets under /playground."""
    app.mount(ASSETS_URL, StaticFiles(directory=SITE_DIR / "playground"), name="playground")

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        return FileResponse(SITE_DIR / "index.html", media_type="text/html", headers=HEADERS)

    # /console, not /console/: the page names its assets as ./playground/..., from the root.
    @app.get("/console", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(SITE_DIR / "console.html", media_type="text/html", headers=HEADERS)
