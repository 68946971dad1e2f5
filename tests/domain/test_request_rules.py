"""The capability table and request rules, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from vidugate.domain.models import MODELS, Mode, frame_size, frame_size_for_shape, size_to_shape
from vidugate.domain.request import VideoFields, build_request, check_caps
from vidugate.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("resolution", "ratio", "size"),
    [
        ("540p", "16:9", (960, 540)),
        ("720p", "9:16", (720, 1280)),
        ("1080p", "1:1", (1080, 1080)),
        ("720p", "4:3", (960, 720)),
        ("1080p", "3:4", (1080, 1440)),
    ],
)
def test_size_table(resolution: str, ratio: str, size: tuple[int, int]) -> None:
    assert frame_size(resolution, ratio) == size
    assert size_to_shape(f"{size[0]}x{size[1]}") == (resolution, ratio)


def test_image_shape_sets_the_frame_with_even_sides() -> None:
    assert frame_size_for_shape("720p", 1000, 333) == (2162, 720)
    assert frame_size_for_shape("540p", 100, 400) == (540, 2160)


def test_defaults_follow_the_model() -> None:
    q3 = build_request(VideoFields(model="viduq3-pro", prompt="x"), mode=Mode.TEXT, image_count=0)
    assert (q3.duration, q3.resolution, q3.aspect_ratio, q3.audio) == (5, "720p", "16:9", True)
    q2 = build_request(VideoFields(model="viduq2-pro", prompt="x"), mode=Mode.TEXT, image_count=0)
    assert q2.audio is False


def test_off_peak_turns_unstated_audio_off() -> None:
    request = build_request(
        VideoFields(model="viduq3-pro", prompt="x", off_peak=True), mode=Mode.TEXT, image_count=0
    )
    assert request.audio is False
    with pytest.raises(InvalidRequestError) as refused:
        build_request(
            VideoFields(model="viduq3-pro", prompt="x", off_peak=True, audio=True),
            mode=Mode.TEXT,
            image_count=0,
        )
    assert refused.value.param == "off_peak"


def test_bgm_has_no_effect_where_the_table_says() -> None:
    def bgm(model: str, duration: int) -> bool:
        fields = VideoFields(model=model, prompt="x", bgm=True, duration=duration)
        return build_request(fields, mode=Mode.TEXT, image_count=0).bgm

    assert bgm("viduq2-pro", 8) is True
    assert bgm("viduq2-pro", 9) is False
    assert bgm("viduq3-pro", 5) is False


def test_random_seed_is_picked_once_and_kept() -> None:
    request = build_request(
        VideoFields(model="viduq3-pro", prompt="x"), mode=Mode.TEXT, image_count=0
    )
    assert request.seed == 0
    seeded = request.with_seed()
    assert 1 <= seeded.seed <= 2_147_483_647
    assert seeded.with_seed() is seeded


def test_every_model_has_a_mode_and_sane_defaults() -> None:
    for spec in MODELS.values():
        assert spec.modes
        for rules in spec.rules.values():
            assert rules.default_duration in rules.durations
            for duration in rules.durations:
                offered = rules.resolutions_at(duration)
                assert offered.default in offered.allowed
            assert rules.default_aspect_ratio in rules.aspect_ratios
    # Every endpoint has a model, and a seed client's text and image requests have several.
    for mode in Mode:
        assert any(mode in spec.modes for spec in MODELS.values())


@pytest.mark.parametrize(
    ("name", "cap"),
    [("voice_id", 256), ("wm_url", 2048), ("callback_url", 2048), ("payload", 1_048_576)],
)
def test_every_text_has_a_cap(name: str, cap: int) -> None:
    def fields(length: int) -> VideoFields:
        text = "https://x.io/" + "a" * (length - 13) if "url" in name else "a" * length
        changes: dict[str, Any] = {name: text}
        return replace(VideoFields(model="viduq3-pro", prompt="x"), **changes)

    build_request(fields(cap), mode=Mode.TEXT, image_count=0)
    with pytest.raises(InvalidRequestError) as refused:
        build_request(fields(cap + 1), mode=Mode.TEXT, image_count=0)
    assert refused.value.param == name
    assert str(cap) in refused.value.message


def test_meta_data_is_capped_in_utf8_bytes() -> None:
    def fields(text: str) -> VideoFields:
        return VideoFields(model="viduq3-pro", prompt="x", meta_data='{"k":"' + text + '"}')

    build_request(fields("a" * (65_536 - 8)), mode=Mode.TEXT, image_count=0)
    # As many characters, but one of them two bytes long: one byte too many.
    with pytest.raises(InvalidRequestError) as refused:
        build_request(fields("a" * (65_536 - 9) + "é"), mode=Mode.TEXT, image_count=0)
    assert refused.value.param == "meta_data"


def test_image_urls_are_capped_wherever_they_are_given() -> None:
    long_url = "https://x.io/" + "a" * 2048
    for given, param in (
        ({"images": long_url}, "images"),
        ({"images": ["data:image/png;base64,AAAA", long_url]}, "images[1]"),
        ({"input_reference": {"image_url": long_url}}, "input_reference.image_url"),
    ):
        with pytest.raises(InvalidRequestError) as refused:
            check_caps(given)
        assert refused.value.param == param
    check_caps({"images": "A" * 100_000})  # base64 is capped by the image's byte limit


def test_a_requests_size_estimate_follows_its_texts() -> None:
    small = build_request(
        VideoFields(model="viduq3-pro", prompt="x"), mode=Mode.TEXT, image_count=0
    )
    large = build_request(
        VideoFields(model="viduq3-pro", prompt="x", payload="\U0001f600" * 100_000),
        mode=Mode.TEXT,
        image_count=0,
    )
    assert 400_000 <= large.approx_bytes() - small.approx_bytes() <= 400_200
