"""Result links of the Vidu emulator: real MP4s and covers, Range, expiry, fixed mode."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from emulatorlib import (
    RunningEmulator,
    create_ok,
    fast_config,
    image_data_uri,
    run_emulator,
    status,
)

from gatewaylib import probe_mp4
from vidugate.clock import ManualClock


@pytest.fixture(scope="module")
def rendering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    cache = tmp_path_factory.mktemp("renders")
    with run_emulator(fast_config(result_mode="render", cache_dir=cache)) as running:
        yield running


def _finished(emu: RunningEmulator, client: httpx.Client, task_id: str) -> dict[str, str]:
    emu.admin("POST", f"/tasks/{task_id}/finish")
    creation: dict[str, str] = status(client, task_id)["creations"][0]
    return creation


@pytest.mark.slow
def test_render_mode_serves_a_real_video_of_the_asked_size(rendering: RunningEmulator) -> None:
    client = rendering.client()
    task = create_ok(
        client, model="viduq2", duration=2, resolution="540p", aspect_ratio="9:16", audio=False
    )
    creation = _finished(rendering, client, task["task_id"])
    with httpx.Client(timeout=60) as plain:  # result links need no key
        video = plain.get(creation["url"])
        assert video.status_code == 200
        assert video.headers["content-type"] == "video/mp4"
        assert int(video.headers["content-length"]) == len(video.content)
        probe = probe_mp4(video.content)
        assert (probe.codec, probe.width, probe.height) == ("h264", 540, 960)
        assert probe.frames == 48
        assert probe.audio_codec is None
        cover = plain.get(creation["cover_url"])
        assert cover.headers["content-type"] == "image/jpeg"
        assert cover.content.startswith(b"\xff\xd8\xff")
        part = plain.get(creation["url"], headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.content == video.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(video.content)}"
        beyond = plain.get(creation["url"], headers={"Range": f"bytes={len(video.content)}-"})
        assert beyond.status_code == 416
        head = plain.head(creation["url"])
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(video.content))
        assert plain.get(creation["url"]).content == video.content
    assert rendering.stats()["renders"] == 1  # cached on disk after the first download


@pytest.mark.slow
def test_image_tasks_take_the_images_shape_and_watermark(rendering: RunningEmulator) -> None:
    client = rendering.client()
    task = create_ok(
        client,
        "img2video",
        model="viduq2-pro",
        images=[image_data_uri(400, 300)],
        duration=1,
        resolution="540p",
        watermark=True,
    )
    creation = _finished(rendering, client, task["task_id"])
    assert creation["watermarked_url"]
    with httpx.Client(timeout=60) as plain:
        clean = plain.get(creation["url"]).content
        marked = plain.get(creation["watermarked_url"]).content
    for data in (clean, marked):
        probe = probe_mp4(data)
        assert (probe.width, probe.height, probe.frames) == (720, 540, 24)
    assert clean != marked


def test_links_expire_after_the_ttl() -> None:
    clock = ManualClock()
    with run_emulator(fast_config(result_ttl=60.0), clock) as emu:
        client = emu.client()
        task_id = create_ok(client)["task_id"]
        url = _finished(emu, client, task_id)["url"]
        expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
        assert expires == clock.now() + 60
        with httpx.Client() as plain:
            clock.advance(59.0)
            assert plain.get(url).status_code == 200
            tampered = url.replace("Signature=", "Signature=0")
            denied = plain.get(tampered)
            assert denied.status_code == 403
            assert b"SignatureDoesNotMatch" in denied.content
            clock.advance(1.0)
            expired = plain.get(url)
        assert expired.status_code == 403
        assert expired.headers["content-type"].startswith("application/xml")
        assert b"<Code>AccessDenied</Code>" in expired.content
        assert b"expired" in expired.content
        assert emu.stats()["result_denied"] == 2


def test_expire_results_revokes_every_link_issued_so_far() -> None:
    with run_emulator(fast_config()) as emu:
        client = emu.client()
        task_id = create_ok(client)["task_id"]
        creation = _finished(emu, client, task_id)
        with httpx.Client() as plain:
            video = plain.get(creation["url"])
            assert video.status_code == 200
            probe = probe_mp4(video.content)  # fixed mode: one tiny video for every task
            assert (probe.codec, probe.width, probe.height, probe.frames) == ("h264", 320, 180, 24)
            emu.admin("POST", "/expire-results")
            assert plain.get(creation["url"]).status_code == 403
            assert plain.get(creation["cover_url"]).status_code == 403
            fresh = status(client, task_id)["creations"][0]
            assert fresh["url"] != creation["url"]
            assert plain.get(fresh["url"]).status_code == 200
        assert emu.stats()["result_downloads"] == 2
