"""Which status words a request gets on /v1/videos, and in what order the choices count: the
request's X-Vidugate-Status-Dialect header, then the key's dialect (`keys create
--status-dialect`), then VIDUGATE_STATUS_DIALECT; with all three auto, the client itself
(X-Stainless-* headers, or a User-Agent of LiteLLM or an official SDK).

A cancelled video tells the two vocabularies apart on every read: `cancelled` in the seed's,
`failed` with error code `cancelled` in OpenAI's (whose pollers stop only on completed or
failed). Seeing `in_progress` from real clients is tests/clients' part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatewaylib import Gateway, cli
from inprocess import InProcessGateway

HEADER = "X-Vidugate-Status-Dialect"
SEED_WORD = "cancelled"
OPENAI_WORD = "failed"


def make_key(gateway: Gateway, dialect: str | None) -> str:
    """A key made as an operator makes one: with the CLI, on the gateway's database."""
    args = ["keys", "create", "--name", f"dialect-{dialect}"]
    if dialect is not None:
        args += ["--status-dialect", dialect]
    made = cli(gateway.env, *args)
    assert made.returncode == 0, made.stderr
    token: str = made.stdout.strip()
    return token


def cancelled_video(client: httpx.Client, **create: Any) -> str:
    body = {"model": "viduq3-pro", "prompt": "long one", "duration": 16, "resolution": "1080p"}
    created = client.post("/v1/videos", json=body, **create)
    assert created.status_code == 200, created.text
    video_id: str = created.json()["id"]
    cancelled = client.post(f"/v1/videos/{video_id}/cancel", headers={HEADER: "seed"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == SEED_WORD
    return video_id


def word(client: httpx.Client, video_id: str, **headers: str) -> str:
    response = client.get(f"/v1/videos/{video_id}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    if body["status"] == OPENAI_WORD:
        assert body["error"]["code"] == "cancelled"
    status: str = body["status"]
    return status


@pytest.fixture(scope="module")
def auto_key(gateway: Gateway) -> str:
    return make_key(gateway, None)  # the default: auto


@pytest.fixture(scope="module")
def auto_video(gateway: Gateway, auto_key: str) -> str:
    with gateway.client(auto_key) as client:
        return cancelled_video(client)


@pytest.fixture(scope="module")
def openai_key(gateway: Gateway) -> str:
    return make_key(gateway, "openai")


@pytest.fixture(scope="module")
def seed_key(gateway: Gateway) -> str:
    return make_key(gateway, "seed")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, SEED_WORD),  # curl, a seed client
        ({"User-Agent": "curl/8.5.0"}, SEED_WORD),
        ({"User-Agent": "litellm/1.110.2"}, OPENAI_WORD),
        ({"User-Agent": "OpenAI/Python 3.57.0"}, OPENAI_WORD),
        ({"User-Agent": "OpenAI/JS 7.59.0"}, OPENAI_WORD),
        ({"User-Agent": "AsyncOpenAI/Python 3.57.0"}, OPENAI_WORD),
        ({"User-Agent": "AzureOpenAI/JS 7.59.0"}, OPENAI_WORD),
        ({"User-Agent": "my-app OpenAI/Python 3.57.0"}, SEED_WORD),  # anchored: not a substring
        ({"X-Stainless-Lang": "python"}, OPENAI_WORD),
        ({"X-Stainless-Poll-Helper": "true"}, OPENAI_WORD),
        ({HEADER: "openai"}, OPENAI_WORD),
        ({HEADER: "OpenAI"}, OPENAI_WORD),
        ({HEADER: "seed", "User-Agent": "litellm/1.110.2"}, SEED_WORD),
        ({HEADER: "seed", "X-Stainless-Lang": "python"}, SEED_WORD),
        ({HEADER: "auto", "User-Agent": "litellm/1.110.2"}, OPENAI_WORD),
        ({HEADER: "auto"}, SEED_WORD),
    ],
)
def test_an_auto_key_follows_the_header_then_the_client(
    gateway: Gateway, auto_key: str, auto_video: str, headers: dict[str, str], expected: str
) -> None:
    with gateway.client(auto_key) as client:
        # httpx sends its own User-Agent unless told otherwise; a seed client's is none of ours.
        assert word(client, auto_video, **{"User-Agent": "curl/8.5.0", **headers}) == expected


def test_a_keys_dialect_comes_before_the_client_and_after_the_header(
    gateway: Gateway, openai_key: str, seed_key: str
) -> None:
    with gateway.client(openai_key) as client:
        video_id = cancelled_video(client)
        assert word(client, video_id) == OPENAI_WORD  # plain httpx: no SDK header at all
        assert word(client, video_id, **{HEADER: "seed"}) == SEED_WORD
        assert word(client, video_id, **{HEADER: "auto"}) == OPENAI_WORD
    with gateway.client(seed_key) as client:
        video_id = cancelled_video(client)
        assert word(client, video_id, **{"User-Agent": "litellm/1.110.2"}) == SEED_WORD
        assert word(client, video_id, **{"X-Stainless-Lang": "python"}) == SEED_WORD
        assert word(client, video_id, **{HEADER: "openai"}) == OPENAI_WORD


def test_every_answer_with_a_video_object_follows_the_choice(
    gateway: Gateway, openai_key: str
) -> None:
    with gateway.client(openai_key) as client:
        # The cancel answer.
        body = {"model": "viduq3-pro", "prompt": "x", "duration": 16, "resolution": "1080p"}
        created = client.post("/v1/videos", json=body, headers={"Idempotency-Key": "dialects-1"})
        video_id = created.json()["id"]
        cancelled = client.post(f"/v1/videos/{video_id}/cancel").json()
        assert (cancelled["status"], cancelled["error"]["code"]) == ("failed", "cancelled")
        # The create answer: a replay answers the (now cancelled) video.
        replay = client.post("/v1/videos", json=body, headers={"Idempotency-Key": "dialects-1"})
        assert replay.json()["id"] == video_id
        assert replay.json()["status"] == OPENAI_WORD
        seed_replay = client.post(
            "/v1/videos", json=body, headers={"Idempotency-Key": "dialects-1", HEADER: "seed"}
        )
        assert seed_replay.json()["status"] == SEED_WORD
        # The list.
        listed = {v["id"]: v["status"] for v in client.get("/v1/videos").json()["data"]}
        assert listed[video_id] == OPENAI_WORD
        seed_list = client.get("/v1/videos", headers={HEADER: "seed"}).json()["data"]
        assert {v["id"]: v["status"] for v in seed_list}[video_id] == SEED_WORD
        # The same task read in both dialects, again and again: one cached body per
        # dialect, neither answered for the other.
        for _ in range(3):
            assert word(client, video_id) == OPENAI_WORD
            assert word(client, video_id, **{HEADER: "seed"}) == SEED_WORD


def test_a_bad_dialect_header_is_a_400_naming_it(
    gateway: Gateway, auto_key: str, auto_video: str
) -> None:
    with gateway.client(auto_key) as client:
        for call in (
            lambda h: client.get(f"/v1/videos/{auto_video}", headers=h),
            lambda h: client.get("/v1/videos", headers=h),
        ):
            response = call({HEADER: "sora"})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["param"] == HEADER
            assert "openai, seed or auto" in error["message"]
            assert "'sora'" in error["message"]


def test_keys_list_shows_each_keys_dialect(tmp_path: Path) -> None:
    env = Gateway(tmp_path / "fresh").env
    for name, dialect in (("plain", None), ("litellm-users", "openai"), ("curl-users", "SEED")):
        args = ["keys", "create", "--name", name]
        args += ["--status-dialect", dialect] if dialect else []
        made = cli(env, *args)
        assert made.returncode == 0, made.stderr
    refused = cli(env, "keys", "create", "--status-dialect", "sora")
    assert refused.returncode == 2
    assert "auto" in refused.stderr
    assert "openai" in refused.stderr
    listed = cli(env, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("plain", "litellm-users", "curl-users"):
        assert name in listed.stdout
    as_json = cli(env, "keys", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = {key["name"]: key["status_dialect"] for key in json.loads(as_json.stdout)}
    assert rows == {"plain": "auto", "litellm-users": "openai", "curl-users": "seed"}


def test_the_setting_is_the_default_of_auto_keys(tmp_path: Path) -> None:
    gateway = InProcessGateway(
        tmp_path / "gw", settings={"VIDUGATE_STATUS_DIALECT": "seed"}
    ).start()
    try:
        openai_key = make_key(gateway, "openai")
        with gateway.client() as client:  # the first key: auto
            video_id = cancelled_video(client)
            # The setting comes before what the client is ...
            assert word(client, video_id, **{"User-Agent": "litellm/1.110.2"}) == SEED_WORD
            assert word(client, video_id, **{"X-Stainless-Lang": "python"}) == SEED_WORD
            # ... and after the request's own header.
            assert word(client, video_id, **{HEADER: "openai"}) == OPENAI_WORD
        with gateway.client(openai_key) as client:
            # And after the key's own dialect.
            assert word(client, cancelled_video(client)) == OPENAI_WORD
    finally:
        gateway.stop()
