"""The Vidu emulator over real HTTP: auth, validation, lifecycle, concurrency, credits,
cancel and the admin surface (its task list: test_emulator_list.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from emulatorlib import (
    KEY_A,
    KEY_B,
    RunningEmulator,
    assert_vidu_error,
    create,
    create_ok,
    credits,
    fast_config,
    image_data_uri,
    run_emulator,
    status,
    wait_state,
)

import vidugate.emulator
from vidugate.clock import ManualClock

URL_IMAGE = "https://images.example.com/cat.png"


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with run_emulator(fast_config()) as running:
        yield running


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningEmulator]:
    """For tests that only read or are refused: one emulator for the module."""
    with run_emulator(fast_config()) as running:
        yield running


def test_public_names_are_exported() -> None:
    for name in ("EmulatorConfig", "Faults", "create_emulator", "sign_callback", "Emulator"):
        assert name in vidugate.emulator.__all__
        assert hasattr(vidugate.emulator, name)


def test_auth_needs_token_scheme_and_a_known_key(emu: RunningEmulator) -> None:
    for client in (emu.client(None), emu.client(KEY_A, "Bearer"), emu.client("nope")):
        assert_vidu_error(client.get("/ent/v2/credits"), 401, "Unauthorized")
        assert_vidu_error(create(client), 401, "Unauthorized")
        assert_vidu_error(client.get("/ent/v2/tasks/1/creations"), 401, "Unauthorized")
    assert emu.client().get("/ent/v2/credits").status_code == 200


def test_create_answers_the_documented_shape(emu: RunningEmulator) -> None:
    answer = create_ok(emu.client(), payload="p-1", seed=42)
    assert answer["task_id"].isdigit()
    assert answer["state"] == "created"
    assert answer["credits"] == 20  # viduq3-pro, 5 s, 720p: the doc's example
    assert (answer["model"], answer["duration"], answer["resolution"]) == ("viduq3-pro", 5, "720p")
    assert (answer["aspect_ratio"], answer["movement_amplitude"]) == ("16:9", "auto")
    assert (answer["seed"], answer["payload"], answer["off_peak"]) == (42, "p-1", False)
    created = datetime.strptime(answer["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(created.replace(tzinfo=UTC).timestamp() - time.time()) < 5
    other = create_ok(emu.client())
    assert int(other["task_id"]) > int(answer["task_id"])
    assert other["seed"] > 0  # picked when not given


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("text2video", {"images": [URL_IMAGE]}, "images"),
        ("img2video", {}, "images"),
        ("img2video", {"images": [URL_IMAGE, URL_IMAGE]}, "images"),
        ("start-end2video", {"images": [URL_IMAGE]}, "images"),
        ("reference2video", {"model": "viduq2", "images": [URL_IMAGE] * 8}, "images"),
        ("img2video", {"images": [URL_IMAGE], "aspect_ratio": "16:9"}, "aspect_ratio"),
        ("text2video", {"aspect_ratio": "21:9"}, "aspect_ratio"),
        ("text2video", {"model": "viduq1", "duration": 4}, "duration"),
        ("text2video", {"model": "viduq1", "resolution": "720p"}, "resolution"),
        ("text2video", {"duration": 17}, "duration"),
        ("text2video", {"model": "viduq2", "duration": 11}, "duration"),
        ("text2video", {"duration": "5"}, "duration"),
        (
            "start-end2video",
            {"model": "viduq2-pro", "images": [URL_IMAGE] * 2, "duration": 9},
            "duration",
        ),
        ("text2video", {"model": "viduq2-pro"}, "model"),
        ("reference2video", {"images": [URL_IMAGE]}, "model"),
        ("text2video", {"model": "nope"}, "model"),
        ("text2video", {"prompt": "x" * 5001}, "prompt"),
        ("text2video", {"prompt": ""}, "prompt"),
        ("text2video", {"payload": "x" * 1_048_577}, "payload"),
        ("text2video", {"meta_data": "{not json"}, "meta_data"),
        ("text2video", {"meta_data": {"a": 1}}, "meta_data"),
        ("text2video", {"movement_amplitude": "large"}, "movement_amplitude"),
        # Not even "auto": Vidu refuses the field on q3 models.
        ("text2video", {"movement_amplitude": "auto"}, "movement_amplitude"),
        ("img2video", {"images": [URL_IMAGE], "movement_amplitude": "small"}, "movement_amplitude"),
        (
            "text2video",
            {"model": "viduq2", "movement_amplitude": "wild"},
            "movement_amplitude",
        ),
        ("text2video", {"is_rec": True}, "is_rec"),
        ("text2video", {"off_peak": "yes"}, "off_peak"),
        ("text2video", {"callback_url": "ftp://hooks.example.com/x"}, "callback_url"),
        ("img2video", {"images": ["ftp://example.com/a.png"]}, "images[0]"),
        ("img2video", {"images": ["data:image/png;base64,!!!"]}, "images[0]"),
        ("img2video", {"images": [image_data_uri(fmt="GIF")]}, "images[0]"),
        (
            "start-end2video",
            {"images": [image_data_uri(400, 200), image_data_uri(200, 400)]},
            "images",
        ),
    ],
)
def test_invalid_fields_are_named(
    shared: RunningEmulator, endpoint: str, body: dict[str, Any], field: str
) -> None:
    client = shared.client()
    response = create(client, endpoint, **body)
    assert_vidu_error(response, 400, "FieldInvalid", field)
    assert credits(client) == 10_000


def test_bodies_must_be_json_objects_under_20_mb(emu: RunningEmulator) -> None:
    client = emu.client()
    url = "/ent/v2/text2video"
    assert_vidu_error(client.post(url, content=b"{nope"), 400, "FieldInvalid", "body")
    assert_vidu_error(client.post(url, json=[1]), 400, "FieldInvalid", "body")
    form = client.post(url, data={"model": "viduq3-pro", "prompt": "x"})
    assert_vidu_error(form, 400, "FieldInvalid", "Content-Type")
    huge = b'{"model": "viduq3-pro", "prompt": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = client.post(url, content=huge, headers={"Content-Type": "application/json"})
    assert_vidu_error(response, 413, "RequestTooLarge")
    assert emu.stats()["creates_rejected"] == 4


def test_every_endpoint_accepts_a_valid_request(emu: RunningEmulator) -> None:
    client = emu.client()
    image = create_ok(client, "img2video", images=[URL_IMAGE], is_rec=True, audio=False)
    assert "aspect_ratio" not in image
    assert image["images"] == [URL_IMAGE]
    assert image["credits"] == 4 * 5 + 10  # is_rec adds 10
    pair = [image_data_uri(320, 240), image_data_uri(300, 240, "JPEG")]
    create_ok(client, "start-end2video", model="viduq2-turbo", images=pair, duration=8)
    create_ok(client, "reference2video", model="viduq2", images=[URL_IMAGE] * 7)
    q1 = create_ok(client, model="viduq1", style="anime")
    assert (q1["duration"], q1["resolution"], q1["style"]) == (5, "1080p", "anime")
    create_ok(client, "img2video", model="vidu2.0", images=[image_data_uri(fmt="WEBP")], duration=8)
    assert emu.stats()["creates_accepted"] == 5


def test_policy_violation_and_insufficient_credits_charge_nothing(emu: RunningEmulator) -> None:
    client = emu.client()
    response = create(client, prompt="a FORBIDDEN-CONTENT scene")
    assert_vidu_error(response, 400, "TaskPromptPolicyViolation")
    assert credits(client) == 10_000
    poor = emu.client("poor")
    assert_vidu_error(create(poor), 400, "CreditInsufficient")
    assert credits(poor) == 5
    cheap = create_ok(poor, model="viduq2", duration=1, resolution="540p")
    assert cheap["credits"] == 2
    assert credits(poor) == 3


def test_a_task_succeeds_with_the_documented_status_shape(emu: RunningEmulator) -> None:
    emu.admin("POST", "/config", {"queue_seconds": 0.4, "process_seconds": 0.4})
    client = emu.client()
    task_id = create_ok(client, payload="hello")["task_id"]
    assert status(client, task_id)["state"] == "created"
    final = wait_state(client, task_id, {"success"})
    assert set(final) == {
        "id", "state", "err_code", "credits", "payload", "bgm", "off_peak", "creations",
    }  # fmt: skip
    assert (final["err_code"], final["credits"], final["payload"]) == ("", 20, "hello")
    creation = final["creations"][0]
    assert creation["url"].startswith(emu.base_url)
    assert creation["cover_url"]
    assert creation["watermarked_url"] == ""
    views = emu.admin("GET", "/tasks")["tasks"]
    view = next(v for v in views if v["id"] == task_id)
    assert view["started_at"] < view["ended_at"]


def test_states_follow_the_clock_in_order() -> None:
    clock = ManualClock()  # moved by hand: each state is seen at its documented moment
    with run_emulator(fast_config(queue_seconds=2.0, process_seconds=3.0), clock) as emu:
        client = emu.client()
        task_id = create_ok(client)["task_id"]
        seen = [status(client, task_id)["state"]]
        for step in (0.5, 0.5, 1.0, 2.5, 0.5):
            clock.advance(step)
            seen.append(status(client, task_id)["state"])
    # created for the first half of queue_seconds, then queueing, then process_seconds.
    assert seen == ["created", "created", "queueing", "processing", "processing", "success"]


def test_six_tasks_on_one_account_leave_one_queueing() -> None:
    clock = ManualClock()
    with run_emulator(fast_config(queue_seconds=1.0, process_seconds=4.0), clock) as emu:
        client = emu.client()
        ids = [create_ok(client, payload=str(i))["task_id"] for i in range(6)]
        other = create_ok(emu.client(KEY_B))["task_id"]
        clock.advance(1.0)
        states = [status(client, task_id)["state"] for task_id in ids]
        assert states == ["processing"] * 5 + ["queueing"]
        assert status(emu.client(KEY_B), other)["state"] == "processing"  # its own slots
        remains = client.get("/ent/v2/credits").json()["remains"][0]
        assert (remains["current_concurrency"], remains["queue_count"]) == (5, 1)
        clock.advance(4.0)  # the first five end: the sixth takes a freed slot
        assert status(client, ids[5])["state"] == "processing"
        assert status(client, ids[0])["state"] == "success"
        views = {v["id"]: v for v in emu.admin("GET", "/tasks")["tasks"]}
        assert views[ids[5]]["started_at"] == views[ids[0]]["ended_at"]


def test_another_accounts_task_is_not_found(emu: RunningEmulator) -> None:
    task_id = create_ok(emu.client())["task_id"]
    other = emu.client(KEY_B)
    assert_vidu_error(other.get(f"/ent/v2/tasks/{task_id}/creations"), 404, "TaskNotFound")
    cancel = other.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert_vidu_error(cancel, 404, "TaskNotFound")
    assert_vidu_error(other.get("/ent/v2/tasks/123/creations"), 404, "TaskNotFound")


def test_cancel_before_processing_refunds_and_after_is_refused(emu: RunningEmulator) -> None:
    emu.admin("POST", "/config", {"queue_seconds": 1.0, "process_seconds": 5.0})
    client = emu.client()
    task_id = create_ok(client)["task_id"]
    assert credits(client) == 10_000 - 20
    mismatch = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": "1"})
    assert_vidu_error(mismatch, 400, "FieldInvalid", "id")
    response = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert response.status_code == 200
    assert response.json() == {}
    document = status(client, task_id)
    assert (document["state"], document["err_code"], document["credits"]) == (
        "failed", "TaskCanceled", 0,
    )  # fmt: skip
    assert credits(client) == 10_000
    again = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert_vidu_error(again, 400, "TaskNotCancelable")
    emu.admin("POST", "/config", {"queue_seconds": 0.0})
    running = create_ok(client)["task_id"]
    wait_state(client, running, {"processing"})
    late = client.post(f"/ent/v2/tasks/{running}/cancel", json={"id": running})
    assert_vidu_error(late, 400, "TaskNotCancelable", "processing")
    assert emu.stats()["cancels"] == 1


def test_failures_are_refunded(emu: RunningEmulator) -> None:
    client = emu.client()
    emu.admin("POST", "/config", {"process_seconds": 5.0})
    task_id = create_ok(client)["task_id"]
    wait_state(client, task_id, {"processing"})
    failed = emu.admin("POST", f"/tasks/{task_id}/fail", {"err_code": "InternalServiceFailure"})
    assert failed["state"] == "failed"
    document = status(client, task_id)
    assert (document["err_code"], document["credits"], document["creations"]) == (
        "InternalServiceFailure", 0, [],
    )  # fmt: skip
    assert credits(client) == 10_000
    finished = create_ok(client)["task_id"]
    assert emu.admin("POST", f"/tasks/{finished}/finish")["state"] == "success"
    assert status(client, finished)["creations"]
    with httpx.Client(base_url=emu.base_url) as admin:
        assert admin.post(f"/_emulator/tasks/{finished}/finish").status_code == 409
        assert admin.post("/_emulator/tasks/999/fail").status_code == 404


def test_off_peak_halves_the_price_and_refuses_audio(emu: RunningEmulator) -> None:
    client = emu.client()
    quiet = create_ok(client, off_peak=True, audio=False)
    assert quiet["credits"] == 10
    loud = create_ok(client, off_peak=True)  # q3 makes audio unless told not to
    assert loud["audio"] is True
    document = wait_state(client, loud["task_id"], {"success", "failed"})
    assert (document["state"], document["err_code"]) == ("failed", "AudioNotSupportedOffPeak")
    assert wait_state(client, quiet["task_id"], {"success", "failed"})["state"] == "success"
    assert credits(client) == 10_000 - 10


def test_credits_answer_as_vidu_documents(shared: RunningEmulator) -> None:
    client = shared.client(KEY_B)
    answer = client.get("/ent/v2/credits").json()
    assert set(answer) == {"remains"}
    (remains,) = answer["remains"]
    assert remains["type"] == "metered"
    assert remains["credit_remain"] == 10_000
    assert {"concurrency_limit", "current_concurrency", "queue_count"} <= set(remains)
    detail = client.get("/ent/v2/credits", params={"show_detail": "true"}).json()
    assert detail["packages"][0]["credit_remain"] == 10_000


def test_admin_surface(emu: RunningEmulator) -> None:
    client = emu.client()
    create_ok(client)
    stats = emu.stats()
    assert stats["creates_accepted"] == 1
    assert stats["tasks_by_account"] == {KEY_A: 1}
    config = emu.admin("POST", "/config", {"concurrency": 2, "accounts": {"new-key": 50}})
    assert config["concurrency"] == 2
    assert config["accounts"]["new-key"] == 50
    assert credits(emu.client("new-key")) == 50
    faults = emu.admin("POST", "/faults", {"latency": 0.01, "seed": 3})
    assert faults["latency"] == 0.01
    assert faults["seed"] == 3
    with httpx.Client(base_url=emu.base_url) as admin:
        for path, body in (
            ("/_emulator/faults", {"error_5xx": 2}),
            ("/_emulator/faults", {"nope": 1}),
            ("/_emulator/config", {"concurrency": 0}),
            ("/_emulator/config", {"result_mode": "fixed"}),
        ):
            assert_vidu_error(admin.post(path, json=body), 400, "FieldInvalid")
    assert emu.admin("GET", "/faults")["error_5xx"] == 0
    assert_vidu_error(client.get("/ent/v2/nowhere"), 404, "NotFound")
