"""deploy/grafana/month-end.json is a dashboard Grafana loads, and every series it queries is
one the processes export (kernel/metrics.py, gateway/metrics.py, prometheus_client's own):
a renamed metric would leave a panel silently empty on the night it is needed."""
import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import gateway.metrics  # noqa: F401 - registers the gateway's metrics
import kernel.metrics  # noqa: F401 - registers the services' metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "month-end.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
            "gauge": ("",), "summary": ("", "_sum", "_count")}
SERIES = re.compile(r"\b((?:challenge|process|python)_[a-z_]+)\b")


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def queries() -> list[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def test_the_dashboard_is_grafana_json_with_the_month_end_panels():
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 30
    titles = " | ".join(panel["title"].lower() for panel in board["panels"])
    for wanted in ("submits per second", "latency", "outbox backlog", "event lag",
                   "dead letters", "month close"):
        assert wanted in titles, wanted
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])


def test_every_series_the_dashboard_queries_is_exported():
    known = exported()
    asked = {name for expr in queries() for name in SERIES.findall(expr)}
    assert asked, "no series found in the dashboard"
    assert asked <= known, sorted(asked - known)
