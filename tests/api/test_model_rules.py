"""Each model's rules over real HTTP, on Vidu's surface and on /v1/videos: what a model
takes is made with Vidu's defaults, what it does not is a 400 naming the field and listing
what is allowed; /v1/models shows the same rules per endpoint."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import assert_clean_log, image_bytes
from gatewaylib import Gateway
from inprocess import InProcessGateway

V = "/vidu/ent/v2"
PNG = "data:image/png;base64," + base64.b64encode(image_bytes(320, 240)).decode()
FRAMES = {"img2video": [PNG], "start-end2video": [PNG, PNG], "reference2video": [PNG]}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # Renders crawl (and each made task is deleted at once): the rules are what is tested.
    gateway = InProcessGateway(
        tmp_path_factory.mktemp("model-rules"), settings={"VIDUGATE_SANDBOX_PACE": "1000"}
    ).start()
    yield gateway
    gateway.stop()
    assert_clean_log(gateway)


@pytest.fixture(scope="module")
def client(gw: Gateway) -> Iterator[httpx.Client]:
    with gw.client() as client:
        yield client


def vidu_create(client: httpx.Client, endpoint: str, fields: dict[str, Any]) -> httpx.Response:
    body = {"prompt": "x", **fields}
    if endpoint in FRAMES and "subjects" not in body:
        body.setdefault("images", FRAMES[endpoint])
    return client.post(f"{V}/{endpoint}", json=body)


# (endpoint, fields, what the answer echoes): each made with the model's own defaults.
TAKEN: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("img2video", {"model": "vidu2.0"}, {"duration": 4, "resolution": "360p"}),
    ("img2video", {"model": "vidu2.0", "duration": 8}, {"duration": 8, "resolution": "720p"}),
    ("start-end2video", {"model": "vidu2.0", "resolution": "1080p"}, {"duration": 4}),
    ("reference2video", {"model": "vidu2.0", "images": [PNG] * 3, "aspect_ratio": "9:16"},
     {"duration": 4, "resolution": "360p", "aspect_ratio": "9:16"}),
    ("img2video", {"model": "viduq2-pro-fast"}, {"duration": 5, "resolution": "720p"}),
    ("start-end2video", {"model": "viduq2-pro-fast", "duration": 8, "resolution": "1080p"},
     {"duration": 8, "resolution": "1080p"}),
    ("img2video", {"model": "viduq1-classic"}, {"duration": 5, "resolution": "1080p"}),
    ("start-end2video", {"model": "viduq1-classic"}, {"duration": 5, "resolution": "1080p"}),
    ("text2video", {"model": "viduq1", "style": "anime", "aspect_ratio": "1:1"},
     {"duration": 5, "resolution": "1080p", "aspect_ratio": "1:1"}),
    ("reference2video", {"model": "viduq1", "images": [PNG] * 7}, {"resolution": "1080p"}),
    ("text2video", {"model": "viduq2", "prompt": "p" * 5000}, {"duration": 5}),
    ("text2video", {"model": "viduq2", "style": "anime"}, {"model": "viduq2"}),  # no effect
]  # fmt: skip


@pytest.mark.parametrize(("endpoint", "fields", "answer"), TAKEN)
def test_vidu_surface_takes_each_models_own_choices(
    client: httpx.Client, endpoint: str, fields: dict[str, Any], answer: dict[str, Any]
) -> None:
    created = vidu_create(client, endpoint, fields)
    assert created.status_code == 200, created.text
    body = created.json()
    assert client.delete(f"/v1/videos/{body['task_id']}").status_code == 200
    assert {name: body[name] for name in answer} == answer


# (endpoint, fields, the message's start, its end: what is allowed)
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("text2video", {"model": "vidu2.0"}, "Model vidu2.0 does not support text2video",
     "viduq2, viduq1."),
    ("text2video", {"model": "viduq2-pro-fast"}, "Model viduq2-pro-fast", "viduq2, viduq1."),
    ("reference2video", {"model": "viduq1-classic"}, "Model viduq1-classic",
     "viduq2, viduq1, vidu2.0."),
    ("img2video", {"model": "vidu2.0", "duration": 5}, "duration 5", "allowed: 4, 8 seconds."),
    ("img2video", {"model": "vidu2.0", "duration": 8, "resolution": "1080p"},
     "resolution '1080p'", "at 8 s; allowed: 720p."),
    ("reference2video", {"model": "vidu2.0", "duration": 8}, "duration 8",
     "allowed: 4 seconds."),
    ("reference2video", {"model": "vidu2.0", "resolution": "1080p"}, "resolution '1080p'",
     "allowed: 360p, 720p."),
    ("reference2video", {"model": "vidu2.0", "images": [PNG] * 4}, "images:",
     "at most 3 image(s) (reference images); 4 given."),
    ("reference2video", {"model": "vidu2.0", "aspect_ratio": "4:3"}, "aspect_ratio '4:3'",
     "allowed: 16:9, 9:16, 1:1."),
    ("img2video", {"model": "viduq2-pro-fast", "resolution": "540p"}, "resolution '540p'",
     "allowed: 720p, 1080p."),
    ("start-end2video", {"model": "viduq2-pro-fast", "duration": 9}, "duration 9",
     "allowed: 1-8 seconds."),
    ("img2video", {"model": "viduq1-classic", "duration": 8}, "duration 8",
     "allowed: 5 seconds."),
    ("text2video", {"model": "viduq1", "resolution": "720p"}, "resolution '720p'",
     "allowed: 1080p."),
    ("text2video", {"model": "viduq1", "aspect_ratio": "3:4"}, "aspect_ratio '3:4'",
     "allowed: 16:9, 9:16, 1:1."),
    ("text2video", {"model": "viduq1", "style": "cartoon"}, "style 'cartoon'", "effect)."),
    ("img2video", {"model": "viduq1", "style": "anime"}, "style is a field of text2video",
     "not of img2video."),
    ("reference2video", {"model": "viduq1", "prompt": "p" * 2001}, "prompt has 2001",
     "at most 2000 are allowed on reference2video."),
    ("text2video", {"model": "viduq2", "prompt": "p" * 5001}, "prompt has 5001",
     "at most 5000 are allowed."),
]  # fmt: skip


@pytest.mark.parametrize(("endpoint", "fields", "start", "end"), REFUSED)
def test_vidu_surface_refuses_naming_field_and_allowed(
    client: httpx.Client, endpoint: str, fields: dict[str, Any], start: str, end: str
) -> None:
    response = vidu_create(client, endpoint, fields)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["reason"] == "FieldInvalid"
    assert body["message"].startswith(start), body
    assert body["message"].endswith(end), body


def test_v1_videos_takes_every_model_whose_endpoints_cover_the_request(
    client: httpx.Client,
) -> None:
    # An image: every model with img2video; no image: every model with text2video.
    made = [
        ({"model": "vidu2.0", "images": PNG}, "480x360", 4),
        ({"model": "vidu2.0", "input_reference": PNG, "seconds": "8"}, "960x720", 8),
        ({"model": "viduq2-pro-fast", "images": PNG, "size": "1920x1080"}, "1440x1080", 5),
        ({"model": "viduq1-classic", "images": PNG}, "1440x1080", 5),
        ({"model": "viduq1", "size": "1080x1920"}, "1080x1920", 5),
    ]
    for fields, size, seconds in made:
        created = client.post("/v1/videos", json={"prompt": "x", **fields})
        assert created.status_code == 200, created.text
        video = created.json()
        assert client.delete(f"/v1/videos/{video['id']}").status_code == 200
        assert (video["size"], video["seconds"]) == (size, str(seconds)), fields
    refused = [
        ({"model": "vidu2.0"}, "model", "does not support text2video"),
        ({"model": "viduq1-classic"}, "model", "does not support text2video"),
        ({"model": "viduq2-pro-fast"}, "model", "does not support text2video"),
        ({"model": "vidu2.0", "images": PNG, "seconds": "5"}, "seconds", "4, 8 seconds"),
        ({"model": "vidu2.0", "images": PNG, "size": "1920x1080", "seconds": "8"},
         "resolution", "allowed: 720p"),
        ({"model": "viduq1", "size": "1280x720"}, "resolution", "allowed: 1080p"),
        ({"model": "viduq2-pro-fast", "images": PNG, "size": "960x540"}, "resolution", "720p"),
    ]  # fmt: skip
    for fields, param, words in refused:
        response = client.post("/v1/videos", json={"prompt": "x", **fields})
        assert response.status_code == 400, (fields, response.text)
        error = response.json()["error"]
        assert words in error["message"], (fields, error)
        # The field as the client named it (seconds for duration, size for resolution)
        # where the surface says so, the seed's name otherwise.
        assert error["param"] in (param, "duration", "size"), (fields, error)


def test_models_route_shows_each_endpoints_rules(client: httpx.Client) -> None:
    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert {"viduq2-pro-fast", "viduq1", "viduq1-classic", "vidu2.0"} <= set(models)
    vidu2 = models["vidu2.0"]
    assert sorted(vidu2["endpoints"]) == ["img2video", "reference2video", "start-end2video"]
    image = vidu2["endpoints"]["img2video"]
    assert (image["durations"], image["default_duration"]) == ([4, 8], 4)
    assert image["resolutions"] == [
        {"durations": [4], "allowed": ["360p", "720p", "1080p"], "default": "360p"},
        {"durations": [8], "allowed": ["720p"], "default": "720p"},
    ]
    assert (image["frame"], image["aspect_ratios"], image["images"]) == (
        "image",
        [],
        {"min": 1, "max": 1},
    )
    reference = vidu2["endpoints"]["reference2video"]
    assert reference["durations"] == [4]
    assert reference["resolutions"] == [
        {"durations": [4], "allowed": ["360p", "720p"], "default": "360p"}
    ]
    assert (reference["aspect_ratios"], reference["images"]) == (
        ["16:9", "9:16", "1:1"],
        {"min": 1, "max": 3},
    )
    assert "640x360" in vidu2["sizes"]
    assert (vidu2["durations"], vidu2["default_resolution"]) == (
        {"min": 4, "max": 8, "default": 4},
        "360p",
    )
    fast = models["viduq2-pro-fast"]
    assert fast["resolutions"] == ["720p", "1080p"]
    assert fast["endpoints"]["start-end2video"]["durations"] == list(range(1, 9))
    q1 = models["viduq1"]["endpoints"]
    assert q1["text2video"]["max_prompt_chars"] == 5000
    assert q1["reference2video"]["max_prompt_chars"] == 2000
    assert q1["text2video"]["aspect_ratios"] == ["16:9", "9:16", "1:1"]
    assert sorted(models["viduq1-classic"]["endpoints"]) == ["img2video", "start-end2video"]
    assert "style" in models["viduq2"]["ignored_fields"]
    one = client.get("/v1/models/vidu2.0").json()
    assert one["endpoints"] == vidu2["endpoints"]
