"""Vidu's JSON bodies in: read with a size cap, type-checked, and turned into the one
NewVideo every surface hands to the video service."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from vidugate.api.limits import read_limited
from vidugate.api.openai.body import body_limit, json_object, media_type, shown_name
from vidugate.api.vidu.schemas import ViduCreateBody
from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, check_caps
from vidugate.domain.subjects import Subject, image_params
from vidugate.domain.tasks import Surface
from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from vidugate.services.videos import NewVideo

Body = TypeVar("Body", bound=BaseModel)

# Vidu's img2video and start-end2video take no aspect_ratio: the image sets the frame.
ASPECT_RATIO_MODES = frozenset({Mode.TEXT, Mode.REFERENCE})


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object (empty: no fields), never reading more than limit bytes."""
    try:
        raw = await read_limited(request, limit)
    except PayloadTooLargeError:
        raise _too_large(limit) from None  # in Vidu's terms: large images go as URLs
    if not raw.strip():
        return {}
    if media_type(request) not in ("application/json", ""):
        # Vidu's API takes JSON only; no Content-Type at all is let through (as a body
        # typed by hand with curl -d ... -H 'Content-Type: application/json' forgotten).
        raise UnsupportedMediaError(
            f"Send the body as application/json (got {media_type(request)!r}).",
            param="Content-Type",
        )
    data = json_object(raw)
    # A null field means "not given", as Vidu's own API reads it.
    return {key: value for key, value in data.items() if value is not None}


def validated(schema: type[Body], fields: dict[str, Any]) -> Body:
    """fields checked against schema; a rejection names the field and what it takes."""
    try:
        return schema.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = shown_name(_field_name(first["loc"])) or None
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(_fields_at(schema, first["loc"]))
            message = f"Unknown field {param!r}. Allowed fields: {allowed}."
        elif first["type"] == "missing":
            message = f"Missing required field {param!r}."
        else:
            field = schema.model_fields.get(str(first["loc"][0])) if first["loc"] else None
            hint = f" Allowed: {field.description}" if field and field.description else ""
            message = f"{param}: {first['msg']}.{hint}"
        raise InvalidRequestError(message, param=param) from None


def _field_name(loc: Sequence[int | str]) -> str:
    """A field's place as the client wrote it: subjects[1].images[0]."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else part
    return name


def _fields_at(schema: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The fields of the object that holds loc's last part (a subject's, for a subject's)."""
    model = schema
    for part in loc[:-1]:
        if isinstance(part, str) and part in model.model_fields:
            inner = _model_in(model.model_fields[part].annotation)
            if inner is None:
                break
            model = inner
    return list(model.model_fields)


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


async def read_new_video(
    request: Request, mode: Mode, *, max_image_bytes: int, idempotency_key: str | None
) -> tuple[NewVideo, list[str]]:
    """The create call, and the images as given (Vidu's answer echoes them: a subject
    form's images too, in subjects' order, as Vidu's own answer lists them)."""
    given = await read_json(request, body_limit(max_image_bytes))
    check_caps(given)
    body = validated(ViduCreateBody, given)
    if body.aspect_ratio is not None and mode not in ASPECT_RATIO_MODES:
        raise InvalidRequestError(
            f"aspect_ratio is not a field of {mode}: the first image sets the frame's shape.",
            param="aspect_ratio",
        )
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
        movement_amplitude=body.movement_amplitude,
        callback_url=body.callback_url,
        style=body.style,
    )
    images = list(body.images or [])
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
        fields = replace(fields, subjects=subjects)
        images = [image for subject in body.subjects for image in subject.images]
        params = image_params(subjects)
    new = NewVideo(
        fields=fields,
        mode=mode,
        images=images,
        image_params=params,
        surface=Surface.VIDU,
        idempotency_key=idempotency_key,
    )
    return new, images


def _too_large(limit: int) -> PayloadTooLargeError:
    if limit < 1024 * 1024:  # a body without images (cancel)
        return PayloadTooLargeError(f"The request body is larger than {limit // 1024} KB.")
    return PayloadTooLargeError(
        f"The request body is larger than {limit // (1024 * 1024)} MB; send large images "
        "as http(s) URLs.",
        param="images",
    )
