"""reference2video with subjects over real HTTP: Vidu's subject form is taken, checked,
stored with the task, echoed as Vidu echoes it, its images go through the one intake
(fields named as sent, one fetch budget) and the sandbox draws every subject's images."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from conftest import assert_clean_log
from gatewaylib import Gateway, assert_video, free_port, wait_final
from inprocess import InProcessGateway
from waiting import wait_until

V = "/vidu/ent/v2"
SERVED = Image.new("RGB", (300, 300))
SERVED.putdata([(i % 251, (i * 7) % 253, (i * 13) % 255) for i in range(300 * 300)])
SERVED_PNG = io.BytesIO()
SERVED.save(SERVED_PNG, format="PNG")
SERVED_BYTES = SERVED_PNG.getvalue()
BUDGET = int(2.5 * len(SERVED_BYTES))  # the third URL crosses it
COLOURS = {
    "red": (230, 30, 30),
    "green": (30, 200, 60),
    "blue": (40, 60, 230),
    "cyan": (30, 200, 220),
}
TURN = (255, 214, 64)  # the frame around the subject whose turn it is


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str]]]:
    """An image on 127.0.0.2 (the one private address the gateway may reach), and the
    paths asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(SERVED_BYTES)))
            self.end_headers()
            # The gateway may stop reading: what the budget is for.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(SERVED_BYTES)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", free_port("127.0.0.2")), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = InProcessGateway(
        tmp_path_factory.mktemp("subjects"),
        settings={
            "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.2/32"]',
            "VIDUGATE_MAX_FETCH_BYTES_PER_REQUEST": str(BUDGET),
        },
    ).start()
    yield gateway
    gateway.stop()
    assert_clean_log(gateway)


@pytest.fixture(scope="module")
def vidu(gw: Gateway) -> Iterator[httpx.Client]:
    with gw.client(scheme="Token") as client:
        yield client


def near(frame: npt.NDArray[np.uint8], colour: tuple[int, int, int]) -> npt.NDArray[np.bool_]:
    distance = np.abs(frame.astype(np.int16) - np.array(colour, dtype=np.int16)).sum(axis=2)
    return np.asarray(distance < 60)


def decoded(data: bytes) -> list[npt.NDArray[np.uint8]]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return [
            np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            for frame in container.decode(video=0)
        ]


@pytest.mark.slow
def test_subjects_are_stored_echoed_and_each_ones_images_are_drawn(
    gw: Gateway, vidu: httpx.Client, tmp_path: Path
) -> None:
    subjects = [
        {"id": "cat", "images": [png(COLOURS["red"]), png(COLOURS["green"], (240, 320))],
         "voice_id": "v-cat"},
        {"id": "dog", "images": [png(COLOURS["blue"])]},
        {"id": "owl", "images": [png(COLOURS["cyan"], (200, 200))], "voice_id": ""},
    ]  # fmt: skip
    body = {
        "model": "viduq2",
        "prompt": "@cat meets @dog and @owl",
        "subjects": subjects,
        "duration": 1,
        "resolution": "540p",
        "audio": True,
    }
    created = vidu.post(f"{V}/reference2video", json=body)
    assert created.status_code == 200, created.text
    answer = created.json()
    task_id = answer["task_id"]
    # Vidu's answer lists a subject form's images, in subjects' order, as its images.
    assert answer["images"] == [image for subject in subjects for image in subject["images"]]
    assert (answer["audio"], answer["aspect_ratio"]) == (True, "16:9")

    [(params, images)] = gw.sql("SELECT params, images FROM tasks WHERE id = $1", task_id)
    stored = params if isinstance(params, dict) else json.loads(params)
    assert stored["subjects"] == [
        {"id": "cat", "image_count": 2, "voice_id": "v-cat"},
        {"id": "dog", "image_count": 1, "voice_id": None},
        {"id": "owl", "image_count": 1, "voice_id": None},
    ]
    keys = images if isinstance(images, list) else json.loads(images)
    assert [key.rsplit("/", 1)[1] for key in keys] == ["image0", "image1", "image2", "image3"]

    done = wait_final(vidu, task_id)
    assert done["status"] == "completed", done
    assert done["size"] == "960x540"
    # Subject images are stored inputs like any other: gone once the task has finished.
    inputs = gw.data_dir / "media" / "inputs" / task_id
    wait_until(lambda: not inputs.exists(), what="the subjects' images deleted")
    video = vidu.get(f"/v1/videos/{task_id}/content")
    assert video.status_code == 200
    frames = decoded(video.content)
    assert len(frames) == 24
    for index in (0, 12, 23):
        frame = frames[index]
        width = frame.shape[1]
        for name, colour in COLOURS.items():
            mask = near(frame, colour)
            assert mask.mean() > 0.02, (index, name, mask.mean())
            columns = np.nonzero(mask.any(axis=0))[0]
            # Three subjects side by side: each one's colours in its own third.
            third = {"red": 0, "green": 0, "blue": 1, "cyan": 2}[name]
            assert third * width / 3 <= columns.min(), (index, name)
            assert columns.max() < (third + 1) * width / 3, (index, name)
        # The subjects take turns: a frame goes round the cat's panel, then the dog's, ...
        turn = np.nonzero(near(frame, TURN).any(axis=0))[0]
        assert turn.min() >= (index * 3 // 24) * width / 3 - 1, index
        assert turn.max() < (index * 3 // 24 + 1) * width / 3 + 1, index
        # Each panel is labelled on a black band along its top, with white text.
        band = frame[8:30]
        assert near(band, (0, 0, 0)).mean() > 0.3
        assert near(band, (255, 255, 255)).mean() > 0.01
    Image.fromarray(frames[12]).save(tmp_path / "subjects.png")


@pytest.mark.parametrize(
    ("changes", "start"),
    [
        ({"images": [png((1, 2, 3))]}, "subjects and images are two forms"),
        ({"subjects": []}, "subjects: give 1-7 subjects"),
        ({"subjects": [{"id": f"s{n}", "images": ["x"]} for n in range(8)]}, "subjects: at most 7"),
        ({"subjects": [{"id": "a", "images": ["x"] * 4}]},
         "subjects[0].images: a subject has at most 3"),
        ({"subjects": [{"id": f"s{n}", "images": ["x"] * 3} for n in range(3)]},
         "subjects: viduq2 takes at most 7 images"),
        ({"model": "vidu2.0", "subjects": [{"id": n, "images": ["x"] * 2} for n in "ab"]},
         "subjects: vidu2.0 takes at most 3 images"),
        ({"subjects": [{"id": "a", "images": ["x"]}, {"id": "a", "images": ["x"]}]},
         "subjects[1].id 'a' is the id of an earlier subject"),
        ({"subjects": [{"id": "a cat", "images": ["x"]}]},
         "subjects[0].id must be a non-empty word"),
        ({"subjects": [{"id": "a", "images": []}]}, "subjects[0].images: a subject has 1-3 images"),
        ({"subjects": [{"id": "a", "name": "A", "images": ["x"]}]},
         "Unknown field 'subjects[0].name'. Allowed fields: id, images, voice_id."),
        ({"subjects": [{"id": "a", "images": "x"}]}, "subjects[0].images:"),
        ({"subjects": [{"images": ["x"]}]}, "Missing required field 'subjects[0].id'"),
        ({"off_peak": True, "audio": True}, "off_peak cannot be combined with audio=true"),
        ({"subjects": [{"id": "a", "images": [png((9, 9, 9))]}, {"id": "b", "images": ["nope"]}]},
         "subjects[1].images[0] must be an image file"),
    ],
)  # fmt: skip
def test_subject_form_refusals_name_the_field(
    vidu: httpx.Client, changes: dict[str, Any], start: str
) -> None:
    body = {
        "model": "viduq2",
        "prompt": "@a",
        "subjects": [{"id": "a", "images": [png((9, 9, 9))]}],
        **changes,
    }
    response = vidu.post(f"{V}/reference2video", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "FieldInvalid"
    assert response.json()["message"].startswith(start), response.json()


def test_subjects_are_a_reference2video_field(vidu: httpx.Client) -> None:
    body = {
        "model": "viduq2-pro",
        "prompt": "x",
        "images": [png((9, 9, 9))],
        "subjects": [{"id": "a", "images": [png((9, 9, 9))]}],
    }
    response = vidu.post(f"{V}/img2video", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("subjects")


def test_subject_urls_share_the_requests_fetch_budget(
    gw: Gateway, vidu: httpx.Client, served: tuple[str, list[str]]
) -> None:
    base, hits = served
    hits.clear()
    rows = gw.sql("SELECT count(*) FROM tasks")
    body = {
        "model": "viduq2",
        "prompt": "@a @b",
        "subjects": [
            {"id": "a", "images": [f"{base}/a0.png", f"{base}/a1.png"]},
            {"id": "b", "images": [f"{base}/b0.png", f"{base}/b1.png"]},
        ],
    }
    answer = vidu.post(f"{V}/reference2video", json=body)
    assert answer.status_code == 413, answer.text
    assert answer.json()["message"].startswith("subjects[1].images[0]:"), answer.json()
    assert str(BUDGET) in answer.json()["message"]
    assert hits == ["/a0.png", "/a1.png", "/b0.png"]
    assert gw.sql("SELECT count(*) FROM tasks") == rows


@pytest.mark.slow
def test_vidu2_subjects_make_a_4_s_360p_video(vidu: httpx.Client) -> None:
    """vidu2.0's defaults (4 s, 360p) in a 9:16 frame: 360x640, the subjects one above
    the other, both drawn in every frame."""
    body = {
        "model": "vidu2.0",
        "prompt": "@a and @b",
        "aspect_ratio": "9:16",
        "subjects": [
            {"id": "a", "images": [png(COLOURS["red"]), png(COLOURS["green"])]},
            {"id": "b", "images": [png(COLOURS["blue"])]},
        ],
    }
    created = vidu.post(f"{V}/reference2video", json=body)
    assert created.status_code == 200, created.text
    answer = created.json()
    assert (answer["duration"], answer["resolution"]) == (4, "360p")
    done = wait_final(vidu, answer["task_id"])
    assert (done["status"], done["size"], done["seconds"]) == ("completed", "360x640", "4")
    data = vidu.get(f"/v1/videos/{answer['task_id']}/content").content
    assert_video(data, width=360, height=640, seconds=4, audio=False)
    frames = decoded(data)
    for frame in (frames[0], frames[-1]):
        for name, half in (("red", 0), ("green", 0), ("blue", 1)):
            rows = np.nonzero(near(frame, COLOURS[name]).any(axis=1))[0]
            assert rows.size, name
            assert half * 320 <= rows.min(), name
            assert rows.max() < (half + 1) * 320, name
