"""Vidu's JSON bodies in: read with a size cap, type-checked, and turned into the one
NewVideo every surface hands to the video service."""

from __future__ import annotations

from starlette.requests import Request

from vidugate.api.body import VIDU_WORDS, body_limit, read_json, validated, video_fields
from vidugate.api.vidu.schemas import ViduCreateBody
from vidugate.domain.models import Mode
from vidugate.domain.request import check_caps
from vidugate.domain.subjects import Subject, image_params
from vidugate.domain.tasks import Surface
from vidugate.errors import InvalidRequestError
from vidugate.services.videos import NewVideo

# Vidu's img2video and start-end2video take no aspect_ratio: the image sets the frame.
ASPECT_RATIO_MODES = frozenset({Mode.TEXT, Mode.REFERENCE})


async def read_new_video(
    request: Request, mode: Mode, *, max_image_bytes: int, idempotency_key: str | None
) -> tuple[NewVideo, list[str]]:
    """The create call, and the images as given (Vidu's answer echoes them: a subject
    form's images too, in subjects' order, as Vidu's own answer lists them)."""
    given = await read_json(request, body_limit(max_image_bytes), empty_is_no_fields=True)
    check_caps(given)
    body = validated(ViduCreateBody, given, VIDU_WORDS)
    if body.aspect_ratio is not None and mode not in ASPECT_RATIO_MODES:
        raise InvalidRequestError(
            f"aspect_ratio is not a field of {mode}: the first image sets the frame's shape.",
            param="aspect_ratio",
        )
    images = list(body.images or [])
    subjects = None
    params: tuple[str, ...] = ()
    if body.subjects is not None:
        if body.images is not None:
            raise InvalidRequestError(
                "subjects and images are two forms of reference2video; give one of them.",
                param="subjects",
            )
        subjects = tuple(
            Subject(subject.id, len(subject.images), subject.voice_id) for subject in body.subjects
        )
        images = [image for subject in body.subjects for image in subject.images]
        params = image_params(subjects)
    new = NewVideo(
        fields=video_fields(body, subjects=subjects),
        mode=mode,
        images=images,
        image_params=params,
        surface=Surface.VIDU,
        idempotency_key=idempotency_key,
    )
    return new, images
