"""`vidugate generate`: make a video through a running gateway, over HTTP, with progress."""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from types import ModuleType

    import httpx
    from rich.console import Console

FINAL = {"completed", "failed", "cancelled"}


@functools.cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(1)


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error.get('code')}: {error.get('message')}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code}: {response.text[:300]}"


def _submit(client: httpx.Client, fields: dict[str, str], image: str | None) -> dict[str, Any]:
    # multipart/form-data, as in the seed's own examples; (None, value) is a plain text part.
    parts: list[tuple[str, tuple[str | None, Any, str | None]]] = [
        (name, (None, value, None)) for name, value in fields.items()
    ]
    with contextlib.ExitStack() as stack:
        if image is not None and not image.startswith(("http://", "https://", "data:")):
            path = Path(image)
            if not path.is_file():
                raise _fail(f"no such image file: {image}")
            handle = stack.enter_context(path.open("rb"))
            parts.append(("images", (path.name, handle, "application/octet-stream")))
        elif image is not None:
            parts.append(("images", (None, image, None)))
        response = client.post("/v1/videos", files=parts)
    if response.status_code != 200:
        raise _fail(_error_text(response))
    body: dict[str, Any] = response.json()
    return body


def _wait(client: httpx.Client, video: dict[str, Any]) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]{task.fields[status]:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err(), transient=False) as progress:
        bar = progress.add_task("render", total=100, status=video["status"])
        while video["status"] not in FINAL:
            response = client.get(f"/v1/videos/{video['id']}")
            if response.status_code != 200:
                raise _fail(_error_text(response))
            video = response.json()
            progress.update(bar, completed=video["progress"], status=video["status"])
            if video["status"] in FINAL:
                break
            wait_ms = int(response.headers.get("openai-poll-after-ms", "1000"))
            time.sleep(min(max(wait_ms, 200), 5000) / 1000)
    return video


def _download(client: httpx.Client, video_id: str, output: Path) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (
        TextColumn("download"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    part = output.with_name(output.name + ".part")
    with client.stream("GET", f"/v1/videos/{video_id}/content") as response:
        if response.status_code != 200:
            response.read()
            raise _fail(_error_text(response))
        total = int(response.headers.get("content-length", 0)) or None
        with Progress(*columns, console=_err()) as progress, part.open("wb") as out:
            bar = progress.add_task("download", total=total)
            for chunk in response.iter_bytes():
                out.write(chunk)
                progress.update(bar, advance=len(chunk))
    part.replace(output)


def generate(
    prompt: Annotated[str, typer.Option(help="What to generate.")],
    image: Annotated[
        str | None, typer.Option(help="Reference image: a file path or an http(s) URL.")
    ] = None,
    model: Annotated[str, typer.Option(help="Model (see GET /v1/models).")] = "viduq3-pro",
    duration: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    aspect_ratio: Annotated[str | None, typer.Option(help="16:9, 9:16, 1:1, 4:3, 3:4.")] = None,
    resolution: Annotated[str | None, typer.Option(help="360p, 540p, 720p or 1080p.")] = None,
    seed: Annotated[int | None, typer.Option(help="Same non-zero seed, same video.")] = None,
    audio: Annotated[bool | None, typer.Option(help="Audio track (q3 default: on).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to save the MP4.")
    ] = None,
    base_url: Annotated[
        str, typer.Option(envvar="VIDUGATE_BASE_URL", help="The gateway's address.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None, typer.Option(envvar="VIDUGATE_API_KEY", help="A gateway key.")
    ] = None,
) -> None:
    """Submit a video to a running gateway, follow its progress, and save the MP4."""
    if not api_key:
        raise _fail("no API key: pass --api-key or set VIDUGATE_API_KEY")
    # httpx imports its own command line (Click, Rich's syntax highlighting, Pygments)
    # whenever those are installed, as they are here: a fifth of this command's start, for
    # nothing. A None entry makes that import fail, and httpx goes on without it.
    sys.modules.setdefault("httpx._main", cast("ModuleType", None))
    import httpx

    fields = {"model": model, "prompt": prompt}
    optional = {
        "duration": duration,
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
        "seed": seed,
        "audio": None if audio is None else str(audio).lower(),
    }
    fields.update({name: str(value) for name, value in optional.items() if value is not None})
    headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "vidugate-cli"}
    timeout = httpx.Timeout(30.0, connect=5.0)
    with httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout) as client:
        try:
            video = _submit(client, fields, image)
        except httpx.TransportError as exc:
            raise _fail(f"cannot reach the gateway at {base_url}: {exc}") from None
        _err().print(f"task [bold]{video['id']}[/bold] {video['size']} {video['seconds']}s")
        try:
            video = _wait(client, video)
        except KeyboardInterrupt:
            with contextlib.suppress(httpx.HTTPError):
                client.post(f"/v1/videos/{video['id']}/cancel")
            _err().print("cancelled")
            raise typer.Exit(130) from None
        if video["status"] != "completed":
            error = video.get("error") or {}
            raise _fail(f"video {video['status']}: {error.get('message', 'no reason given')}")
        target = output or Path(f"{video['id']}.mp4")
        _download(client, video["id"], target)
    _err().print(f"saved [bold]{target}[/bold]")
