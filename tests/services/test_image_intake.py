"""Input images through a real `vidugate serve`: decoding is bounded (the issue's bomb PNG
is refused without growing the process; big images are kept scaled down), one key's heavy
uploads do not hold up another key's create, and the URLs of one request share one byte
budget (reference2video on Vidu's surface)."""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from conftest import assert_clean_log, image_bytes
from gatewaylib import Gateway, free_port
from imagelib import flat_png
from loglib import events
from waiting import wait_until

# A real process: one test measures its RSS.
pytestmark = [pytest.mark.slow, pytest.mark.process]

# The largest frame the gateway makes, RGBA: a decode bounded by what frames need holds a
# few of these at most. Four refused bombs must not cost the process even that.
FRAME_BYTES = 1920 * 1080 * 4
SERVED = 7  # reference2video's most images
FIELDS = {"model": "viduq3-pro", "prompt": "x", "duration": "1", "resolution": "540p"}


def _noise_png(seed: int) -> bytes:
    rng = random.Random(seed)
    im = Image.frombytes("RGB", (420, 420), rng.randbytes(420 * 420 * 3))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


SERVED_PNG = _noise_png(9)  # about 530 KB, incompressible
BUDGET = int(2.5 * len(SERVED_PNG))  # the third URL crosses it


class ImageServer:
    """Serves SERVED_PNG on 127.0.0.2 (the one private address the gateway may reach),
    with a Content-Length or without one (?chunked), and counts what was asked for."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                chunked = "chunked" in self.path
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(SERVED_PNG)))
                self.end_headers()
                try:
                    for start in range(0, len(SERVED_PNG), 65536):
                        part = SERVED_PNG[start : start + 65536]
                        if chunked:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        else:
                            self.wfile.write(part)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the gateway stopped reading: what the budget is for

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", free_port("127.0.0.2")), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway(
        tmp_path_factory.mktemp("intake"),
        settings={
            "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.2/32"]',
            "VIDUGATE_MAX_FETCH_BYTES_PER_REQUEST": str(BUDGET),
            # Renders crawl: a task stays processing, so its stored input can be looked at.
            "VIDUGATE_SANDBOX_PACE": "1000",
        },
    ).start()
    yield gateway
    gateway.stop()
    assert_clean_log(gateway)


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _create(client: httpx.Client, image: bytes, name: str = "image.png") -> httpx.Response:
    return client.post("/v1/videos", data=FIELDS, files={"images": (name, image)})


def _delete_all(client: httpx.Client, ids: list[str]) -> None:
    for video_id in ids:
        assert client.delete(f"/v1/videos/{video_id}").status_code == 200


def _inputs(gw: Gateway) -> set[str]:
    folder = gw.data_dir / "media" / "inputs"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _scratch(gw: Gateway) -> list[Path]:
    folder = gw.data_dir / "work" / "incoming"
    return [p for p in folder.iterdir() if "." not in p.name] if folder.exists() else []


def test_the_bomb_png_is_refused_and_the_process_does_not_grow(gw: Gateway) -> None:
    bomb = flat_png(8944, 8944)  # 233 KB declaring 80 MP: 320 MB once decoded by Pillow
    assert gw.process is not None
    pid = gw.process.pid
    with gw.client() as client:
        # Warm up the paths the measured requests take: an image refused, one accepted.
        assert _create(client, image_bytes(400, 90)).status_code == 400  # ratio over 4:1
        small = _create(client, image_bytes())
        assert small.status_code == 200, small.text
        _delete_all(client, [small.json()["id"]])
        baseline = _status_kb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS := RSS now
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: _create(client, bomb), range(4)))
        peak = _status_kb(pid, "VmHWM")
        _delete_all(client, [a.json()["id"] for a in answers if a.status_code == 200])
    grown = (peak - baseline) * 1024
    assert grown < FRAME_BYTES, f"the process grew by {grown / 1e6:.0f} MB"
    for answer in answers:
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["param"] == "images"
        assert "8944x8944" in error["message"]
        assert "40 megapixels" in error["message"]


def test_a_big_image_is_stored_scaled_down_and_deleted_once_the_task_stops(
    gw: Gateway,
) -> None:
    photo = Image.new("RGB", (4000, 3000), (30, 120, 200))
    photo.paste((220, 40, 40), (0, 0, 2000, 3000))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=90)
    with gw.client() as client:
        created = _create(client, buf.getvalue(), "photo.jpg")
        assert created.status_code == 200, created.text
        video = created.json()
        assert video["size"] == "720x540"  # the frame still takes the photo's shape
        stored = gw.data_dir / "media" / "inputs" / video["id"] / "image0"
        with Image.open(stored) as kept:
            assert kept.format == "JPEG"
            assert kept.size == (1920, 1440)
        assert client.post(f"/v1/videos/{video['id']}/cancel").status_code == 200
        # The worker takes the cancelled task back and drops its inputs.
        wait_until(lambda: not stored.parent.exists())
        _delete_all(client, [video["id"]])


def test_another_keys_small_create_is_not_held_up_by_heavy_decodes(gw: Gateway) -> None:
    heavy = flat_png(4000, 4000)  # 16 MP: accepted, decoded in full, scaled down
    count = 12  # twice the threads asyncio lends by default on a 2-core machine
    other = gw.new_key("other")
    assert gw.process is not None
    baseline = _status_kb(gw.process.pid, "VmRSS")

    def upload(_: int) -> httpx.Response:
        with gw.client() as client:
            return _create(client, heavy)

    with ThreadPoolExecutor(count) as pool:
        uploads = [pool.submit(upload, i) for i in range(count)]
        # They are in: spooled to scratch files, their decodes queued or running.
        wait_until(lambda: len(_scratch(gw)) >= 6 or any(u.done() for u in uploads))
        assert not any(u.done() for u in uploads)
        with gw.client(other) as client:
            small = _create(client, image_bytes())
        answers = [u.result() for u in uploads]
    assert small.status_code == 200, small.text
    assert [answer.status_code for answer in answers] == [200] * count
    heavy_ids = {answer.json()["id"] for answer in answers}
    # The gateway's own record of the order tasks were made in.
    made = [event["task_id"] for event in events(gw.log(), "task.created")]
    made = [task_id for task_id in made if task_id in heavy_ids | {small.json()["id"]}]
    ahead = made.index(small.json()["id"])
    # Key A's decodes run one at a time: at most the one in progress may have ended first.
    assert ahead <= 2, f"{ahead} of the heavy uploads were made before the small one"
    with gw.client() as client:
        _delete_all(client, sorted(heavy_ids))
    with gw.client(other) as client:
        _delete_all(client, [small.json()["id"]])
    # And the memory the decodes took went back: the process is as large as before.
    kept = (_status_kb(gw.process.pid, "VmRSS") - baseline) * 1024
    assert kept < 2 * FRAME_BYTES, f"the process kept {kept / 1e6:.0f} MB"


@pytest.mark.parametrize("query", ["", "?chunked"])
def test_reference2video_urls_share_one_fetch_budget(
    gw: Gateway, images: ImageServer, query: str
) -> None:
    images.hits.clear()
    before = _inputs(gw)
    rows = gw.sql("SELECT count(*) FROM tasks")
    body = {
        "model": "viduq2",
        "prompt": "the seven of them",
        "duration": 1,
        "resolution": "540p",
        "aspect_ratio": "16:9",
        "images": [images.url(f"/ref{i}.png{query}") for i in range(SERVED)],
    }
    answer = httpx.post(
        f"{gw.base_url}/vidu/ent/v2/reference2video",
        json=body,
        headers={"Authorization": f"Token {gw.key}"},
        timeout=60,
    )
    assert answer.status_code == 413, answer.text
    error = answer.json()
    assert error["reason"] == "FieldInvalid"
    assert error["message"].startswith("images[2]:"), error
    assert str(BUDGET) in error["message"]
    assert "VIDUGATE_MAX_FETCH_BYTES_PER_REQUEST" in error["message"]
    # The gateway stopped at the URL that crossed the budget and kept nothing of the request.
    assert len(images.hits) == 3, images.hits
    assert _inputs(gw) == before
    assert _scratch(gw) == []
    assert gw.sql("SELECT count(*) FROM tasks") == rows
