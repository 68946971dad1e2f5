"""A price table the price tests share (tests/domain/test_prices.py and
test_price_documents.py): the same table as TOML, as JSON and built in code, and a request
to price."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidugate.domain.models import Mode
from vidugate.domain.price_documents import loads_prices
from vidugate.domain.prices import PriceTable
from vidugate.domain.request import VideoRequest

EXAMPLE = Path(__file__).resolve().parents[1] / "prices.example.toml"

TABLE_TOML = """
currency = "USD"

[[adjustments]]
when = "off_peak"
percent = "-50"

[[adjustments]]
when = "is_rec"
add = "0.05"

[models."viduq3-pro"]
base = "0.10"
per_second = { "540p" = "0.05", "720p" = 0.08, "1080p" = "0.15" }

[[models."viduq3-pro".adjustments]]
when = "audio"
per_second = "0.02"

[[models."viduq3-pro".adjustments]]
when = "start-end2video"
percent = 10

[models.viduq1]
per_second = { "1080p" = "0.08" }
"""

TABLE_JSON = """{
  "currency": "USD",
  "adjustments": [
    {"when": "off_peak", "percent": -50},
    {"when": "is_rec", "add": "0.050"}
  ],
  "models": {
    "viduq1": {"per_second": {"1080p": 0.08}},
    "viduq3-pro": {
      "base": 0.1,
      "per_second": {"1080p": "0.15", "720p": "0.08", "540p": 0.05},
      "adjustments": [
        {"when": "audio", "per_second": "0.02"},
        {"when": "start-end2video", "percent": "10"}
      ]
    }
  }
}"""


def table() -> PriceTable:
    return loads_prices(TABLE_TOML, format="toml")


def doc() -> dict[str, Any]:
    """The table above as a document built in code, for the tests to break."""
    return {
        "currency": "USD",
        "adjustments": [{"when": "off_peak", "percent": "-50"}],
        "models": {
            "viduq3-pro": {
                "base": "0.10",
                "per_second": {"540p": "0.05", "720p": "0.08", "1080p": "0.15"},
                "adjustments": [{"when": "audio", "per_second": "0.02"}],
            }
        },
    }


def request(
    model: str = "viduq3-pro",
    *,
    mode: Mode = Mode.TEXT,
    resolution: str = "720p",
    duration: int = 5,
    audio: bool = False,
    bgm: bool = False,
    is_rec: bool = False,
    off_peak: bool = False,
) -> VideoRequest:
    return VideoRequest(
        model=model,
        mode=mode,
        prompt="x",
        aspect_ratio="16:9",
        resolution=resolution,
        duration=duration,
        seed=0,
        audio=audio,
        bgm=bgm,
        voice_id=None,
        is_rec=is_rec,
        payload=None,
        off_peak=off_peak,
        watermark=False,
        wm_position=0,
        wm_url=None,
        meta_data=None,
    )
