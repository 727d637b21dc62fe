"""What the gateway has answered, for Prometheus (`GET /metrics`), in the process's
prometheus_client registry (kernel/metrics.py: beside the process's own figures, and in the
embedded mode every service's).

Counted per route template (never per raw path: ids would make a series each): requests by
method, route and status, their latency as a histogram, requests in flight, and, refreshed
by each `/readyz`, whether each service answered. Each gateway replica has its own figures;
Prometheus sums them across pods.
"""
from __future__ import annotations

import time

from nameko.extensions import DependencyProvider, SharedExtension
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest

from kernel.metrics import BUCKETS

START = Gauge("challenge_gateway_start_time_seconds", "When this gateway process started.")
IN_FLIGHT = Gauge("challenge_http_requests_in_flight", "Requests being answered now.")
REQUESTS = Counter("challenge_http_requests",
                   "Requests answered, by method, route template and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("challenge_http_request_duration_seconds",
                    "Time to answer, by method and route template.", ["method", "route"],
                    buckets=BUCKETS)
SHED = Histogram("challenge_http_shed_duration_seconds",
                 "API requests refused 503 `overloaded` by admission control (HTTP_MAX_PENDING), "
                 "by the time taken to refuse them.",
                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
SERVICE_UP = Gauge("challenge_service_up",
                   "Whether the service answered the last /readyz ping (1) or not (0).",
                   ["service"])
START.set(time.time())


class Figures:
    """The gateway's side of the registry: what its entrypoints and routes record."""

    @staticmethod
    def begin() -> None:
        IN_FLIGHT.inc()

    @staticmethod
    def observe(method: str, route: str, status: int, seconds: float) -> None:
        IN_FLIGHT.dec()
        REQUESTS.labels(method, route, int(status)).inc()
        LATENCY.labels(method, route).observe(seconds)

    @staticmethod
    def services(answers: dict[str, bool]) -> None:
        for name, up in answers.items():
            SERVICE_UP.labels(name).set(int(up))

    @staticmethod
    def text() -> bytes:
        """The whole registry of the process, in Prometheus' text format."""
        return generate_latest(REGISTRY)


class HttpMetrics(SharedExtension):
    """What every route and the `/metrics` page record to (one registry per process)."""

    def setup(self):
        self.registry = Figures()


class Metrics(DependencyProvider):
    shared = HttpMetrics()

    def get_dependency(self, worker_ctx):
        return self.shared.registry
