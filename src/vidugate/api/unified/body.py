"""POST /v1/video/create bodies into the one NewVideo every surface hands to the video
service: read with a size cap, type-checked, and the kind of video picked from the images."""

from __future__ import annotations

from starlette.requests import Request

from vidugate.api.body import OPENAI_WORDS, body_limit, read_json, validated, video_fields
from vidugate.api.unified.schemas import UnifiedCreateBody
from vidugate.domain.models import MODELS, Mode
from vidugate.domain.request import check_caps
from vidugate.domain.tasks import Surface
from vidugate.services.videos import NewVideo

# The platform's own rule (as its Vidu channel dispatches): the number of images picks the
# Vidu endpoint. More than the reference maximum is refused by the request rules.
_BY_COUNT = {0: Mode.TEXT, 1: Mode.IMAGE, 2: Mode.START_END}


def mode_for(model: str, image_count: int) -> Mode:
    """The kind of video a model makes from this many images."""
    mode = _BY_COUNT.get(image_count, Mode.REFERENCE)
    spec = MODELS.get(model)
    if spec is not None and image_count and mode not in spec.modes and Mode.REFERENCE in spec.modes:
        # viduq2 makes no img2video or start-end video, but takes 1-7 reference images.
        return Mode.REFERENCE
    return mode


async def read_new_video(
    request: Request, *, max_image_bytes: int, idempotency_key: str | None
) -> NewVideo:
    given = await read_json(request, body_limit(max_image_bytes), empty_is_no_fields=False)
    check_caps(given)
    body = validated(UnifiedCreateBody, given, OPENAI_WORDS)
    images = list(body.images or [])
    return NewVideo(
        fields=video_fields(body),
        mode=mode_for(body.model, len(images)),
        images=images,
        surface=Surface.UNIFIED,
        idempotency_key=idempotency_key,
    )
