"""OpenAI-style clients that are not the official SDK as it ships, polling a real gateway to
`completed`: LiteLLM (no X-Stainless-* header ever), the official SDK behind a proxy that
strips X-Stainless-*, and plain httpx with a key made for the OpenAI dialect. Each meets its
videos while they are being made (clientslib's paced gateway) and must see `in_progress`
there: `processing` ends the SDK's poll at once, with an unfinished video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from clientslib import paced_gateway
from openai import DefaultHttpx2Client, OpenAI

from gatewaylib import Gateway, assert_video, cli, wait_final
from waiting import wait_until

HERE = Path(__file__).parent
OPENAI_WHILE_MAKING = {"queued", "in_progress"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with paced_gateway(tmp_path_factory.mktemp("clients")) as gw:
        yield gw


def cancelled_video(gateway: Gateway, key: str) -> str:
    with gateway.client(key) as client:
        body = {"model": "viduq3-pro", "prompt": "long", "duration": 16, "resolution": "1080p"}
        video_id: str = client.post("/v1/videos", json=body).json()["id"]
        assert client.post(f"/v1/videos/{video_id}/cancel").status_code == 200
    return video_id


def test_litellm_polls_to_completed(gateway: Gateway, png_path: Path, tmp_path: Path) -> None:
    key = gateway.new_key("litellm")  # auto: LiteLLM is known by its User-Agent
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # before the import: no fetch of the cost map
        "LITELLM_API_BASE": f"{gateway.base_url}/v1",
        "LITELLM_API_KEY": key,
        "IMAGE": str(png_path),
        "OUT": str(tmp_path),
        "CANCELLED_ID": cancelled_video(gateway, key),
    }
    run = subprocess.run(
        [sys.executable, str(HERE / "litellm_client.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])

    for name in ("text", "image"):
        video = result[name]
        assert video["created"] == "queued"
        assert video["status"] == "completed", video
        assert "in_progress" in video["seen"], video
        assert set(video["seen"]) <= OPENAI_WHILE_MAKING | {"completed"}, video
    text, image = result["text"], result["image"]
    assert (text["size"], text["seconds"]) == ("960x540", "1")
    assert_video(Path(text["file"]).read_bytes(), width=960, height=540, seconds=1, audio=False)
    # input_reference as LiteLLM sends it: a file part named after the file's full path.
    assert image["size"] == "720x540"  # the 320x240 image's 4:3 at 540p
    assert_video(Path(image["file"]).read_bytes(), width=720, height=540, seconds=1, audio=False)
    # A cancelled video is failed (code cancelled) to it, so its loop ends.
    cancelled = result["cancelled"]
    assert cancelled["seen"] == ["failed"], cancelled
    assert cancelled["error"]["code"] == "cancelled"


class StrippingProxy(httpx2.BaseTransport):
    """What some proxies do: forward each request without its X-Stainless-* headers (the
    User-Agent stays). A transport of the SDK's own HTTP client (HTTPX2, as the SDK's README
    configures one), so it acts on the wire: the SDK reads an X-Stainless-* header of its
    own back from its request object, which an event hook that deleted them would change."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.sent: list[httpx2.Headers] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        headers = httpx2.Headers(
            [(k, v) for k, v in request.headers.raw if not k.lower().startswith(b"x-stainless-")]
        )
        self.sent.append(headers)
        forwarded = httpx2.Request(
            request.method,
            request.url,
            headers=headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self.inner.handle_request(forwarded)

    def close(self) -> None:
        self.inner.close()


def test_sdk_without_stainless_headers_polls_to_completed(gateway: Gateway) -> None:
    proxy = StrippingProxy()
    polled: list[str] = []

    def record_status(response: httpx2.Response) -> None:
        if response.request.url.path.count("/") == 3 and response.status_code == 200:
            response.read()  # GET /v1/videos/{id}
            polled.append(response.json()["status"])

    http_client = DefaultHttpx2Client(transport=proxy, event_hooks={"response": [record_status]})
    sdk = OpenAI(
        base_url=f"{gateway.base_url}/v1",
        api_key=gateway.new_key("proxied-sdk"),
        http_client=http_client,
        max_retries=0,
    )
    with http_client:
        # The SDK types seconds and size as Sora's values; it sends any string.
        seconds: Any = "1"
        size: Any = "960x540"
        video = sdk.videos.create_and_poll(
            model="viduq2-turbo", prompt="A lighthouse at dusk", seconds=seconds, size=size
        )
        assert video.status == "completed", video
        assert video.progress == 100
        content = sdk.videos.download_content(video.id).read()
    assert_video(content, width=960, height=540, seconds=1, audio=False)
    assert "in_progress" in polled, polled
    assert set(polled) <= OPENAI_WHILE_MAKING | {"completed"}, polled
    assert len(proxy.sent) >= 3  # create, polls, download
    for headers in proxy.sent:
        assert not [n for n in headers if n.lower().startswith("x-stainless")], headers
        assert headers["user-agent"].startswith("OpenAI/Python ")


def first_word_while_made(client: httpx.Client, video_id: str) -> str:
    word: str = wait_until(
        lambda: (s := client.get(f"/v1/videos/{video_id}").json()["status"]) != "queued" and s,
        what=f"{video_id} to leave the queue",
    )
    return word


def test_a_key_for_openai_words_and_a_seed_client(gateway: Gateway) -> None:
    made = cli(gateway.env, "keys", "create", "--name", "poller", "--status-dialect", "openai")
    assert made.returncode == 0, made.stderr
    body = {"model": "viduq2-turbo", "prompt": "rain", "duration": 1, "resolution": "540p"}
    # Plain httpx: no SDK header, no known User-Agent; the key alone chooses the words.
    with gateway.client(made.stdout.strip()) as openai_client:
        video_id = openai_client.post("/v1/videos", json=body).json()["id"]
        assert first_word_while_made(openai_client, video_id) == "in_progress"
        assert wait_final(openai_client, video_id)["status"] == "completed"
    # A seed client (curl-like, on a key made with the default) keeps the seed's words.
    with gateway.client(gateway.new_key("curl")) as seed_client:
        seed_client.headers["User-Agent"] = "curl/8.5.0"
        video_id = seed_client.post("/v1/videos", json=body).json()["id"]
        assert first_word_while_made(seed_client, video_id) == "processing"
        assert wait_final(seed_client, video_id)["status"] == "completed"
