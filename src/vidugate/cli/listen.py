"""`vidugate webhooks listen`: a receiver for trying webhooks on this machine. It prints
each delivery it gets, checked against the gateway's published Ed25519 key (and an
endpoint's `whsec_` secret, if given), and answers 200 (or 400 to a forged one)."""

from __future__ import annotations

from typing import Annotated

import typer


def listen(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 9000,
    base_url: Annotated[
        str,
        typer.Option(envvar="VIDUGATE_BASE_URL", help="The gateway, whose key is read."),
    ] = "http://127.0.0.1:8000",
    secret: Annotated[
        str | None, typer.Option(help="An endpoint's whsec_ secret: v1 is checked too.")
    ] = None,
) -> None:
    """Receive webhooks on http://127.0.0.1:PORT/ and print each, verified."""
    import base64
    import json
    import time

    import httpx
    from aiohttp import web

    from vidugate.cli.preflight import exit_with
    from vidugate.services.webhook_signing import verify

    try:
        jwks = httpx.get(f"{base_url.rstrip('/')}/.well-known/jwks.json", timeout=10).json()
        public_key = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
    except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
        raise exit_with(f"cannot read the gateway's key at {base_url}: {exc}", 1) from None

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        signed = verify(headers, body, public_key=public_key, now=time.time())
        if secret is not None:
            signed = signed and verify(headers, body, secret=secret, now=time.time())
        if not signed:
            print(f"REFUSED {headers.get('webhook-id', '?')}: no valid signature", flush=True)
            return web.Response(status=400, text="bad signature")
        try:
            event = json.loads(body)
            data = event.get("data", event)
            kind = event.get("type", "callback")
        except (ValueError, AttributeError):
            data, kind = {}, "?"
        status = data.get("status") or data.get("state")
        link = data.get("video_url") or ""
        print(
            f"verified {kind} {data.get('id', '?')} status={status} "
            f"id={headers.get('webhook-id')} {link}",
            flush=True,
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    print(f"listening on http://127.0.0.1:{port}/ (verifying with {base_url})", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
