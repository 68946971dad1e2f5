"""The fair choice itself (domain/scheduling.py): use over weight, age within a tenant,
tiers first."""

from __future__ import annotations

from vidugate.domain.scheduling import Waiting, choose


def heads(*tenants: str, tier: int = 0) -> dict[str, list[Waiting]]:
    return {t: [Waiting(f"{t}{i}", t, tier, float(i)) for i in range(10)] for t in tenants}


def test_the_lowest_use_over_weight_goes_first() -> None:
    chosen = choose(6, {"a": 4, "b": 0, "c": 1}, {"a": 1, "b": 1, "c": 2}, heads("a", "b", "c"))
    # b (0+1)/1 and c (1+1)/2 tie: the older head (then the name) first; a (4+1) waits.
    assert [w.tenant for w in chosen] == ["b", "c", "c", "b", "c", "c"]


def test_within_a_tenant_the_oldest_first() -> None:
    chosen = choose(3, {}, {}, heads("a"))
    assert [w.id for w in chosen] == ["a0", "a1", "a2"]


def test_a_lower_tier_waits_for_every_task_of_a_higher_one() -> None:
    waiting = {**heads("a", tier=1), "b": [Waiting("b0", "b", 0, 5.0)]}
    chosen = choose(3, {"b": 100}, {}, waiting)
    assert [w.id for w in chosen] == ["b0", "a0", "a1"]


def test_no_more_than_the_free_slots() -> None:
    assert choose(0, {}, {}, heads("a")) == []
    assert len(choose(25, {}, {}, heads("a", "b"))) == 20
