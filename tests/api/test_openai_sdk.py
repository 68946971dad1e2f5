"""The official openai SDK, unmodified, against the gateway."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI
from PIL import Image

from gatewaylib import Gateway, assert_video


def secs(n: int) -> Any:
    """The SDK types `seconds` as Sora's "4" | "8" | "12"; at run time it sends any string."""
    return str(n)


@pytest.fixture
def sdk(gateway: Gateway) -> OpenAI:
    return OpenAI(base_url=f"{gateway.base_url}/v1", api_key=gateway.new_key("sdk"), max_retries=0)


def test_create_and_poll_then_download(sdk: OpenAI) -> None:
    video = sdk.videos.create_and_poll(
        model="viduq3-pro",
        prompt="A lighthouse at dusk",
        seconds=secs(2),
        size="1280x720",
        poll_interval_ms=200,
    )
    assert video.status == "completed"
    assert video.progress == 100
    assert video.size == "1280x720"
    assert video.seconds == "2"
    assert video.model == "viduq3-pro"
    extra = video.model_extra or {}
    assert extra["quality"] == "standard"
    assert extra["video_url"].startswith("http")

    content = sdk.videos.download_content(video.id)
    assert_video(content.read(), width=1280, height=720, seconds=2, audio=True)
    thumbnail = sdk.videos.download_content(video.id, variant="thumbnail").read()
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "JPEG"
        assert image.width > 0

    retrieved = sdk.videos.retrieve(video.id)
    assert retrieved.id == video.id
    assert retrieved.status == "completed"

    deleted = sdk.videos.delete(video.id)
    assert deleted.deleted is True
    assert deleted.id == video.id
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)


def test_seed_fields_through_extra_body(sdk: OpenAI) -> None:
    video = sdk.videos.create_and_poll(
        model="viduq2-turbo",
        prompt="Rain on a window",
        seconds=secs(1),
        extra_body={
            "aspect_ratio": "1:1",
            "resolution": "540p",
            "audio": False,
            "seed": 7,
            "watermark": True,
            "wm_position": 1,
        },
        poll_interval_ms=200,
    )
    assert video.status == "completed"
    assert str(video.size) == "540x540"
    assert (video.model_extra or {})["seed"] == 7
    assert_video(
        sdk.videos.download_content(video.id).read(), width=540, height=540, seconds=1, audio=False
    )


def test_input_reference_file(sdk: OpenAI, png_path: Path) -> None:
    with png_path.open("rb") as handle:
        video = sdk.videos.create_and_poll(
            model="viduq2-pro",
            prompt="Make it move",
            seconds=secs(1),
            input_reference=handle,
            extra_body={"resolution": "540p"},
            poll_interval_ms=200,
        )
    assert video.status == "completed"
    assert str(video.size) == "720x540"  # 320x240 image: 4:3 at 540p


def test_list_pages_with_after(sdk: OpenAI) -> None:
    ids = []
    for index in range(5):
        created = sdk.videos.create(
            model="viduq2-turbo",
            prompt=f"clip {index}",
            seconds=secs(1),
            extra_body={"resolution": "540p"},
        )
        ids.append(created.id)
    first = sdk.videos.list(limit=2)
    assert [v.id for v in first.data] == ids[::-1][:2]
    assert first.has_more is True
    every = [video.id for video in sdk.videos.list(limit=2)]  # the SDK pages by itself
    assert every == ids[::-1]
    oldest_first = [video.id for video in sdk.videos.list(limit=3, order="asc")]
    assert oldest_first == ids


def test_errors_arrive_as_sdk_exceptions(sdk: OpenAI, gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.videos.create(model="viduq3-pro", prompt="x", seconds=secs(99))
    assert "duration" in str(bad.value) or "seconds" in str(bad.value)
    wrong = OpenAI(base_url=f"{gateway.base_url}/v1", api_key="vg-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.videos.list()


def test_cancelled_video_ends_the_sdk_poll(sdk: OpenAI) -> None:
    created = sdk.videos.create(
        model="viduq3-pro", prompt="long one", seconds=secs(16), extra_body={"resolution": "1080p"}
    )
    cancelled = sdk.post(f"/videos/{created.id}/cancel", cast_to=openai.types.Video, body=None)
    # The SDK knows no "cancelled": it sees failed with code cancelled, and poll() returns.
    assert cancelled.status == "failed"
    assert cancelled.error is not None
    assert cancelled.error.code == "cancelled"
    polled = sdk.videos.poll(created.id, poll_interval_ms=100)
    assert polled.status == "failed"
