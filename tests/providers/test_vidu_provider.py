"""The `vidu` provider through the gateway, against the Vidu emulator over real HTTP."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from emulatorlib import fast_config
from vidulib import KEY_A, KEY_B, upstream_of, upstream_tasks, vidu_gateway, wait_until

from conftest import assert_clean_log, image_bytes
from gatewaylib import Gateway, cli, probe_mp4, wait_final
from loglib import events

pytestmark = pytest.mark.slow

PNG = base64.b64encode(image_bytes(320, 240)).decode()
CLIP = {"duration": 1, "resolution": "540p"}


def test_every_mode_reaches_the_right_endpoint_and_model(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, emulator):
        with gateway.client() as client:
            made = {
                "text": client.post(
                    "/v1/videos", json={"model": "viduq2-pro", "prompt": "a fox", **CLIP}
                ),
                "image": client.post(
                    "/v1/videos",
                    json={"model": "viduq3-pro", "prompt": "move", "images": PNG, **CLIP},
                ),
                "start-end": client.post(
                    "/vidu/ent/v2/start-end2video",
                    json={"model": "viduq2-turbo", "prompt": "go", "images": [PNG, PNG], **CLIP},
                ),
                "reference": client.post(
                    "/vidu/ent/v2/reference2video",
                    json={"model": "viduq2", "prompt": "them", "images": [PNG, PNG], **CLIP},
                ),
            }
            ids = {}
            for name, response in made.items():
                assert response.status_code == 200, (name, response.text)
                body = response.json()
                ids[name] = body.get("id") or body["task_id"]
            for name, video_id in ids.items():
                done = wait_final(client, video_id)
                assert done["status"] == "completed", (name, done)
                content = client.get(f"/v1/videos/{video_id}/content")
                assert content.status_code == 200
                assert probe_mp4(content.content).codec == "h264"
        expected = {
            "text": ("text2video", "viduq2"),  # the text-only q2-pro goes to Vidu's viduq2
            "image": ("img2video", "viduq3-pro"),
            "start-end": ("start-end2video", "viduq2-turbo"),
            "reference": ("reference2video", "viduq2"),
        }
        for name, video_id in ids.items():
            upstream = upstream_of(emulator, video_id)
            assert len(upstream) == 1, (name, upstream)
            assert (upstream[0]["type"], upstream[0]["model"]) == expected[name]
            assert upstream[0]["account"] == KEY_A
    assert_clean_log(gateway)


def test_policy_violation_fails_the_task_with_a_clear_error(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, _emulator), gateway.client() as client:
        created = client.post(
            "/v1/videos", json={"model": "viduq3-pro", "prompt": "forbidden-content", **CLIP}
        ).json()
        done = wait_final(client, created["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "content_policy"
    assert "policy" in done["error"]["message"]


@pytest.mark.parametrize(
    ("err_code", "code", "advice"),
    [
        ("InternalServiceFailure", "generation_failed", "try again"),
        ("CreationPolicyViolation", "content_policy", "rephrase the prompt"),
        ("SomethingViduAddsLater", "upstream_failed", "give the operator the code"),
    ],
)
def test_failed_upstream_task_is_reported_with_a_gateway_code(
    tmp_path: Path, err_code: str, code: str, advice: str
) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.fail_task = 1.0
    config.faults.fail_err_code = err_code
    with vidu_gateway(tmp_path, config=config) as (gateway, _emulator), gateway.client() as c:
        created = c.post("/v1/videos", json={"model": "viduq3-pro", "prompt": "x", **CLIP})
        done = wait_final(c, created.json()["id"])
        vidu = c.get(f"/vidu/ent/v2/tasks/{created.json()['id']}/creations").json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == code
    assert advice in done["error"]["message"]
    assert f"(Vidu err_code: {err_code})" in done["error"]["message"]
    assert vidu["err_code"] == code
    (failed,) = events(
        gateway.all_logs(), "upstream.task_failed", task_id=created.json()["id"], account="a"
    )
    assert (failed["err_code"], failed["code"]) == (err_code, code)


def test_movement_amplitude_is_not_sent_for_q3(tmp_path: Path) -> None:
    # Vidu (and its emulator) refuse movement_amplitude on q3, where it has no effect.
    with vidu_gateway(tmp_path) as (gateway, emulator), gateway.client() as client:
        created = client.post(
            "/vidu/ent/v2/text2video",
            json={"model": "viduq3-pro", "prompt": "calm", "movement_amplitude": "large", **CLIP},
        )
        assert created.status_code == 200, created.text
        done = wait_final(client, created.json()["task_id"])
        assert done["status"] == "completed", done
        assert emulator.stats()["creates_rejected"] == 0


def test_the_reported_size_is_the_stored_files(tmp_path: Path) -> None:
    # "fixed" results are 320x180 whatever was asked: the size is read from the file.
    config = fast_config(result_mode="fixed")
    with vidu_gateway(tmp_path, config=config) as (gateway, _emulator), gateway.client() as c:
        created = c.post(
            "/v1/videos", json={"model": "viduq3-pro", "prompt": "x", "size": "1280x720"}
        ).json()
        assert created["size"] == "1280x720"  # what was asked, until the file is there
        done = wait_final(c, created["id"])
        assert done["status"] == "completed"
        assert done["size"] == "320x180"
        assert c.get(f"/v1/videos/{created['id']}").json()["size"] == "320x180"
        listed = c.get("/v1/videos").json()["data"]
        assert [v["size"] for v in listed if v["id"] == created["id"]] == ["320x180"]
        stored = probe_mp4(c.get(f"/v1/videos/{created['id']}/content").content)
        assert (stored.width, stored.height) == (320, 180)
    assert "result.size_differs" in gateway.all_logs()


def test_accounts_fail_over_and_tasks_stay_pinned(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    keys = {"revoked": "key-nobody-knows", "a": KEY_A, "b": KEY_B, "poor": "poor"}
    with vidu_gateway(tmp_path, config=config, keys=keys) as (gateway, emulator):
        with gateway.client() as client:
            ids = [
                client.post(
                    "/v1/videos", json={"model": "viduq3-pro", "prompt": f"clip {i}", **CLIP}
                ).json()["id"]
                for i in range(12)
            ]
            finals = [wait_final(client, i) for i in ids]
            assert all(f["status"] == "completed" for f in finals), finals
        accounts = {upstream_of(emulator, i)[0]["account"] for i in ids}
        # The refused key is disabled; the poor one takes no task it cannot pay for.
        assert accounts <= {KEY_A, KEY_B, "poor"}
        assert {KEY_A, KEY_B} <= accounts
        log = gateway.all_logs()
        assert events(log, "upstream.account_disabled", account="revoked")
        assert "upstream.account_exhausted" not in log
        assert "key-nobody-knows" not in log  # upstream keys are never logged
        assert KEY_A not in log
    assert_clean_log(gateway)


def test_throttling_and_5xx_are_survived(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.throttle_429 = 0.3
    config.faults.error_5xx = 0.2
    with vidu_gateway(tmp_path, config=config, keys={"a": KEY_A, "b": KEY_B}) as (
        gateway,
        emulator,
    ):
        with gateway.client() as client:
            ids = [
                client.post(
                    "/v1/videos", json={"model": "viduq3-pro", "prompt": f"clip {i}", **CLIP}
                ).json()["id"]
                for i in range(8)
            ]
            finals = [wait_final(client, i, timeout=120)["status"] for i in ids]
        assert finals == ["completed"] * 8
        for video_id in ids:
            assert len(upstream_of(emulator, video_id)) == 1  # never charged twice
        stats = emulator.stats()
        assert stats["faults"]["throttle_429"] > 0
        assert stats["faults"]["error_5xx"] > 0


def test_a_lost_create_answer_makes_exactly_one_upstream_task(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.lost_create = 1.0
    with vidu_gateway(tmp_path, config=config) as (gateway, emulator):
        with gateway.client() as client:
            created = client.post(
                "/v1/videos", json={"model": "viduq3-pro", "prompt": "lost", **CLIP}
            ).json()
            wait_until(lambda: emulator.stats()["creates_lost"] >= 1, what="a lost create")
            emulator.admin("POST", "/faults", {"lost_create": 0.0})
            done = wait_final(client, created["id"])
        assert done["status"] == "completed"
        assert len(upstream_of(emulator, created["id"])) == 1
        assert "task.create_recovered" in gateway.all_logs()


@pytest.mark.process
def test_killed_between_submit_and_record_makes_exactly_one_upstream_task(
    tmp_path: Path,
) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.latency = 3.0  # the create is under way long enough to kill the gateway
    with vidu_gateway(tmp_path, config=config, kind=Gateway) as (gateway, emulator):
        with gateway.client() as client:
            created = client.post(
                "/v1/videos", json={"model": "viduq3-pro", "prompt": "crash", **CLIP}
            ).json()
            wait_until(lambda: intent_recorded(gateway, created["id"]), what="the intent")
            time.sleep(0.5)  # the create is now on its way, held by the emulator's latency
        gateway.kill()
        wait_until(lambda: len(upstream_of(emulator, created["id"])) == 1, what="the task")
        emulator.admin("POST", "/faults", {"latency": 0.0})
        gateway.start()
        with gateway.client() as client:
            done = wait_final(client, created["id"])
        assert done["status"] == "completed"
        assert len(upstream_of(emulator, created["id"])) == 1


def intent_recorded(gateway: Gateway, video_id: str) -> bool:
    rows = gateway.sql("SELECT upstream_account, upstream_id FROM tasks WHERE id = $1", video_id)
    return bool(rows) and rows[0][0] is not None and rows[0][1] is None


def test_results_are_kept_after_the_upstream_links_expire(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, emulator), gateway.client() as client:
        created = client.post(
            "/v1/videos", json={"model": "viduq3-pro", "prompt": "keep me", **CLIP}
        ).json()
        done = wait_final(client, created["id"])
        upstream = upstream_of(emulator, created["id"])[0]
        with httpx.Client(
            base_url=emulator.base_url, headers={"Authorization": f"Token {KEY_A}"}
        ) as vidu:
            doc = vidu.get(f"/ent/v2/tasks/{upstream['id']}/creations").json()
        emulator.admin("POST", "/expire-results")
        assert httpx.get(doc["creations"][0]["url"]).status_code == 403
        assert httpx.get(done["video_url"]).status_code == 200
        thumbnail = client.get(f"/v1/videos/{created['id']}/content?variant=thumbnail")
        assert thumbnail.status_code == 200
        assert probe_mp4(client.get(f"/v1/videos/{created['id']}/content").content).frames == 24


def test_cancel_before_and_after_the_upstream_starts(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed", queue_seconds=3.0, process_seconds=3.0)
    with vidu_gateway(tmp_path, config=config) as (gateway, emulator), gateway.client() as c:
        early = c.post("/v1/videos", json={"model": "viduq3-pro", "prompt": "early", **CLIP})
        early_id = early.json()["id"]
        wait_until(lambda: len(upstream_of(emulator, early_id)) == 1, what="the early create")
        assert c.post(f"/v1/videos/{early_id}/cancel").json()["status"] == "cancelled"
        wait_until(
            lambda: upstream_of(emulator, early_id)[0]["state"] == "failed",
            what="the upstream cancel",
        )
        assert upstream_of(emulator, early_id)[0]["err_code"] == "TaskCanceled"

        late = c.post("/v1/videos", json={"model": "viduq3-pro", "prompt": "late", **CLIP})
        late_id = late.json()["id"]
        wait_until(
            lambda: (
                bool(upstream_of(emulator, late_id))
                and upstream_of(emulator, late_id)[0]["state"] == "processing"
            ),
            timeout=20,
            what="the upstream to start",
        )
        assert c.post(f"/v1/videos/{late_id}/cancel").json()["status"] == "cancelled"
        wait_until(lambda: "task.cancel_too_late" in gateway.all_logs(), what="the log line")
        assert c.get(f"/v1/videos/{late_id}").json()["status"] == "cancelled"


def test_a_vidu_made_task_reads_on_both_surfaces(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, emulator), gateway.client() as client:
        made = client.post(
            "/vidu/ent/v2/text2video",
            json={"model": "viduq3-pro", "prompt": "both ways", **CLIP},
        ).json()
        task_id = made["task_id"]
        assert wait_final(client, task_id)["status"] == "completed"
        doc = client.get(f"/vidu/ent/v2/tasks/{task_id}/creations").json()
        assert doc["state"] == "success"
        assert httpx.get(doc["creations"][0]["url"]).status_code == 200
        assert len(upstream_tasks(emulator)) == 1


def test_a_watermarked_video_keeps_both_copies(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, _emulator), gateway.client() as client:
        created = client.post(
            "/vidu/ent/v2/text2video",
            json={"model": "viduq3-pro", "prompt": "marked", "watermark": True, **CLIP},
        ).json()
        assert wait_final(client, created["task_id"])["status"] == "completed"
        doc = client.get(f"/vidu/ent/v2/tasks/{created['task_id']}/creations").json()
        creation = doc["creations"][0]
        assert creation["url"] != creation["watermarked_url"]
        plain = httpx.get(creation["url"])
        marked = httpx.get(creation["watermarked_url"])
        assert plain.status_code == marked.status_code == 200
        assert plain.content != marked.content
        as_asked = client.get(f"/v1/videos/{created['task_id']}/content").content
        assert as_asked == marked.content  # the client asked for the watermark
        original = client.get(f"/v1/videos/{created['task_id']}/content?variant=original")
        assert original.content == plain.content


def test_the_accounts_command_shows_health_without_keys(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    keys = {"revoked": "key-nobody-knows", "a": KEY_A}
    # The revoked account is (all but) always tried first, so its 401 is certain to be seen.
    weights = {"revoked": 1e9, "a": 1e-9}
    with vidu_gateway(tmp_path, config=config, keys=keys, weights=weights) as (gateway, _):
        with gateway.client() as client:
            created = client.post("/v1/videos", json={"model": "viduq3-pro", "prompt": "x", **CLIP})
            assert wait_final(client, created.json()["id"])["status"] == "completed"
        shown = cli({**gateway.env, "COLUMNS": "200"}, "accounts")
    assert shown.returncode == 0, shown.stderr
    revoked = next(line for line in shown.stdout.splitlines() if "revoked" in line)
    assert "disabled" in revoked
    assert "Unauthorized" in revoked
    assert "key-nobody-knows" not in shown.stdout
    assert KEY_A not in shown.stdout
