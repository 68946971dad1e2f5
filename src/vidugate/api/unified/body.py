"""POST /v1/video/create bodies into the one NewVideo every surface hands to the video
service: read with a size cap, type-checked, and the kind of video picked from the images."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from vidugate.api.limits import read_limited
from vidugate.api.openai.body import body_limit, json_object, media_type, shown_name
from vidugate.api.unified.schemas import UnifiedCreateBody
from vidugate.domain.models import MODELS, Mode
from vidugate.domain.request import VideoFields, check_caps
from vidugate.domain.tasks import Surface
from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
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
    limit = body_limit(max_image_bytes)
    try:
        raw = await read_limited(request, limit)
    except PayloadTooLargeError:
        raise PayloadTooLargeError(
            f"The request body is larger than {limit // (1024 * 1024)} MB; send large images "
            "as http(s) URLs.",
            param="images",
        ) from None
    if media_type(request) not in ("application/json", ""):
        raise UnsupportedMediaError(
            f"Send the body as application/json (got {media_type(request)!r}).",
            param="Content-Type",
        )
    # A null field means "not given", as on the other JSON surfaces.
    given = {k: v for k, v in json_object(raw).items() if v is not None}
    check_caps(given)
    body = _validated(given)
    images = list(body.images or [])
    fields = VideoFields(
        model=body.model,
        prompt=body.prompt,
        aspect_ratio=body.aspect_ratio,
        audio=body.audio,
        voice_id=body.voice_id,
        is_rec=body.is_rec,
        bgm=body.bgm,
        duration=body.duration,
        seed=body.seed,
        resolution=body.resolution,
        payload=body.payload,
        off_peak=body.off_peak,
        watermark=body.watermark,
        wm_position=body.wm_position,
        wm_url=body.wm_url,
        meta_data=body.meta_data,
    )
    return NewVideo(
        fields=fields,
        mode=mode_for(body.model, len(images)),
        images=images,
        surface=Surface.UNIFIED,
        idempotency_key=idempotency_key,
    )


def _validated(fields: dict[str, Any]) -> UnifiedCreateBody:
    try:
        return UnifiedCreateBody.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        param = shown_name(loc[0] if len(loc) == 1 else f"{loc[0]}[{loc[1]}]") if loc else None
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(UnifiedCreateBody.model_fields)
            raise InvalidRequestError(
                f"Unknown parameter {param!r}. Allowed fields: {allowed}.",
                param=param,
                code="unknown_parameter",
            ) from None
        if first["type"] == "missing":
            raise InvalidRequestError(
                f"Missing required parameter {param!r}.",
                param=param,
                code="missing_required_parameter",
            ) from None
        field = UnifiedCreateBody.model_fields.get(loc[0]) if loc else None
        hint = f" Allowed: {field.description}" if field and field.description else ""
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidRequestError(f"{param}: {reason}.{hint}", param=param) from None
