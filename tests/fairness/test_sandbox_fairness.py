"""Fair scheduling of the sandbox's render slots, on a gateway in the test process: a
tenant's burst does not hold another tenant's videos back (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fairlib import flood_started_before_light, until_all_done

from adminlib import CLIP, operator

pytestmark = pytest.mark.asyncio

SLOTS = 2


@pytest.mark.slow
async def test_a_light_tenant_starts_within_one_slot_turn_of_a_flood(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False, sandbox_concurrency=SLOTS, sandbox_pace=0.3) as op:
        _a, _ka, flood_token = await op.tenant_with_key("0", name="flood")
        _b, _kb, light_token = await op.tenant_with_key("0", name="light")
        async with op.client(flood_token) as flood, op.client(light_token) as light:
            for i in range(40):
                made = await flood.post("/v1/videos", json={**CLIP, "prompt": f"flood {i}"})
                assert made.status_code == 200, made.text
            for i in range(5):
                made = await light.post("/v1/videos", json={**CLIP, "prompt": f"light {i}"})
                assert made.status_code == 200, made.text
        url = op.app.state.gateway.database.url
        found = await until_all_done(url, 45)
    flood_id, light_id = _a, _b
    assert all(r.status == "completed" for r in found)
    before_first, before_last = flood_started_before_light(found, flood_id, light_id)
    # Only what held or had just been given a slot when the light tenant came: at most
    # one slot's turn. First come first served would start the flood's ~38 first.
    assert before_first <= SLOTS, before_first
    # Then turns: the light tenant's 5 go before at most about as many of the flood's.
    assert before_last <= SLOTS + 5, before_last
