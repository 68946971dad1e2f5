"""The emulator takes and refuses the newer models as Vidu's own pages describe them, per
endpoint, and reference2video's subject form; over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulatorlib import (
    assert_vidu_error,
    create,
    create_ok,
    fast_config,
    image_data_uri,
    run_emulator,
)

URL = "https://images.example.com/cat.png"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with run_emulator(fast_config()) as running:
        yield running.client()


def subject(subject_id: str, count: int, **more: Any) -> dict[str, Any]:
    return {"id": subject_id, "images": [f"{URL}?{subject_id}{n}" for n in range(count)], **more}


TAKEN: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (endpoint, body, what the create answer says)
    ("img2video", {"model": "vidu2.0", "images": [URL]}, {"duration": 4, "resolution": "360p"}),
    (
        "img2video",
        {"model": "vidu2.0", "images": [URL], "duration": 8},
        {"duration": 8, "resolution": "720p"},
    ),
    (
        "start-end2video",
        {"model": "vidu2.0", "images": [URL, URL], "resolution": "1080p"},
        {"duration": 4, "resolution": "1080p"},
    ),
    (
        "reference2video",
        {"model": "vidu2.0", "images": [URL] * 3, "resolution": "720p"},
        {"duration": 4, "resolution": "720p", "aspect_ratio": "16:9"},
    ),
    (
        "img2video",
        {"model": "viduq2-pro-fast", "images": [URL], "duration": 10},
        {"duration": 10, "resolution": "720p"},
    ),
    (
        "start-end2video",
        {"model": "viduq2-pro-fast", "images": [URL, URL], "duration": 8},
        {"duration": 8},
    ),
    (
        "img2video",
        {"model": "viduq1-classic", "images": [URL]},
        {"duration": 5, "resolution": "1080p"},
    ),
    ("start-end2video", {"model": "viduq1-classic", "images": [URL, URL]}, {"resolution": "1080p"}),
    ("text2video", {"model": "viduq1", "style": "anime"}, {"style": "anime"}),
    ("text2video", {"model": "viduq2", "prompt": "p" * 5000}, {"model": "viduq2"}),
    (
        "reference2video",
        {"model": "viduq2", "subjects": [subject("cat", 3), subject("dog", 3), subject("3", 1)]},
        {
            "images": [f"{URL}?cat{n}" for n in range(3)]
            + [f"{URL}?dog{n}" for n in range(3)]
            + [f"{URL}?30"]
        },
    ),  # fmt: skip
    (
        "reference2video",
        {"model": "vidu2.0", "subjects": [subject("a", 2, voice_id="v"), subject("b", 1)]},
        {"duration": 4, "resolution": "360p"},
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "answer"), TAKEN)
def test_taken(
    client: httpx.Client, endpoint: str, body: dict[str, Any], answer: dict[str, Any]
) -> None:
    created = create_ok(client, endpoint, **{"prompt": "x", **body})
    assert {name: created[name] for name in answer} == answer


V2, FAST, Q2 = {"model": "vidu2.0"}, {"model": "viduq2-pro-fast"}, {"model": "viduq2"}
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("text2video", V2, "model"),
    ("text2video", FAST, "model"),
    ("text2video", {"model": "viduq1-classic"}, "model"),
    ("reference2video", {**FAST, "images": [URL]}, "model"),
    ("reference2video", {"model": "viduq1-classic", "images": [URL]}, "model"),
    ("img2video", {**V2, "images": [URL], "duration": 5}, "duration"),
    ("img2video", {**V2, "images": [URL], "duration": 8, "resolution": "1080p"}, "resolution"),
    ("reference2video", {**V2, "images": [URL], "duration": 8}, "duration"),
    ("reference2video", {**V2, "images": [URL], "resolution": "1080p"}, "resolution"),
    ("reference2video", {**V2, "images": [URL] * 4}, "images"),
    ("reference2video", {**V2, "images": [URL], "aspect_ratio": "4:3"}, "aspect_ratio"),
    ("img2video", {**FAST, "images": [URL], "resolution": "540p"}, "resolution"),
    ("start-end2video", {**FAST, "images": [URL, URL], "duration": 9}, "duration"),
    ("img2video", {"model": "viduq1-classic", "images": [URL], "duration": 4}, "duration"),
    ("text2video", {"model": "viduq1", "aspect_ratio": "4:3"}, "aspect_ratio"),
    ("text2video", {"model": "viduq1", "style": "cartoon"}, "style"),
    ("text2video", {**Q2, "prompt": "p" * 5001}, "prompt"),
    ("reference2video", {**Q2, "prompt": "p" * 2001, "images": [URL]}, "prompt"),
    ("reference2video", {**Q2, "subjects": []}, "subjects"),
    ("reference2video", {**Q2, "subjects": [subject("a", 1)] * 8}, "subjects"),
    ("reference2video", {**Q2, "subjects": [subject("a", 3)] * 3}, "subjects"),
    ("reference2video", {**V2, "subjects": [subject("a", 2)] * 2}, "subjects"),
    ("reference2video", {**Q2, "subjects": [subject("a", 4)]}, "subjects[0].images"),
    ("reference2video", {**Q2, "subjects": [subject("", 1)]}, "subjects[0].id"),
    ("reference2video", {**Q2, "subjects": [subject("a", 1)], "images": [URL]}, "subjects"),
    (
        "reference2video",
        {**Q2, "subjects": [{"id": "a", "images": ["ftp://x/a.png"]}]},
        "subjects[0].images[0]",
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "field"), REFUSED)
def test_refused_naming_the_field(
    client: httpx.Client, endpoint: str, body: dict[str, Any], field: str
) -> None:
    response = create(client, endpoint, **{"prompt": "x", **body})
    assert_vidu_error(response, 400, "FieldInvalid", f"{field}:")


def test_subject_images_are_read_like_other_images(client: httpx.Client) -> None:
    png = image_data_uri(64, 64)
    created = create_ok(
        client,
        "reference2video",
        model="viduq1",
        prompt="@a",
        subjects=[{"id": "a", "images": [png]}, {"id": "b", "images": [URL, png]}],
    )
    assert created["images"] == [png, URL, png]
    broken = create(
        client, "reference2video", model="viduq1", prompt="@a",
        subjects=[{"id": "a", "images": [png]}, {"id": "b", "images": ["data:image/png;base64,!"]}],
    )  # fmt: skip
    assert_vidu_error(broken, 400, "FieldInvalid", "subjects[1].images[0]:")


def test_the_admin_view_shows_what_was_asked() -> None:
    with run_emulator(fast_config()) as running:
        create_ok(
            running.client(), "reference2video", model="viduq2", prompt="@a",
            subjects=[subject("a", 2, voice_id="v1")],
        )  # fmt: skip
        [task] = running.admin("GET", "/tasks")["tasks"]
    assert task["subjects"] == [{"id": "a", "images": 2, "voice_id": "v1"}]
    assert (task["images"], task["duration"], task["resolution"]) == (2, 5, "720p")
