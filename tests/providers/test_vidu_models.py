"""The newer models and reference2video's subjects through the `vidu` provider, against the
Vidu emulator over real HTTP: each goes to its endpoint under Vidu's own model name, with
the rules' defaults, and subjects go as Vidu's subject form."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from emulatorlib import fast_config
from vidulib import upstream_of, vidu_gateway

from conftest import assert_clean_log, image_bytes
from gatewaylib import wait_final

pytestmark = pytest.mark.slow

PNG = "data:image/png;base64," + base64.b64encode(image_bytes(320, 240)).decode()

# (gateway route, body, what the upstream task was asked)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "/vidu/ent/v2/reference2video",
        {"model": "viduq1", "prompt": "@cat and @dog", "audio": True, "subjects": [
            {"id": "cat", "images": [PNG, PNG], "voice_id": "v-cat"},
            {"id": "dog", "images": [PNG]},
        ]},
        {"type": "reference2video", "model": "viduq1", "duration": 5, "resolution": "1080p",
         "images": 3, "subjects": [{"id": "cat", "images": 2, "voice_id": "v-cat"},
                                   {"id": "dog", "images": 1, "voice_id": ""}]},
    ),
    (
        "/vidu/ent/v2/reference2video",
        {"model": "vidu2.0", "prompt": "@a", "subjects": [{"id": "a", "images": [PNG] * 3}]},
        {"type": "reference2video", "model": "vidu2.0", "duration": 4, "resolution": "360p",
         "images": 3, "aspect_ratio": "16:9"},
    ),
    (
        "/vidu/ent/v2/img2video",
        {"model": "vidu2.0", "prompt": "go", "images": [PNG], "duration": 8},
        {"type": "img2video", "model": "vidu2.0", "duration": 8, "resolution": "720p"},
    ),
    (
        "/vidu/ent/v2/start-end2video",
        {"model": "viduq2-pro-fast", "prompt": "go", "images": [PNG, PNG], "duration": 8},
        {"type": "start-end2video", "model": "viduq2-pro-fast", "duration": 8,
         "resolution": "720p"},
    ),
    (
        "/v1/videos",
        {"model": "viduq1-classic", "prompt": "go", "images": PNG},
        {"type": "img2video", "model": "viduq1-classic", "duration": 5, "resolution": "1080p"},
    ),
    (
        "/vidu/ent/v2/text2video",
        {"model": "viduq1", "prompt": "a fox", "style": "anime", "aspect_ratio": "9:16"},
        {"type": "text2video", "model": "viduq1", "style": "anime", "aspect_ratio": "9:16"},
    ),
    (
        "/vidu/ent/v2/text2video",
        {"model": "viduq2", "prompt": "a fox", "style": "anime", "duration": 1},
        # No effect on q2: not sent, so Vidu takes its own default.
        {"type": "text2video", "model": "viduq2", "style": "general"},
    ),
]  # fmt: skip


def test_new_models_and_subjects_reach_vidu_as_vidu_takes_them(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path, config=fast_config(result_mode="fixed")) as (gateway, emulator):
        with gateway.client() as client:
            ids = []
            for route, body, _ in CASES:
                created = client.post(route, json=body)
                assert created.status_code == 200, (route, body["model"], created.text)
                ids.append(created.json().get("task_id") or created.json()["id"])
            for video_id in ids:
                assert wait_final(client, video_id)["status"] == "completed", video_id
        assert emulator.stats()["creates_rejected"] == 0
        for video_id, (_, _, asked) in zip(ids, CASES, strict=True):
            [upstream] = upstream_of(emulator, video_id)
            assert {name: upstream[name] for name in asked} == asked
    assert_clean_log(gateway)
