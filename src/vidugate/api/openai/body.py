"""POST /v1/videos bodies, JSON or multipart, into one NewVideo: the body is capped while it
is read, every field is type-checked, and OpenAI's aliases are folded into the seed's names."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import Message, Receive

from vidugate.api.body import (
    OPENAI_WORDS,
    body_limit,
    json_fields,
    media_type,
    shown_name,
    validated,
    video_fields,
)
from vidugate.api.openai.schemas import CreateVideoBody
from vidugate.domain.models import MODELS, Mode, size_to_shape, supported_sizes
from vidugate.domain.request import check_caps
from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from vidugate.services.images import ImageSource, UploadedImage
from vidugate.services.videos import NewVideo

FILE_FIELDS = ("images", "input_reference")
MAX_FIELDS = 64


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def inner() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLargeError(
                    f"The request body is larger than {limit // (1024 * 1024)} MB."
                )
        return message

    return inner


@contextlib.asynccontextmanager
async def read_new_video(
    request: Request, *, max_image_bytes: int, idempotency_key: str | None
) -> AsyncIterator[NewVideo]:
    limit = body_limit(max_image_bytes)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The request body is larger than {limit // (1024 * 1024)} MB.")
    capped = Request(request.scope, _capped(request.receive, limit))
    content_type = media_type(request)
    if content_type == "application/json":
        fields = await _json_fields(capped)
        with _named_as_sent(fields, {}):
            yield _new_video(fields, {}, idempotency_key)
    elif content_type == "multipart/form-data":
        form = await _read_form(capped, limit)
        try:
            fields, files = _form_fields(form.multi_items())
            with _named_as_sent(fields, files):
                yield _new_video(fields, files, idempotency_key)
        finally:
            await form.close()
    else:
        raise UnsupportedMediaError(
            "Send the body as multipart/form-data or application/json "
            f"(got {content_type or 'no content type'!r}).",
            param="Content-Type",
        )


@contextlib.contextmanager
def _named_as_sent(fields: dict[str, Any], files: dict[str, UploadFile]) -> Iterator[None]:
    """The one place an error's param goes back to the name the client sent: the domain
    checks duration, resolution, aspect_ratio and images, which a client of OpenAI's API
    sends as seconds, size and input_reference."""
    given = fields.keys() | files.keys()
    sent_as: dict[str, str] = {}
    if "seconds" in given and "duration" not in given:
        sent_as["duration"] = "seconds"
    if "size" in given:
        sent_as.update(
            {name: "size" for name in ("resolution", "aspect_ratio") if name not in given}
        )
    if "input_reference" in given and "images" not in given:
        sent_as["images"] = "input_reference"
    try:
        yield
    except InvalidRequestError as exc:
        sent = sent_as.get(exc.param or "")
        if sent is None:
            raise
        value = fields.get(sent)
        # The value as sent, when short, shows how it was read (size 1280x720: 720p, 16:9).
        shown = (
            f"{sent} {value!r}" if isinstance(value, str | int) and len(str(value)) <= 64 else sent
        )
        exc.param = sent
        exc.message = f"{shown}: {exc.message}"
        exc.args = (exc.message,)
        raise


class _WholeMultiPart(MultiPartParser):
    """Starlette's parser, noting whether the body reached its closing boundary: a part
    cut off before it is dropped without a word, so a body cut inside its image would
    otherwise read as a text-only request."""

    ended = False

    def on_end(self) -> None:
        self.ended = True


async def _read_form(request: Request, limit: int) -> FormData:
    parser = _WholeMultiPart(
        request.headers,
        request.stream(),
        max_files=4,
        max_fields=MAX_FIELDS,
        max_part_size=limit,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequestError(f"Malformed multipart body: {exc.message}") from None
    if not parser.ended:
        await form.close()
        # The part cut off is in no form item: its spooled file is closed here, not left
        # to the garbage collector (a ResourceWarning, and a descriptor held till then).
        for file in parser._files_to_close_on_error:
            file.close()
        raise InvalidRequestError(
            "Malformed multipart body: it ends before its closing boundary (--BOUNDARY--), so "
            "its last part is incomplete; send the whole body."
        )
    return form


async def _json_fields(request: Request) -> dict[str, Any]:
    return json_fields(await request.body())


def _form_fields(
    items: list[tuple[str, UploadFile | str]],
) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    fields: dict[str, Any] = {}
    files: dict[str, UploadFile] = {}
    for name, value in items:
        if name in fields or name in files:
            raise InvalidRequestError(
                f"Field {shown_name(name)!r} is given more than once.", param=shown_name(name)
            )
        if isinstance(value, UploadFile):
            if name not in FILE_FIELDS:
                raise InvalidRequestError(
                    f"Field {shown_name(name)!r} cannot be a file; only images or "
                    "input_reference can.",
                    param=shown_name(name),
                )
            files[name] = value
        elif name == "input_reference[image_url]":
            fields["input_reference"] = {"image_url": value}
        elif value != "" or name == "prompt":
            # An empty form field means "not given", as form-posting clients intend.
            fields[name] = value
    return fields, files


def _new_video(
    raw: dict[str, Any], files: dict[str, UploadFile], idempotency_key: str | None
) -> NewVideo:
    check_caps(raw)
    # Depth 1: deeper places in images and input_reference name union members, not fields.
    body = validated(CreateVideoBody, raw, OPENAI_WORDS, depth=1)
    duration = _merge("duration", body.duration, "seconds", body.seconds)
    aspect_ratio, resolution = body.aspect_ratio, body.resolution
    if body.size is not None:
        shape = size_to_shape(body.size.strip().lower())
        if shape is None:
            spec = MODELS.get(body.model)
            sizes = (
                supported_sizes(spec)
                if spec
                else sorted({s for m in MODELS.values() for s in supported_sizes(m)})
            )
            raise InvalidRequestError(
                f"size {body.size!r} is not supported; supported sizes: {', '.join(sizes)}.",
                param="size",
            )
        resolution = _merge("resolution", resolution, "size", shape[0])
        aspect_ratio = _merge("aspect_ratio", aspect_ratio, "size", shape[1])
    images, image_param = _image_sources(body, files)
    return NewVideo(
        fields=video_fields(
            body,
            duration=duration,
            aspect_ratio=aspect_ratio,
            resolution=resolution,
            callback_url=body.webhook_url,
        ),
        mode=Mode.IMAGE if images else Mode.TEXT,
        images=images,
        image_param=image_param,
        idempotency_key=idempotency_key,
        callback_param="webhook_url",
    )


def _merge(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if value is not None and alias_value is not None and value != alias_value:
        raise InvalidRequestError(
            f"{alias} ({alias_value!r}) and {name} ({value!r}) disagree; give one of them.",
            param=alias,
        )
    return value if value is not None else alias_value


def _image_sources(
    body: CreateVideoBody, files: dict[str, UploadFile]
) -> tuple[list[ImageSource], str]:
    given: dict[str, list[ImageSource]] = {}
    if "images" in files:
        given["images"] = [UploadedImage(files["images"].file, files["images"].filename)]
    elif body.images is not None:
        texts = [body.images] if isinstance(body.images, str) else body.images
        given["images"] = list(texts)
    if "input_reference" in files:
        upload = files["input_reference"]
        given["input_reference"] = [UploadedImage(upload.file, upload.filename)]
    elif body.input_reference is not None:
        reference = body.input_reference
        if isinstance(reference, dict):
            if set(reference) != {"image_url"}:
                raise InvalidRequestError(
                    'input_reference takes a file or {"image_url": ...}; other keys are not '
                    "supported.",
                    param="input_reference",
                )
            reference = reference["image_url"]
        given["input_reference"] = [reference]
    if len(given) == 2:
        if given["images"] == given["input_reference"]:
            del given["input_reference"]
        else:
            raise InvalidRequestError(
                "input_reference and images disagree; give one of them.", param="input_reference"
            )
    for param, sources in given.items():
        return sources, param
    return [], "images"
