"""What the gateway has answered, for Prometheus (`GET /metrics`, text format 0.0.4).

Counted in the gateway process, per route template (never per raw path: ids would make a
series each): requests by method, route and status, their latency as a histogram, requests
in flight, and, refreshed by each `/readyz`, whether each service answered. Each gateway
replica has its own figures; Prometheus sums them across pods.
"""
from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict

from nameko.extensions import DependencyProvider, SharedExtension

# seconds: a ping RPC is ~5 ms, a draw ~20 ms, an import can take a minute
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _labels(**labels) -> str:
    def escape(value):
        return str(value).replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


class Registry:
    def __init__(self, clock=time.time):
        self.lock = threading.Lock()
        self.started = clock()
        self.requests = defaultdict(int)  # (method, route, status) -> count
        self.buckets = defaultdict(lambda: [0] * len(BUCKETS))  # (method, route) -> counts
        self.sums = defaultdict(float)
        self.counts = defaultdict(int)
        self.in_flight = 0
        self.services_up: dict[str, bool] = {}

    def begin(self):
        with self.lock:
            self.in_flight += 1

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        with self.lock:
            self.in_flight -= 1
            self.requests[(method, route, int(status))] += 1
            place = bisect.bisect_left(BUCKETS, seconds)
            if place < len(BUCKETS):
                self.buckets[key][place] += 1
            self.sums[key] += seconds
            self.counts[key] += 1

    def services(self, answers: dict[str, bool]) -> None:
        with self.lock:
            self.services_up = dict(answers)

    def text(self) -> str:
        with self.lock:
            lines = [
                "# HELP challenge_gateway_start_time_seconds When this gateway process started.",
                "# TYPE challenge_gateway_start_time_seconds gauge",
                f"challenge_gateway_start_time_seconds {self.started:.3f}",
                "# HELP challenge_http_requests_in_flight Requests being answered now.",
                "# TYPE challenge_http_requests_in_flight gauge",
                f"challenge_http_requests_in_flight {self.in_flight}",
                "# HELP challenge_http_requests_total Requests answered, by method, route "
                "template and status.",
                "# TYPE challenge_http_requests_total counter",
            ]
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append("challenge_http_requests_total"
                             f"{_labels(method=method, route=route, status=status)} {count}")
            lines += ["# HELP challenge_http_request_duration_seconds Time to answer, by "
                      "method and route template.",
                      "# TYPE challenge_http_request_duration_seconds histogram"]
            for key in sorted(self.counts):
                method, route = key
                running = 0
                for bound, count in zip(BUCKETS, self.buckets[key]):
                    running += count
                    lines.append("challenge_http_request_duration_seconds_bucket"
                                 f"{_labels(method=method, route=route, le=bound)} {running}")
                lines.append("challenge_http_request_duration_seconds_bucket"
                             f"{_labels(method=method, route=route, le='+Inf')} "
                             f"{self.counts[key]}")
                lines.append("challenge_http_request_duration_seconds_sum"
                             f"{_labels(method=method, route=route)} {self.sums[key]:.6f}")
                lines.append("challenge_http_request_duration_seconds_count"
                             f"{_labels(method=method, route=route)} {self.counts[key]}")
            lines += ["# HELP challenge_service_up Whether the service answered the last "
                      "/readyz ping (1) or not (0).",
                      "# TYPE challenge_service_up gauge"]
            for name, up in sorted(self.services_up.items()):
                lines.append(f"challenge_service_up{_labels(service=name)} {int(up)}")
            return "\n".join(lines) + "\n"


class HttpMetrics(SharedExtension):
    """One registry per gateway container, shared by every route and the `/metrics` page."""

    def setup(self):
        self.registry = Registry()


class Metrics(DependencyProvider):
    shared = HttpMetrics()

    def get_dependency(self, worker_ctx):
        return self.shared.registry
