"""VideoFields is the one declaration of a create's fields: each surface's body schema
takes exactly those fields (less the ones the surface does not offer, plus its own,
read otherwise), and a validated body's fields land in VideoFields by name."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import BaseModel

from vidugate.api.body import VIDEO_FIELDS, video_fields
from vidugate.api.openai.schemas import CreateVideoBody
from vidugate.api.unified.schemas import UnifiedCreateBody
from vidugate.api.vidu.schemas import ViduCreateBody
from vidugate.domain.request import VideoFields

# Only Vidu's own format has these.
VIDU_ONLY = {"movement_amplitude", "callback_url", "style", "subjects"}
# schema -> (VideoFields it does not offer, its own fields read otherwise than by name)
SURFACES: dict[type[BaseModel], tuple[set[str], set[str]]] = {
    CreateVideoBody: (VIDU_ONLY, {"images", "seconds", "size", "input_reference", "webhook_url"}),
    UnifiedCreateBody: (VIDU_ONLY, {"images"}),
    ViduCreateBody: (set(), {"images"}),
}
# A value of each VideoFields field's type that no default equals.
SAMPLE = {
    "model": "viduq2",
    "prompt": "a kite",
    "aspect_ratio": "1:1",
    "audio": True,
    "voice_id": "v1",
    "is_rec": True,
    "bgm": True,
    "duration": 4,
    "seed": 7,
    "resolution": "720p",
    "payload": "p",
    "off_peak": True,
    "watermark": True,
    "wm_position": 2,
    "wm_url": "https://example.com/mark.png",
    "meta_data": "{}",
    "movement_amplitude": "small",
    "callback_url": "https://example.com/cb",
    "style": "anime",
}


@pytest.mark.parametrize("schema", list(SURFACES), ids=lambda schema: schema.__name__)
def test_each_create_schema_takes_the_video_fields(schema: type[BaseModel]) -> None:
    not_offered, own = SURFACES[schema]
    assert set(schema.model_fields) == (set(VIDEO_FIELDS) - not_offered) | own


def test_the_sample_covers_every_field_but_subjects() -> None:
    assert set(SAMPLE) == {field.name for field in fields(VideoFields)} - {"subjects"}


@pytest.mark.parametrize("schema", list(SURFACES), ids=lambda schema: schema.__name__)
def test_a_validated_body_lands_in_video_fields_by_name(schema: type[BaseModel]) -> None:
    not_offered, _ = SURFACES[schema]
    given = {name: value for name, value in SAMPLE.items() if name not in not_offered}
    landed = video_fields(schema.model_validate(given))
    for name in VIDEO_FIELDS:
        assert getattr(landed, name) == given.get(name), name


def test_fields_read_otherwise_win_over_the_bodys() -> None:
    body = CreateVideoBody.model_validate({"model": "viduq2", "duration": 4, "seconds": 8})
    assert video_fields(body, duration=8).duration == 8
