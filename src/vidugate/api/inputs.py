"""Input images served back under short-lived signed links, for upstreams (Vidu) that
fetch images by URL. The signature is the only credential; it opens one image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from vidugate.api.deps import FileStoreDep, SignerDep, VideoServiceDep
from vidugate.api.links import INPUT_PATH
from vidugate.api.ranges import stream_file
from vidugate.services.content import locate_input

router = APIRouter(tags=["inputs"], include_in_schema=False)


@router.get(INPUT_PATH, operation_id="download_input_image")
async def download_input_image(
    task_id: str,
    index: int,
    videos: VideoServiceDep,
    signer: SignerDep,
    files: FileStoreDep,
    expires: Annotated[str, Query(max_length=32)] = "",
    signature: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    signer.verify(task_id, f"input{index}", expires, signature)
    task = await videos.get_linked(task_id)
    image = await locate_input(files, task, index)
    return stream_file(
        files,
        image.key,
        size=image.size,
        media_type=image.media_type,
        filename=image.filename,
        range_header=None,
    )
