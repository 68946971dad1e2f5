"""Reading request bodies, for every surface: capped reads, JSON objects (strictly parsed),
pydantic validation whose rejections name the field as the client wrote it, and a
validated create body into the domain's `VideoFields`.

The surfaces differ only in their words: OpenAI's (and the unified format's) errors say
"parameter" and carry OpenAI's codes, Vidu's say "field" (`OPENAI_WORDS`, `VIDU_WORDS`)."""

from __future__ import annotations

import functools
import json
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from vidugate.domain.request import MAX_NAME_CHARS, VideoFields
from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError

Body = TypeVar("Body", bound=BaseModel)

# VideoFields is the one declaration of a create's fields; a body's fields of the same
# names are read into it by name (video_fields), so no surface types the list out again.
VIDEO_FIELDS = tuple(field.name for field in dataclass_fields(VideoFields))


@dataclass(frozen=True, slots=True)
class FieldWords:
    """How a surface's errors name a body's fields."""

    noun: str
    unknown_code: str | None  # None: the default code (invalid_value)
    missing_code: str | None


OPENAI_WORDS = FieldWords("parameter", "unknown_parameter", "missing_required_parameter")
VIDU_WORDS = FieldWords("field", None, None)


def body_limit(max_image_bytes: int) -> int:
    """Room for one image as base64 text (4/3 of its bytes) plus every other field."""
    return math.ceil(max_image_bytes * 4 / 3) + 8 * 1024 * 1024


def media_type(request: Request) -> str:
    """The Content-Type without its parameters: application/jsonl is not JSON."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def shown_name(name: str) -> str:
    """A field name as an answer may repeat it: a long one (no field's name is) cut short."""
    return name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS] + "..."


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body of a route that needs it as bytes, refused (413) past limit bytes
    before more than that is held."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit // 1024} KB.")


async def read_json(request: Request, limit: int, *, empty_is_no_fields: bool) -> dict[str, Any]:
    """A JSON-only route's body as its object of fields, never reading more than limit
    bytes; a null field means "not given", as Vidu's and the platform's APIs read it.
    No Content-Type at all is let through (a body typed by hand with curl -d, its
    'Content-Type: application/json' forgotten). With empty_is_no_fields, an empty body
    is an object of no fields (Vidu's cancel)."""
    try:
        raw = await read_limited(request, limit)
    except PayloadTooLargeError:
        if limit < 1024 * 1024:  # a body without images (cancel)
            raise
        raise PayloadTooLargeError(
            f"The request body is larger than {limit // (1024 * 1024)} MB; send large images "
            "as http(s) URLs.",
            param="images",
        ) from None
    if empty_is_no_fields and not raw.strip():
        return {}
    sent_as = media_type(request)
    if sent_as not in ("application/json", ""):
        raise UnsupportedMediaError(
            f"Send the body as application/json (got {sent_as!r}).",
            param="Content-Type",
        )
    return json_fields(raw)


def json_fields(raw: bytes) -> dict[str, Any]:
    """A JSON body's fields, those sent as null left out (as if not sent)."""
    return {key: value for key, value in json_object(raw).items() if value is not None}


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON body as its object of fields. Refused besides malformed JSON: NaN and
    Infinity (not JSON), a field given twice (which one wins would be up to the parser;
    multipart refuses it too) and lone UTF-16 surrogates ("\\ud800": no UTF-8 text holds
    them, so they could be neither stored nor answered)."""
    try:
        data = json.loads(raw, object_pairs_hook=_unique_fields, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidRequestError("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("The JSON body must be an object of fields.")
    _check_text(data)
    return data


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:
            # repr() escapes what UTF-8 cannot hold; the name as param must be clean text.
            clean = shown_name(name) if _encodable(name) else None
            raise InvalidRequestError(
                f"Field {shown_name(name)!r} is given more than once.", param=clean
            )
        fields[name] = value
    return fields


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _check_text(data: dict[str, Any]) -> None:
    # A loop, not recursion: the parser allows nesting deeper than a recursive walk could.
    pending: list[tuple[str | None, Any]] = [(None, data)]
    while pending:
        field, value = pending.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                _check_string(name, field)  # the name itself cannot be the param
                pending.append((field or name, item))
        elif isinstance(value, list):
            pending.extend((field, item) for item in value)
        elif isinstance(value, str):
            _check_string(value, field)


def _check_string(text: str, field: str | None) -> None:
    if not _encodable(text):
        raise InvalidRequestError(
            "The body holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape); "
            "send text as valid Unicode.",
            param=field,
        )


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validated(
    schema: type[Body], fields: dict[str, Any], words: FieldWords, *, depth: int | None = None
) -> Body:
    """fields checked against schema; a rejection names the field as the client wrote it
    (subjects[1].images[0]; only its first `depth` parts where deeper places would name
    pydantic's union members rather than the client's) and what it takes."""
    try:
        return schema.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        param = shown_name(_field_name(loc[:depth])) or None
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(_fields_at(schema, loc))
            raise InvalidRequestError(
                f"Unknown {words.noun} {param!r}. Allowed fields: {allowed}.",
                param=param,
                code=words.unknown_code,
            ) from None
        if first["type"] == "missing":
            raise InvalidRequestError(
                f"Missing required {words.noun} {param!r}.",
                param=param,
                code=words.missing_code,
            ) from None
        field = schema.model_fields.get(str(loc[0])) if loc else None
        hint = f" Allowed: {field.description}" if field and field.description else ""
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidRequestError(f"{param}: {reason}.{hint}", param=param) from None


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


@functools.cache
def _field_names(schema: type[BaseModel]) -> frozenset[str]:
    # Once per schema: pydantic's model_fields is a deprecation-checking descriptor that
    # costs a fiftieth of a create when read on every call.
    return frozenset(schema.model_fields)


def video_fields(body: BaseModel, **read_otherwise: Any) -> VideoFields:
    """A validated create body's VideoFields: each field of the same name as given, and
    read_otherwise for those a surface reads its own way (OpenAI's aliases merged in,
    Vidu's subjects)."""
    present = _field_names(type(body))
    given = {
        name: getattr(body, name)
        for name in VIDEO_FIELDS
        if name in present and name not in read_otherwise
    }
    return VideoFields(**given, **read_otherwise)
