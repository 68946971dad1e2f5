"""GET/HEAD /results/{task_id}/{file}: the videos and covers behind the signed links.

"render" mode draws a real H.264 MP4 with `vidugate.media.render.render_video` the first
time a link is downloaded (not at creation: most tests never download), in a worker thread,
at the size the task asked for: the short side is the resolution's number, the long side
follows `aspect_ratio`, or the first image's own ratio where the endpoint takes no ratio
(img2video, start-end2video; a URL image, never fetched, counts as 16:9). Data-URI images
become the first (and last) frame. Files are cached on disk under a hash of the render spec,
so repeated downloads, and tasks with the same spec, cost a file read; concurrent first
downloads share one render. `watermarked.mp4` is the same video with the text mark at
`wm_position` (`wm_url` is not fetched). The cover is the unwatermarked render's JPEG.

"fixed" mode renders one 320x180, 1 s MP4 and its cover at startup and serves them for
every task and file, for benchmarks.

Answers carry Content-Type, Content-Length, ETag and honour Range (Starlette's
FileResponse). Refusals look like an object store's, in XML: 403 `AccessDenied` "Request
has expired" past the link's expiry (or after /_emulator/expire-results), 403
`SignatureDoesNotMatch` for a tampered link, 404 `NoSuchKey` for anything else.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from vidugate.emulator.catalog import Endpoint, frame_size, ratio_of
from vidugate.emulator.core import Emulator
from vidugate.emulator.images import InputImage
from vidugate.emulator.links import COVER, FILES, WATERMARKED, Verdict
from vidugate.emulator.tasks import State, Task
from vidugate.media.render import render_video
from vidugate.media.spec import RenderSpec

_FIXED_SPEC = RenderSpec(
    width=320, height=180, duration=1, prompt="vidu emulator", seed=1, audio=False, bgm=False
)
_MIN_RATIO, _MAX_RATIO = 0.25, 4.0
Files = tuple[Path, Path]  # (video, cover)
Frames = tuple[InputImage | None, InputImage | None]  # (first, last)


def _xml_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex.upper()}</RequestId></Error>\n"
    )
    return Response(body, status_code=status, media_type="application/xml")


def _save_image(image: InputImage, folder: Path) -> Path:
    path = folder / f"{image.digest}.{image.extension}"
    if not path.exists() and image.data is not None:
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex}.part")
        tmp.write_bytes(image.data)
        tmp.replace(path)
    return path


def _render(spec: RenderSpec, frames: Frames, folder: Path, stem: str) -> Files:
    """Blocking: write the input frames, render, return the files (runs in a thread)."""
    head, tail = frames
    first = _save_image(head, folder) if head is not None else None
    last = _save_image(tail, folder) if tail is not None and first is not None else None
    spec = replace(spec, image_path=first, end_image_path=last)
    result = render_video(spec, folder / f"{stem}.mp4", folder / f"{stem}.jpg")
    return result.video_path, result.thumbnail_path


def _frames(task: Task) -> Frames:
    """The data-URI images that become the first and last frames (URLs are not fetched)."""
    request = task.request
    if request.endpoint not in (Endpoint.IMAGE, Endpoint.START_END):
        return None, None
    datas = [image if image.source == "data" else None for image in request.inputs]
    return datas[0], datas[1] if len(datas) > 1 else None


class ResultServer:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._folder: Path | None = None
        self._own_folder = False
        self._fixed: Files | None = None
        self._renders: dict[str, asyncio.Task[Files]] = {}

    def routes(self) -> list[Route]:
        return [Route("/results/{task_id}/{name}", self.download, methods=["GET", "HEAD"])]

    async def start(self) -> None:
        configured = self.emulator.config.cache_dir
        if configured is None:
            self._folder = Path(tempfile.mkdtemp(prefix="vidu-emulator-"))
            self._own_folder = True
        else:
            configured.mkdir(parents=True, exist_ok=True)
            self._folder = configured
        if self.emulator.config.result_mode == "fixed":
            folder = self._folder
            result = await asyncio.to_thread(
                render_video, _FIXED_SPEC, folder / "fixed.mp4", folder / "fixed.jpg"
            )
            self._fixed = (result.video_path, result.thumbnail_path)

    async def stop(self) -> None:
        # Renders run in threads that cannot be interrupted: let them finish first.
        await asyncio.gather(*self._renders.values(), return_exceptions=True)
        if self._own_folder and self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    async def download(self, request: Request) -> Response:
        emulator = self.emulator
        task_id, name = request.path_params["task_id"], request.path_params["name"]
        if name not in FILES:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        verdict = emulator.links.check(
            f"/results/{task_id}/{name}",
            request.query_params.get("Expires", ""),
            request.query_params.get("Signature", ""),
            emulator.clock.now(),
        )
        if verdict is not Verdict.VALID:
            emulator.stats.result_denied += 1
            if verdict is Verdict.EXPIRED:
                return _xml_error(403, "AccessDenied", "Request has expired.")
            return _xml_error(403, "SignatureDoesNotMatch", "The request signature is invalid.")
        task = emulator.tasks.get(task_id)
        if task is None or emulator.state_of(task, emulator.clock.now()) is not State.SUCCESS:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        if name == WATERMARKED and not task.request.watermark:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        try:
            video, cover = await self._files(task, watermarked=name == WATERMARKED)
        except (OSError, ValueError):
            return _xml_error(500, "InternalError", "The result could not be produced.")
        emulator.stats.result_downloads += 1
        if name == COVER:
            return FileResponse(cover, media_type="image/jpeg")
        return FileResponse(video, media_type="video/mp4")

    def spec_for(self, task: Task, *, watermarked: bool) -> RenderSpec:
        request = task.request
        if request.aspect_ratio is not None:
            ratio = ratio_of(request.aspect_ratio)
        elif request.inputs and request.inputs[0].source == "data":
            first = request.inputs[0]
            ratio = min(max(first.width / first.height, _MIN_RATIO), _MAX_RATIO)
        else:
            ratio = 16 / 9
        width, height = frame_size(request.resolution, ratio)
        return RenderSpec(
            width=width,
            height=height,
            duration=request.duration,
            prompt=request.prompt,
            seed=task.seed,
            audio=request.audio,
            bgm=request.bgm,
            watermark=watermarked,
            wm_position=request.wm_position,
        )

    async def _files(self, task: Task, *, watermarked: bool) -> Files:
        if self._fixed is not None:
            return self._fixed
        assert self._folder is not None, "the lifespan has not started"
        spec = self.spec_for(task, watermarked=watermarked)
        frames = _frames(task)
        digests = ",".join(image.digest if image else "-" for image in frames)
        stem = hashlib.sha256(f"{spec!r}|{digests}".encode()).hexdigest()[:32]
        video, cover = self._folder / f"{stem}.mp4", self._folder / f"{stem}.jpg"
        if video.exists() and cover.exists():
            return video, cover
        render = self._renders.get(stem)
        if render is None:
            self.emulator.stats.renders += 1
            render = asyncio.create_task(
                asyncio.to_thread(_render, spec, frames, self._folder, stem)
            )
            self._renders[stem] = render
            render.add_done_callback(lambda _done: self._renders.pop(stem, None))
        # Shielded: a client hanging up must not cancel a render other downloads wait for.
        return await asyncio.shield(render)
