"""Edges of input found by driving the gateway from outside: a multipart body cut off before
its closing boundary, an idempotent replay after DELETE, and signed-link parameters that
look like numbers to str.isdigit() but are none."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import image_bytes
from gatewaylib import SECRET, Gateway
from vidugate.services.signing import UrlSigner

FAST = {"model": "viduq2-turbo", "prompt": "a red kite", "duration": 1, "resolution": "540p"}
BOUNDARY = "edge-boundary-7"


def tasks_of(gateway: Gateway, key: str) -> int:
    digest = hashlib.sha256(key.encode()).hexdigest()
    rows = gateway.sql(
        "SELECT count(*) FROM tasks JOIN api_keys ON tasks.key_id = api_keys.id "
        "WHERE api_keys.key_hash = $1",
        digest,
    )
    return int(rows[0][0])


def stored_inputs(gateway: Gateway) -> set[Path]:
    return set((gateway.data_dir / "media").glob("inputs/**/*"))


def multipart(png: bytes) -> bytes:
    fields = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {**FAST, "model": "viduq2-pro"}.items()
    )
    image = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="images"; filename="in.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return fields.encode() + image + png + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_multipart_body_cut_off_before_its_closing_boundary_creates_nothing(
    gateway: Gateway,
) -> None:
    key = gateway.new_key("cut-multipart")
    png = image_bytes(320, 240)
    whole = multipart(png)
    start_of_image = whole.index(png)
    cuts = {
        "inside the image": whole[: start_of_image + len(png) // 2],
        "inside the image part's headers": whole[: whole.index(b'filename="in.png"')],
        "before the closing dashes": whole[: whole.rindex(b"--\r\n")],
    }
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    inputs_before = stored_inputs(gateway)
    with gateway.client(key) as client:
        for where, body in cuts.items():
            # httpx sends Content-Length = len(body): the server gets all that was sent.
            response = client.post("/v1/videos", content=body, headers=headers)
            assert response.status_code == 400, (where, response.text)
            assert "closing boundary" in response.json()["error"]["message"], where
        assert tasks_of(gateway, key) == 0
        assert stored_inputs(gateway) == inputs_before
        whole_answer = client.post("/v1/videos", content=whole, headers=headers)
        assert whole_answer.status_code == 200, whole_answer.text  # the same body, uncut
        client.post(f"/v1/videos/{whole_answer.json()['id']}/cancel")


@pytest.mark.parametrize(
    ("path", "body", "id_field"),
    [
        ("/v1/videos", FAST, "id"),
        ("/vidu/ent/v2/text2video", {**FAST, "model": "viduq2"}, "task_id"),
    ],
)
def test_an_idempotent_replay_after_delete_does_not_bring_the_task_back(
    gateway: Gateway, path: str, body: dict[str, Any], id_field: str
) -> None:
    key = gateway.new_key("replay-after-delete")
    headers = {"Idempotency-Key": "order-after-delete"}
    with gateway.client(key) as client:
        first = client.post(path, json=body, headers=headers)
        assert first.status_code == 200, first.text
        video_id = first.json()[id_field]
        assert client.delete(f"/v1/videos/{video_id}").status_code == 200
        replay = client.post(path, json=body, headers=headers)
        assert replay.status_code == 409, replay.text
        answer = replay.json()
        if path.startswith("/vidu/"):
            assert answer["reason"] == "Conflict"
            message = answer["message"]
        else:
            assert answer["error"]["code"] == "conflict"
            assert answer["error"]["param"] == "Idempotency-Key"
            message = answer["error"]["message"]
        assert "deleted" in message
        assert "new Idempotency-Key" in message
        assert client.get(f"/v1/videos/{video_id}").status_code == 404
        assert client.get("/v1/videos").json()["data"] == []
        assert tasks_of(gateway, key) == 1  # nothing made again either
        fresh = client.post(path, json=body, headers={"Idempotency-Key": "order-2"})
        assert fresh.status_code == 200
        client.delete(f"/v1/videos/{fresh.json()[id_field]}")


# Each of these: any str.isdigit() passes, int() refuses ("\u00b2" superscript two,
# "\u0663" Arabic-Indic three, "\u2468" circled nine), or no time the signer writes.
ODD_EXPIRES = ["%C2%B2", "%D9%A3%D9%A3", "%E2%91%A8", "1%C2%B2", "", "-1", "+1", " 1", "1 ", "1e3"]


def test_odd_expires_and_signatures_are_a_403_never_a_500(gateway: Gateway) -> None:
    with gateway.client(gateway.new_key("links")) as client:
        created = client.post("/v1/videos", json=FAST).json()
    video_id = created["id"]
    good = parse_qs(urlsplit("?" + UrlSigner(SECRET.encode(), 3600).sign(video_id, "input0")).query)
    signature = good["signature"][0]
    routes = [
        f"/v1/videos/{video_id}/content?variant=video",
        f"/v1/videos/{video_id}/content?variant=thumbnail",
        f"/v1/videos/{video_id}/content?variant=original",
        f"/v1/videos/{video_id}/content?variant=spritesheet",
        f"/v1/inputs/{video_id}/0?",
    ]
    answers: list[tuple[str, int]] = []
    for route in routes:
        for expires in [*ODD_EXPIRES, "9" * 13, "9" * 32]:
            url = f"{gateway.base_url}{route}&expires={expires}&signature={signature}"
            answers.append((url, httpx.get(url).status_code))
        # A signature that is not ASCII (hmac.compare_digest refuses to compare a str
        # with anything else in it).
        url = f"{gateway.base_url}{route}&expires=99999999999&signature=%C3%A9{signature[1:]}"
        answers.append((url, httpx.get(url).status_code))
    assert [a for a in answers if a[1] != 403] == []


def test_fuzz_corpus_covers_the_signed_link_routes() -> None:
    from fuzzlib import GENERATORS, corpus

    assert any(g.__name__ == "signed_link_junk" for g in GENERATORS)
    paths = {case.path.split("?")[0].split("/")[2] for case in corpus(1, 400)}
    assert {"videos", "inputs"} <= paths
