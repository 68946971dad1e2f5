"""The caps every text of a create has (README, "Field caps"), checked on the fields as
given, on any surface, before anything reads, echoes or keeps them."""

from __future__ import annotations

from collections.abc import Mapping

from vidugate.domain.models import MODELS
from vidugate.domain.subjects import MAX_SUBJECT_ID_CHARS, MAX_SUBJECT_IMAGES, MAX_SUBJECTS, Subject
from vidugate.errors import InvalidRequestError

# Every text a create takes has a cap of its own (README, "Field caps"): the body limit is
# sized for an image as base64 (~74 MB), and a text kept with its task is stored, echoed
# in every answer about it and cached, so without a cap one request could grow them all.
MAX_PAYLOAD_CHARS = 1_048_576  # Vidu's own cap
MAX_META_DATA_BYTES = 65_536  # its JSON text, in UTF-8
MAX_URL_CHARS = 2048
MAX_VOICE_ID_CHARS = 256
MAX_NAME_CHARS = 64  # a name from a short list (model, size, ...): anything longer is no name
MAX_IDEMPOTENCY_KEY_CHARS = 255
TEXT_CAPS = {
    "model": MAX_NAME_CHARS,
    "aspect_ratio": MAX_NAME_CHARS,
    "resolution": MAX_NAME_CHARS,
    "size": MAX_NAME_CHARS,
    "movement_amplitude": MAX_NAME_CHARS,
    "style": MAX_NAME_CHARS,
    "prompt": max(spec.max_prompt_chars for spec in MODELS.values()),
    "voice_id": MAX_VOICE_ID_CHARS,
    "wm_url": MAX_URL_CHARS,
    "callback_url": MAX_URL_CHARS,
    "webhook_url": MAX_URL_CHARS,
    "payload": MAX_PAYLOAD_CHARS,
}
# Fields that take images; an http(s) URL among them is capped like any URL (base64 and
# data URIs are capped by the image's own byte limit, VIDUGATE_MAX_IMAGE_BYTES).
IMAGE_FIELDS = ("images", "input_reference")


def check_caps(values: Mapping[str, object]) -> None:
    """Every text among a create's fields (by name, as given on any surface) within its cap:
    checked before anything reads, echoes or keeps them."""
    for name, value in values.items():
        if name in IMAGE_FIELDS:
            _check_image_texts(name, value)
        elif name == "subjects":
            _check_subject_texts(value)
        elif isinstance(value, str):
            if name == "meta_data":
                _check_meta_data_size(value)
            elif name in TEXT_CAPS and len(value) > TEXT_CAPS[name]:
                raise InvalidRequestError(
                    f"{name} has {len(value)} characters; at most {TEXT_CAPS[name]} are allowed.",
                    param=name,
                )


def check_idempotency_key(value: str | None) -> None:
    if value is not None and len(value) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidRequestError(
            f"Idempotency-Key has {len(value)} characters; at most "
            f"{MAX_IDEMPOTENCY_KEY_CHARS} are allowed.",
            param="Idempotency-Key",
        )


def _check_image_texts(name: str, value: object) -> None:
    if isinstance(value, dict):  # input_reference: {"image_url": ...}
        texts = [(f"{name}.{key}", item) for key, item in value.items()]
    elif isinstance(value, list):
        texts = [(f"{name}[{index}]", item) for index, item in enumerate(value)]
    else:
        texts = [(name, value)]
    for param, text in texts:
        if (
            isinstance(text, str)
            and len(text) > MAX_URL_CHARS
            and text.lstrip()[:8].lower().startswith(("http://", "https://"))
        ):
            raise InvalidRequestError(
                f"{param}: an image URL has at most {MAX_URL_CHARS} characters; this one has "
                f"{len(text)} (large images go as base64, a data URI or a file part).",
                param=param,
            )


def _check_subject_texts(value: object) -> None:
    if not isinstance(value, (list, tuple)):
        return  # not a list: the surface's schema says so
    if len(value) > MAX_SUBJECTS:
        raise InvalidRequestError(
            f"subjects: at most {MAX_SUBJECTS} subjects are allowed; {len(value)} given.",
            param="subjects",
        )
    for index, subject in enumerate(value):
        given = (
            {"id": subject.id, "voice_id": subject.voice_id}
            if isinstance(subject, Subject)
            else subject
        )
        if not isinstance(given, dict):
            continue
        where = f"subjects[{index}]"
        for name, cap in (("id", MAX_SUBJECT_ID_CHARS), ("voice_id", MAX_VOICE_ID_CHARS)):
            text = given.get(name)
            if isinstance(text, str) and len(text) > cap:
                raise InvalidRequestError(
                    f"{where}.{name} has {len(text)} characters; at most {cap} are allowed.",
                    param=f"{where}.{name}",
                )
        images = given.get("images")
        if isinstance(images, list) and len(images) > MAX_SUBJECT_IMAGES:
            raise InvalidRequestError(
                f"{where}.images: a subject has at most {MAX_SUBJECT_IMAGES} images; "
                f"{len(images)} given.",
                param=f"{where}.images",
            )
        _check_image_texts(f"{where}.images", images)


def _check_meta_data_size(text: str) -> None:
    # len() first: a text of more characters than the cap is over it in any encoding.
    size = len(text) if len(text) > MAX_META_DATA_BYTES else len(text.encode())
    if size > MAX_META_DATA_BYTES:
        raise InvalidRequestError(
            f"meta_data must be a JSON object of at most {MAX_META_DATA_BYTES} bytes (64 KiB) "
            f"as UTF-8 text; this one has at least {size}.",
            param="meta_data",
        )
