"""Every text a create takes has a documented cap (README, "Field caps"), the same on both
surfaces and in both body encodings: at its cap a field is taken, one past it is a 400
that names the field and the cap. The body limit (~74 MB, sized for an image as base64)
is no cap for the rest: a 60 MB meta_data was once taken and kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gatewaylib import Gateway

OPENAI = {"model": "viduq2-turbo", "prompt": "a red kite", "duration": 1, "resolution": "540p"}
VIDU = {"model": "viduq2", "prompt": "a red kite", "duration": 1, "resolution": "540p"}
URL = "https://example.com/"


def meta_data(size: int) -> str:
    """A JSON object of exactly size bytes as UTF-8, one character fewer: the cap counts
    bytes."""
    return '{"k":"' + "x" * (size - 10) + 'é"}'


# field -> (its cap, a value of n characters), for the fields both surfaces take.
CAPPED: dict[str, tuple[int, Any]] = {
    "prompt": (5000, lambda n: "p" * n),
    "voice_id": (256, lambda n: "v" * n),
    "wm_url": (2048, lambda n: URL + "w" * (n - len(URL))),
    "payload": (1_048_576, lambda n: "a" * n),
    "meta_data": (65_536, meta_data),
}


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client(gateway.new_key("caps")) as client:
        yield client


def at_caps() -> dict[str, Any]:
    return {name: value(cap) for name, (cap, value) in CAPPED.items()}


def test_fields_at_their_caps_are_taken_on_both_surfaces(client: httpx.Client) -> None:
    made = []
    created = client.post("/v1/videos", json={**OPENAI, **at_caps()})
    assert created.status_code == 200, created.text[:300]
    assert created.json()["meta_data"] == meta_data(65_536)
    made.append(created.json()["id"])
    callback = URL + "c" * (2048 - len(URL))
    created = client.post(
        "/vidu/ent/v2/text2video", json={**VIDU, **at_caps(), "callback_url": callback}
    )
    assert created.status_code == 200, created.text[:300]
    assert created.json()["voice_id"] == "v" * 256
    made.append(created.json()["task_id"])
    for video_id in made:
        assert client.delete(f"/v1/videos/{video_id}").status_code == 200


def refusal(response: httpx.Response, *, vidu: bool) -> tuple[str | None, str]:
    """(param, message) of a 400 in the envelope of the surface (Vidu's has no param)."""
    assert response.status_code == 400, response.text[:300]
    # The answer does not echo the value back: it stays small whatever was sent.
    assert len(response.content) < 2000, response.text[:300]
    body = response.json()
    if vidu:
        assert body["reason"] == "FieldInvalid"
        return None, body["message"]
    return body["error"]["param"], body["error"]["message"]


@pytest.mark.parametrize("name", sorted(CAPPED))
def test_one_past_the_cap_is_refused_naming_field_and_cap(client: httpx.Client, name: str) -> None:
    cap, value = CAPPED[name]
    over = value(cap + 1)
    param, message = refusal(client.post("/v1/videos", json={**OPENAI, name: over}), vidu=False)
    assert param == name
    assert str(cap) in message
    form = [(k, (None, str(v))) for k, v in {**OPENAI, name: over}.items()]
    param, message = refusal(client.post("/v1/videos", files=form), vidu=False)
    assert param == name
    assert str(cap) in message
    _, message = refusal(
        client.post("/vidu/ent/v2/text2video", json={**VIDU, name: over}), vidu=True
    )
    assert name in message
    assert str(cap) in message


def test_callback_url_is_capped(client: httpx.Client) -> None:
    over = URL + "c" * (2049 - len(URL))
    _, message = refusal(
        client.post("/vidu/ent/v2/text2video", json={**VIDU, "callback_url": over}), vidu=True
    )
    assert "callback_url" in message
    assert "2048" in message


def test_image_urls_are_capped(client: httpx.Client) -> None:
    long_url = URL + "i" * 2100
    for body, expected in (
        ({**OPENAI, "images": long_url}, "images"),
        ({**OPENAI, "input_reference": {"image_url": long_url}}, "input_reference.image_url"),
    ):
        param, message = refusal(client.post("/v1/videos", json=body), vidu=False)
        assert param == expected
        assert "2048" in message
    vidu = {**VIDU, "model": "viduq2-pro", "images": [long_url]}
    _, message = refusal(client.post("/vidu/ent/v2/img2video", json=vidu), vidu=True)
    assert "images[0]" in message
    assert "2048" in message


def test_names_are_capped_and_never_echoed_whole(client: httpx.Client) -> None:
    for name in ("model", "aspect_ratio", "resolution", "size"):
        param, message = refusal(
            client.post("/v1/videos", json={**OPENAI, name: "n" * 100_000}), vidu=False
        )
        assert param == name
        assert "64" in message
    unknown = "z" * 100_000
    param, message = refusal(client.post("/v1/videos", json={**OPENAI, unknown: 1}), vidu=False)
    assert param is not None
    assert param.startswith("zzz")
    refusal(client.post("/vidu/ent/v2/text2video", json={**VIDU, unknown: 1}), vidu=True)
    repeated = '{"model": "viduq2", "' + unknown + '": 1, "' + unknown + '": 2}'
    refusal(
        client.post("/v1/videos", content=repeated, headers={"Content-Type": "application/json"}),
        vidu=False,
    )


@pytest.mark.parametrize("path", ["/v1/videos", "/vidu/ent/v2/text2video"])
def test_a_60_mb_meta_data_is_refused(client: httpx.Client, path: str) -> None:
    body = {**(VIDU if path.startswith("/vidu/") else OPENAI)}
    raw = json.dumps(body)[:-1] + ', "meta_data": "' + "{}" + " " * 60_000_000 + '"}'
    response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    param, message = refusal(response, vidu=path.startswith("/vidu/"))
    assert param in ("meta_data", None)
    assert "meta_data" in message
    assert "65536" in message


@pytest.mark.parametrize("path", ["/v1/videos", "/vidu/ent/v2/text2video"])
def test_idempotency_key_is_capped(client: httpx.Client, path: str) -> None:
    body = VIDU if path.startswith("/vidu/") else OPENAI
    response = client.post(path, json=body, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.text
    assert "255" in response.text
