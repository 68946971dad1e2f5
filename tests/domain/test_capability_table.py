"""Each model's rules per Vidu endpoint (the capability table), and reference2video's
subjects, as pure functions: every refusal names its field and what is allowed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from vidugate.domain.models import MODELS, Mode, frame_size, size_to_shape, supported_sizes
from vidugate.domain.request import VideoFields, VideoRequest, build_request, check_caps
from vidugate.domain.subjects import Subject, by_subject, image_params
from vidugate.errors import InvalidRequestError

COUNTS = {Mode.TEXT: 0, Mode.IMAGE: 1, Mode.START_END: 2, Mode.REFERENCE: 1}


def made(model: str, mode: Mode, images: int | None = None, **given: Any) -> VideoRequest:
    fields = VideoFields(model=model, **{"prompt": "x", **given})
    return build_request(fields, mode=mode, image_count=COUNTS[mode] if images is None else images)


def refused(model: str, mode: Mode, images: int | None = None, **given: Any) -> tuple[str, str]:
    with pytest.raises(InvalidRequestError) as caught:
        made(model, mode, images, **given)
    return caught.value.param or "", caught.value.message


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("16:9", (640, 360)), ("9:16", (360, 640)), ("1:1", (360, 360)), ("4:3", (480, 360)),
     ("3:4", (360, 480))],
)  # fmt: skip
def test_360p_sizes(ratio: str, size: tuple[int, int]) -> None:
    assert frame_size("360p", ratio) == size
    assert size_to_shape(f"{size[0]}x{size[1]}") == ("360p", ratio)


def test_vidu2_durations_and_resolutions_depend_on_each_other() -> None:
    short = made("vidu2.0", Mode.IMAGE)
    assert (short.duration, short.resolution) == (4, "360p")
    assert made("vidu2.0", Mode.IMAGE, duration=8).resolution == "720p"
    assert made("vidu2.0", Mode.START_END, duration=4, resolution="1080p").resolution == "1080p"
    param, message = refused("vidu2.0", Mode.IMAGE, duration=8, resolution="1080p")
    assert param == "resolution"
    assert "at 8 s" in message
    assert message.endswith("allowed: 720p.")
    param, message = refused("vidu2.0", Mode.IMAGE, duration=5)
    assert (param, message.endswith("allowed: 4, 8 seconds.")) == ("duration", True)
    assert refused("vidu2.0", Mode.IMAGE, resolution="540p")[0] == "resolution"


def test_vidu2_reference_videos_are_4_s_at_360p_or_720p_of_1_to_3_images() -> None:
    reference = made("vidu2.0", Mode.REFERENCE, images=3).with_frame((100, 400))
    assert (reference.duration, reference.resolution) == (4, "360p")
    assert (reference.width, reference.height) == (640, 360)  # the aspect ratio's frame
    param, message = refused("vidu2.0", Mode.REFERENCE, duration=8)
    assert (param, message.endswith("allowed: 4 seconds.")) == ("duration", True)
    param, message = refused("vidu2.0", Mode.REFERENCE, resolution="1080p")
    assert (param, message.endswith("allowed: 360p, 720p.")) == ("resolution", True)
    param, message = refused("vidu2.0", Mode.REFERENCE, images=4)
    assert (param, "at most 3" in message) == ("images", True)
    param, message = refused("vidu2.0", Mode.REFERENCE, aspect_ratio="4:3")
    assert (param, message.endswith("allowed: 16:9, 9:16, 1:1.")) == ("aspect_ratio", True)
    assert refused("vidu2.0", Mode.TEXT)[0] == "model"


def test_q1_models_make_5_s_at_1080p() -> None:
    for model, modes in (("viduq1", set(Mode)), ("viduq1-classic", {Mode.IMAGE, Mode.START_END})):
        assert MODELS[model].modes == modes
        for mode in modes:
            request = made(model, mode)
            assert (request.duration, request.resolution) == (5, "1080p")
            assert refused(model, mode, duration=4) == (
                "duration",
                f"duration 4 is not allowed for {model}; allowed: 5 seconds.",
            )
            assert refused(model, mode, resolution="720p")[1].endswith("allowed: 1080p.")
    param, message = refused("viduq1", Mode.TEXT, aspect_ratio="4:3")
    assert (param, message.endswith("allowed: 16:9, 9:16, 1:1.")) == ("aspect_ratio", True)
    param, message = refused("viduq1-classic", Mode.TEXT)
    assert param == "model"
    assert "img2video, start-end2video" in message
    assert message.endswith("viduq2, viduq1.")


def test_q2_pro_fast_has_no_540p_and_no_text() -> None:
    assert made("viduq2-pro-fast", Mode.IMAGE).resolution == "720p"
    param, message = refused("viduq2-pro-fast", Mode.IMAGE, resolution="540p")
    assert (param, message.endswith("allowed: 720p, 1080p.")) == ("resolution", True)
    assert refused("viduq2-pro-fast", Mode.START_END, duration=9)[1].endswith("1-8 seconds.")
    assert made("viduq2-pro-fast", Mode.IMAGE, duration=10).duration == 10
    assert refused("viduq2-pro-fast", Mode.TEXT)[0] == "model"
    assert refused("viduq2-pro-fast", Mode.REFERENCE)[0] == "model"


def test_prompts_are_capped_per_model_and_endpoint() -> None:
    assert made("viduq2", Mode.TEXT, prompt="p" * 5000).prompt
    assert made("viduq1", Mode.TEXT, prompt="p" * 5000).prompt
    assert made("viduq3-pro", Mode.IMAGE, prompt="p" * 5000).prompt
    for model, mode in (("viduq2", Mode.REFERENCE), ("vidu2.0", Mode.IMAGE)):
        assert made(model, mode, prompt="p" * 2000).prompt
        param, message = refused(model, mode, prompt="p" * 2001)
        assert (param, "at most 2000" in message) == ("prompt", True)


def test_style_is_a_text2video_field_of_general_or_anime() -> None:
    assert made("viduq1", Mode.TEXT, style="anime").style == "anime"
    assert made("viduq2", Mode.TEXT, style="general").style == "general"  # taken, no effect
    assert "style" in MODELS["viduq2"].ignored_fields
    assert "style" not in MODELS["viduq1"].ignored_fields
    param, message = refused("viduq1", Mode.IMAGE, style="anime")
    assert (param, "text2video only" in message) == ("style", True)
    param, message = refused("viduq1", Mode.TEXT, style="cartoon")
    assert (param, "general, anime" in message) == ("style", True)


def test_sizes_and_image_counts_come_from_the_endpoint_rules() -> None:
    assert "640x360" in supported_sizes(MODELS["vidu2.0"])
    assert "960x540" not in supported_sizes(MODELS["viduq2-pro-fast"])
    assert MODELS["vidu2.0"].image_range(Mode.REFERENCE) == (1, 3)
    assert MODELS["viduq1"].image_range(Mode.REFERENCE) == (1, 7)


def subjects(*counts: int, voice: str | None = None) -> tuple[Subject, ...]:
    return tuple(Subject(f"s{n}", count, voice) for n, count in enumerate(counts, 1))


def test_subjects_are_taken_and_survive_storage_as_json() -> None:
    given = (Subject("cat", 2, "v-1"), Subject("dog", 1, ""))
    request = made("viduq2", Mode.REFERENCE, images=3, subjects=given)
    assert request.subjects == (Subject("cat", 2, "v-1"), Subject("dog", 1, None))
    assert request.image_count == 3
    stored = json.loads(json.dumps(dataclasses.asdict(request)))
    stored["mode"] = Mode(stored["mode"])
    assert VideoRequest(**stored).subjects == request.subjects
    assert VideoRequest(**{**stored, "subjects": []}).subjects == ()
    assert image_params(given) == ("subjects[0].images[0]", "subjects[0].images[1]",
                                   "subjects[1].images[0]")  # fmt: skip
    assert by_subject(given, ["a", "b", "c"]) == [(given[0], ["a", "b"]), (given[1], ["c"])]


@pytest.mark.parametrize(
    ("model", "given", "param", "words"),
    [
        ("viduq2", (), "subjects", "1-7 subjects"),
        ("viduq2", subjects(1, 1, 1, 1, 1, 1, 1, 1), "subjects", "at most 7 subjects"),
        ("viduq2", subjects(3, 3, 2), "subjects", "at most 7 images"),
        ("vidu2.0", subjects(2, 2), "subjects", "vidu2.0 takes at most 3"),
        ("viduq2", subjects(1, 0), "subjects[1].images", "1-3 images"),
        ("viduq2", subjects(1, 4), "subjects[1].images", "1-3 images"),
        ("viduq2", (Subject("a", 1), Subject("a", 1)), "subjects[1].id", "earlier subject"),
        ("viduq2", (Subject("a b", 1),), "subjects[0].id", "without spaces"),
        ("viduq2", (Subject("", 1),), "subjects[0].id", "non-empty"),
        ("viduq2", (Subject("x" * 65, 1),), "subjects[0].id", "at most 64"),
        ("viduq2", (Subject("a", 1, "v" * 257),), "subjects[0].voice_id", "at most 256"),
    ],
)
def test_subject_limits_name_the_field(
    model: str, given: tuple[Subject, ...], param: str, words: str
) -> None:
    images = sum(subject.image_count for subject in given)
    with pytest.raises(InvalidRequestError) as caught:
        made(model, Mode.REFERENCE, images=images, subjects=given)
    assert caught.value.param == param
    assert words in caught.value.message


def test_subjects_are_a_reference2video_field_only() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        made("viduq2", Mode.TEXT, images=1, subjects=subjects(1))
    assert caught.value.param == "subjects"


def test_subject_texts_are_capped_as_given() -> None:
    long_url = "https://x.io/" + "a" * 2048
    cases: list[tuple[Any, str]] = [
        ([{"id": "a", "images": ["data:", long_url]}], "subjects[0].images[1]"),
        ([{"id": "a", "images": ["u"] * 4}], "subjects[0].images"),
        ([{"id": "a", "images": ["u"]}] * 8, "subjects"),
        ([{"id": "a", "images": ["u"]}, {"id": "i" * 65}], "subjects[1].id"),
    ]
    for given, param in cases:
        with pytest.raises(InvalidRequestError) as caught:
            check_caps({"subjects": given})
        assert caught.value.param == param
    check_caps({"subjects": "not a list"})  # left to the surface's schema
