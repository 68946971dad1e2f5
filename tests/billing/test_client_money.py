"""A client key's money over HTTP: its balance and spend, its own usage, a quote that is
the create's price and creates nothing, its spend cap (402 spend_cap_reached), and the
price rules GET /v1/models shows once the operator sets prices. On both backends."""

from __future__ import annotations

import base64
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from adminlib import CLIP, PRICES, error_of, finished, operator
from imagelib import flat_png

pytestmark = pytest.mark.asyncio


async def test_balance_shows_the_tenant_and_the_keys_own_spend(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        tenant_id, _key, token = await op.tenant_with_key("2", cap="1.5")
        async with op.client(token) as client:
            before = await client.get("/v1/balance")
            assert before.status_code == 200, before.text
            assert before.json() == {
                "object": "balance",
                "tenant_id": tenant_id,
                "balance": "2.00",
                "overdraft": "0.00",
                "currency": "EUR",
                "spend_cap": "1.50",
                "spent": "0.00",
            }
            created = await client.post("/v1/videos", json=CLIP)
            await finished(client, created.json()["id"])
            after = (await client.get("/v1/balance")).json()
        assert (after["balance"], after["spent"]) == ("1.90", "0.10")
        await op.balanced()


async def test_without_prices_the_balance_has_no_currency(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False) as op:
        _tenant, _key, token = await op.tenant_with_key("0")
        async with op.client(token) as client:
            body = (await client.get("/v1/balance")).json()
            assert (body["currency"], body["balance"], body["spend_cap"]) == (None, "0.00", None)
            quote = await client.post("/v1/videos/quote", json=CLIP)
            assert quote.status_code == 200, quote.text
            assert quote.json()["price"] is None
        await op.balanced()


async def test_a_key_reads_only_its_own_usage(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        tenant_id, _key, first = await op.tenant_with_key("5")
        second = await op.admin.post("/admin/v1/keys", json={"tenant_id": tenant_id, "name": "two"})
        second_token = second.json()["token"]
        for token, count in ((first, 2), (second_token, 1)):
            async with op.client(token) as client:
                for _ in range(count):
                    created = await client.post("/v1/videos", json=CLIP)
                    assert created.status_code == 200, created.text
                    await finished(client, created.json()["id"])
        async with op.client(first) as client:
            usage = await client.get("/v1/usage")
            assert usage.status_code == 200, usage.text
            assert usage.headers["x-truncated"] == "false"
            (line,) = usage.json()["data"]
            assert (line["group"], line["videos"], line["settled_count"]) == ("viduq2-turbo", 2, 2)
            assert line["charged_amount"] == "0.20"
            assert usage.json()["totals"]["charged_amount"] == "0.20"
            by_day = await client.get("/v1/usage", params={"group_by": "day", "format": "csv"})
            assert by_day.headers["content-type"] == "text/csv; charset=utf-8"
            rows = list(csv.DictReader(io.StringIO(by_day.text)))
            assert [(r["videos"], r["charged_amount"]) for r in rows] == [("2", "0.20")]
            assert len(rows[0]["day"]) == len("2026-12-04")
            later = await client.get("/v1/usage", params={"since": "2199-01-01"})
            assert later.json()["data"] == []
            assert (
                error_of(await client.get("/v1/usage", params={"group_by": "tenant"}), 400)["param"]
                == "group_by"
            )
        async with op.client(second_token) as client:
            (line,) = (await client.get("/v1/usage")).json()["data"]
            assert (line["videos"], line["charged_amount"]) == (1, "0.10")
        await op.balanced()


async def test_a_quote_is_the_creates_price_and_creates_nothing(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        tenant_id, _key, token = await op.tenant_with_key("1")
        clip = {**CLIP, "duration": 2, "resolution": "720p"}
        async with op.client(token) as client:
            quote = await client.post("/v1/videos/quote", json=clip)
            assert quote.status_code == 200, quote.text
            assert quote.json() == {
                "object": "video.quote",
                "model": "viduq2-turbo",
                "mode": "text2video",
                "duration": 2,
                "resolution": "720p",
                "price": {
                    "amount": "0.40",
                    "currency": "EUR",
                    "lines": [{"label": "720p, 2 s at 0.2/s", "amount": "0.40"}],
                },
            }
            form = {key: (None, str(value)) for key, value in clip.items()}
            multipart = await client.post("/v1/videos/quote", files=form)
            assert multipart.json()["price"] == quote.json()["price"]
            # An image given by URL is not fetched: the quote is the price of the request.
            with_image = await client.post(
                "/v1/videos/quote", json={**clip, "images": "http://192.0.2.1/none.png"}
            )
            assert with_image.status_code == 200, with_image.text
            assert with_image.json()["mode"] == "img2video"
            assert (await client.get("/v1/videos")).json()["data"] == []
            assert (await client.get("/v1/balance")).json()["balance"] == "1.00"

            bad = {**clip, "duration": 99}
            quoted, created = (
                await client.post("/v1/videos/quote", json=bad),
                await client.post("/v1/videos", json=bad),
            )
            assert error_of(quoted, 400) == error_of(created, 400)
            unpriced = await client.post("/v1/videos/quote", json={**clip, "model": "viduq3-pro"})
            assert error_of(unpriced, 400)["param"] == "model"
            assert error_of(await client.post("/v1/videos/quote", content=b"x"), 415)

            made = await client.post("/v1/videos", json=clip)
            assert made.status_code == 200, made.text
        assert Decimal(made.json()["price"]["amount"]) == Decimal(quote.json()["price"]["amount"])
        ledger = await op.admin.get("/admin/v1/ledger", params={"tenant_id": tenant_id})
        assert [r["kind"] for r in ledger.json()["data"]] == ["topup", "reserve"]
        async with op.client(op.admin_token) as admin:
            assert (await admin.post("/v1/videos/quote", json=clip)).status_code == 401
        async with op.client(token) as client:
            await finished(client, made.json()["id"])
        await op.balanced()


async def test_a_key_at_its_spend_cap_gets_402(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        tenant_id, key_id, token = await op.tenant_with_key("5", cap="0.15")
        async with op.client(token) as client:
            first = await client.post("/v1/videos", json=CLIP)
            assert first.status_code == 200, first.text
            refused = error_of(await client.post("/v1/videos", json=CLIP), 402)
            assert refused["code"] == "spend_cap_reached"
            assert "spend cap" in refused["message"]
            assert [v["id"] for v in (await client.get("/v1/videos")).json()["data"]] == [
                first.json()["id"]
            ]
            raised = await op.admin.patch(f"/admin/v1/keys/{key_id}", json={"spend_cap": "0.20"})
            assert raised.json()["spend_cap"] == "0.20"
            second = await client.post("/v1/videos", json=CLIP)
            assert second.status_code == 200, second.text
            for video in (first, second):
                await finished(client, video.json()["id"])
        tenant = (await op.admin.get(f"/admin/v1/tenants/{tenant_id}")).json()
        assert tenant["balance"] == "4.80"
        await op.balanced()


async def test_models_show_their_price_rules_once_prices_are_set(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False) as op:
        _tenant, _key, token = await op.tenant_with_key("0")
        async with op.client(token) as client:
            listed = (await client.get("/v1/models")).json()["data"]
            assert {model["pricing"] for model in listed} == {None}
            assert (await op.admin.put("/admin/v1/prices", json=PRICES)).status_code == 200
            turbo = (await client.get("/v1/models/viduq2-turbo")).json()
            assert turbo["pricing"] == {
                "currency": "EUR",
                "decimals": 2,
                "base": "0",
                "per_second": {"540p": "0.1", "720p": "0.2", "1080p": "0.4"},
                "adjustments": [],
            }
            listed = {
                m["id"]: m["pricing"] for m in (await client.get("/v1/models")).json()["data"]
            }
            assert listed["viduq2-turbo"] == turbo["pricing"]
            assert listed["viduq3-pro"] is None
            cheaper = {
                **PRICES,
                "adjustments": [{"when": "off_peak", "percent": "-50"}],
            }
            assert (await op.admin.put("/admin/v1/prices", json=cheaper)).status_code == 200
            turbo = (await client.get("/v1/models/viduq2-turbo")).json()
            assert turbo["pricing"]["adjustments"] == [
                {"when": "off_peak", "add": "0", "per_second": "0", "percent": "-50"}
            ]
        await op.balanced()


async def test_a_quote_prices_start_end_and_reference_videos_by_mode(tmp_path: Path) -> None:
    """The two-to-seven-image modes, made on Vidu's routes, are quoted on /v1 with `mode`
    and an image count: the price a create on that route then reserves."""
    adjusted = {**PRICES, "adjustments": [{"when": "start-end2video", "percent": "50"}]}
    async with operator(tmp_path) as op:
        assert (await op.admin.put("/admin/v1/prices", json=adjusted)).status_code == 200
        _tenant_id, _key, token = await op.tenant_with_key("5")
        clip = {**CLIP, "duration": 2}
        async with op.client(token) as client:
            quoted = await client.post(
                "/v1/videos/quote", params={"mode": "start-end2video"}, json=clip
            )
            assert quoted.status_code == 200, quoted.text
            assert quoted.json()["mode"] == "start-end2video"
            assert quoted.json()["price"]["amount"] == "0.30"  # 0.20 and half again
            png = base64.b64encode(flat_png(320, 180)).decode()
            images = [f"data:image/png;base64,{png}"] * 2
            made = await client.post(
                "/vidu/ent/v2/start-end2video", json={**clip, "images": images}
            )
            assert made.status_code == 200, made.text
            video = await client.get(f"/v1/videos/{made.json()['task_id']}")
            assert video.json()["price"]["amount"] == "0.30"
            # The model's own rules apply: viduq2-turbo makes no reference videos.
            reference = await client.post(
                "/v1/videos/quote", params={"mode": "reference2video"}, json=clip
            )
            assert "reference2video" in error_of(reference, 400)["message"]
            too_many = await client.post(
                "/v1/videos/quote",
                params={"mode": "start-end2video", "image_count": 3},
                json=clip,
            )
            assert error_of(too_many, 400)["param"] == "images"
            stray = await client.post("/v1/videos/quote", params={"image_count": 2}, json=clip)
            assert error_of(stray, 400)["param"] == "image_count"
            wrong = await client.post("/v1/videos/quote", params={"mode": "sideways"}, json=clip)
            assert wrong.status_code == 400, wrong.text
        await op.balanced()
