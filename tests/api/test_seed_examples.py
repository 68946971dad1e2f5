"""The seed page's own curl examples, verbatim but for the base URL and key."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gatewaylib import Gateway, assert_video, wait_final

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def run_curl(args: list[str]) -> dict[str, object]:
    result = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, check=True)
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_text_to_video_example(gateway: Gateway) -> None:
    created = run_curl(
        [
            "-X", "POST", f"{gateway.base_url}/v1/videos",
            "-H", f"Authorization: Bearer {gateway.key}",
            "-F", "model=viduq3-pro",
            "-F", "prompt=A cat chasing butterflies on the grass",
            "-F", "aspect_ratio=16:9",
            "-F", "duration=5",
        ]
    )  # fmt: skip
    assert created["object"] == "video"
    assert created["status"] == "queued"
    assert created["model"] == "viduq3-pro"
    assert created["size"] == "1280x720"
    assert created["seconds"] == "5"
    assert created["quality"] == "standard"
    assert created["progress"] == 0
    assert str(created["id"]).startswith("video_")

    with gateway.client() as client:
        done = wait_final(client, str(created["id"]))
        assert done["status"] == "completed", done
        assert done["progress"] == 100
        video = client.get(f"/v1/videos/{created['id']}/content").content
    # viduq3-pro makes audio and video in one pass by default.
    assert_video(video, width=1280, height=720, seconds=5, audio=True)


def test_image_to_video_example(gateway: Gateway, png_path: Path) -> None:
    created = run_curl(
        [
            "-X", "POST", f"{gateway.base_url}/v1/videos",
            "-H", f"Authorization: Bearer {gateway.key}",
            "-F", "model=viduq3-pro",
            "-F", "prompt=Have the person walk forward and smile",
            "-F", "aspect_ratio=9:16",
            "-F", "duration=5",
            "-F", f"images=@{png_path}",
        ]
    )  # fmt: skip
    assert created["status"] == "queued"
    # img2video takes the frame's shape from the image (320x240 = 4:3) at 720p.
    assert created["size"] == "960x720"
    with gateway.client() as client:
        done = wait_final(client, str(created["id"]))
        assert done["status"] == "completed", done
        video = client.get(f"/v1/videos/{created['id']}/content").content
    assert_video(video, width=960, height=720, seconds=5, audio=True)


def test_silent_video_when_audio_false(gateway: Gateway) -> None:
    created = run_curl(
        [
            "-X", "POST", f"{gateway.base_url}/v1/videos",
            "-H", f"Authorization: Bearer {gateway.key}",
            "-F", "model=viduq2-turbo",
            "-F", "prompt=Waves on a beach",
            "-F", "resolution=540p",
            "-F", "aspect_ratio=1:1",
            "-F", "duration=2",
            "-F", "audio=false",
        ]
    )  # fmt: skip
    with gateway.client() as client:
        done = wait_final(client, str(created["id"]))
        video = client.get(f"/v1/videos/{created['id']}/content").content
    assert done["size"] == "540x540"
    assert_video(video, width=540, height=540, seconds=2, audio=False)
