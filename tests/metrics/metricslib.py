"""Reading /metrics as Prometheus does (prometheus_client.parser), for the metrics tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scraped:
    """One scrape's samples: (sample name, sorted labels) -> value."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    @classmethod
    def parse(cls, text: str) -> Scraped:
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return cls(samples)

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels (0 when there is none)."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples whose labels include these."""
        return sum(
            value
            for (sample, found), value in self.samples.items()
            if sample == name and _within(labels, dict(found))
        )

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def _within(wanted: Mapping[str, str], found: Mapping[str, str]) -> bool:
    return all(found.get(k) == v for k, v in wanted.items())


def delta(before: Scraped, after: Scraped, name: str, **labels: str) -> float:
    return after.total(name, **labels) - before.total(name, **labels)
