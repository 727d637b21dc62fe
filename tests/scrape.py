"""Reading a Prometheus page in tests: `scrape(url)` is {(name, labels): value}, and
`figure(seen, name, **labels)` one sample of it (0 when absent: a counter not yet counted)."""
from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples}


def scrape(url: str) -> dict:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return samples(answer.text)


def figure(seen: dict, name: str, **labels) -> float:
    return seen.get((name, frozenset((k, str(v)) for k, v in labels.items())), 0.0)
