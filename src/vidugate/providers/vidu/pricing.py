"""What a Vidu task costs, in Vidu's credits, before it is sent: the provider routes each
task to an account that can still afford it.

Where the numbers come from: Vidu's own pricing page was not reachable; the table below is
Vidu's credit table as republished by 302.ai (2026), "Points" per second for viduq3-pro
(14 / 30 / 32 at 540p / 720p / 1080p, off-peak half) and "Credits" per second for the q2
models (start-end: viduq2-turbo 1 / 2, viduq2-pro 2 / 4 at 720p / 1080p; viduq2 text: 8
points plus 2 per second at 540p). Ten points make one credit in those copies (viduq1's
5 s 1080p is 80 points and 8 credits). vidu2.0 is priced per clip there, not per second
(start-end: 4 s 360p 2, 720p 4, 1080p 10; 8 s 720p 10). Cells those copies leave out take
the next known price up (an over-estimate, never an under-estimate): viduq1-classic is
priced as viduq1, vidu2.0's other endpoints as its start-end videos. `is_rec` adds 10
credits (vidu-upstream.md, "Limits"); off-peak halves the price.

A price here is an estimate: Vidu's answer is what counts. The create answer's `credits`
(what Vidu charged) corrects the account's balance, a CreditInsufficient re-reads it, and
when the estimate says no account can afford a task the richest one is still asked once.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidugate.domain.request import VideoRequest

IS_REC_CREDITS = 10.0
OFF_PEAK_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    base: float = 0.0
    # Per-clip prices by duration, where a model is priced so (vidu2.0): they win.
    clips: tuple[tuple[int, float], ...] = ()

    def for_seconds(self, seconds: int) -> float:
        for duration, price in self.clips:
            if duration == seconds:
                return price
        return self.base + self.per_second * seconds


def _clips(*prices: tuple[int, float]) -> Rate:
    """A per-clip price; a duration the copies leave out costs the dearest clip's rate."""
    return Rate(per_second=max(price / seconds for seconds, price in prices), clips=prices)


_Q3_PRO = {"540p": Rate(1.4), "720p": Rate(3.0), "1080p": Rate(3.2)}
_Q2_PRO = {"540p": Rate(2.0), "720p": Rate(2.0), "1080p": Rate(4.0)}

# Upstream model -> resolution -> rate. Keyed by Vidu's model name (after the model map).
PRICES: dict[str, dict[str, Rate]] = {
    "viduq3-pro": _Q3_PRO,
    "viduq3-turbo": _Q3_PRO,  # not in the copies: the faster q3 costs less, never more
    "viduq2-pro": _Q2_PRO,
    "viduq2-pro-fast": {"540p": Rate(1.0), "720p": Rate(1.0), "1080p": Rate(2.0)},
    "viduq2-turbo": {"540p": Rate(1.0), "720p": Rate(1.0), "1080p": Rate(2.0)},
    "viduq2": {"540p": Rate(0.2, base=0.8), "720p": Rate(2.0), "1080p": Rate(4.0)},
    "viduq1": {"1080p": Rate(1.6)},  # 8 credits for its only clip, 5 s
    "viduq1-classic": {"1080p": Rate(1.6)},  # estimate: viduq1's price
    "vidu2.0": {
        "360p": _clips((4, 2.0)),
        "720p": _clips((4, 4.0), (8, 10.0)),
        "1080p": _clips((4, 10.0)),
    },
}


def estimate(request: VideoRequest, upstream_model: str) -> float | None:
    """The credits Vidu is expected to charge for this request on `upstream_model`; None
    when the table has no price for it (then only Vidu's answer tells)."""
    rate = PRICES.get(upstream_model, {}).get(request.resolution)
    if rate is None:
        return None
    credits = rate.for_seconds(request.duration)
    if request.off_peak:
        credits *= OFF_PEAK_FACTOR
    if request.is_rec:
        credits += IS_REC_CREDITS
    return round(credits, 2)
