"""What every process counts, for Prometheus (prometheus_client's registry of the process).

Each service's `Metrics` (mixed in by `kernel.entrypoints.Answers`) times every worker: an RPC
by method, an event handler by event type (handled or failed, and how long after the event
happened it was applied: the event lag), a timer by name, each with its outcome. On each
scrape it reads its outbox: how many events wait to be published and how old the oldest is.
Dead letters and the month close are counted where they happen (kernel/entrypoints.py,
ranking). The registry also holds what prometheus_client gives every process: CPU, memory,
open descriptors, garbage collections.

Where it is read: a service process serves it on METRICS_PORT (`/metrics`, 0 = not served);
the gateway serves its process's at its own `GET /metrics`. In the embedded mode every
service runs in the gateway's process, so that page holds them all.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from prometheus_client import (REGISTRY, Counter, Histogram, disable_created_metrics,
                               start_http_server)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from kernel import clock
from kernel.db import Database
from kernel.errors import ChallengeError
from kernel.knobs import knob

log = logging.getLogger(__name__)

disable_created_metrics()  # a `_created` series per counter doubles the series for nothing

# seconds: a ping is ~5 ms, a draw ~20 ms, an import can take a minute
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# an event waits for the relay's poll (0.2 s), then the broker and the handler's queue
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
# a month close ranks every pass of the month: seconds for a unit, minutes for a province
CLOSE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

RPC_SECONDS = Histogram(
    "challenge_rpc_duration_seconds",
    "Time a service took to answer an RPC, by service, method and outcome "
    "(ok, refused: one of our errors, error: anything else).",
    ["service", "method", "outcome"], buckets=BUCKETS)
EVENTS = Counter(
    "challenge_events_handled",
    "Events a service's handlers ran, by service, event type and outcome (ok, failed).",
    ["service", "event_type", "outcome"])
EVENT_LAG = Histogram(
    "challenge_event_lag_seconds",
    "From an event's occurred_at to a handler having applied it, by service and event type.",
    ["service", "event_type"], buckets=LAG_BUCKETS)
TIMER_SECONDS = Histogram(
    "challenge_timer_duration_seconds",
    "Time a periodic job took, by service, timer and outcome.",
    ["service", "timer", "outcome"], buckets=BUCKETS)
DEAD_LETTERS = Counter(
    "challenge_dead_letters",
    "Events a handler failed for good and sent to its dead-letter queue (dead.<queue>), "
    "by service and event type.",
    ["service", "event_type"])
MONTH_CLOSE_SECONDS = Histogram(
    "challenge_month_close_duration_seconds",
    "Time ranking took to close a month (cutoff, attempts' count, snapshot).",
    buckets=CLOSE_BUCKETS)


def outcome_of(exc_info) -> str:
    if exc_info is None:
        return "ok"
    return "refused" if isinstance(exc_info[1], ChallengeError) else "error"


class OutboxCollector:
    """Each running service's outbox, read on scrape: one indexed query each (the unsent rows
    are found by `ix_outbox_unsent`, and a healthy backlog is a handful of rows)."""

    def __init__(self):
        self.outboxes: dict[str, tuple] = {}  # service -> (engine, table)

    def collect(self):
        backlog = GaugeMetricFamily(
            "challenge_outbox_backlog", "Events written to a service's outbox and not yet "
            "published.", labels=["service"])
        oldest = GaugeMetricFamily(
            "challenge_outbox_oldest_unsent_age_seconds", "How long the oldest unpublished "
            "event has waited in its service's outbox (0 when none waits).",
            labels=["service"])
        for service, (engine, table) in sorted(self.outboxes.items()):
            try:
                count, first = unsent(engine, table)
            except Exception as exc:  # noqa: BLE001 - the database away: no figure this time
                log.debug("%s: outbox not read for metrics (%s)", service, exc)
                continue
            backlog.add_metric([service], count)
            oldest.add_metric([service], age_of(first))
        yield backlog
        yield oldest


def unsent(engine, table) -> tuple[int, datetime | None]:
    query = select(func.count(), func.min(table.c.created_at)).where(table.c.sent_at.is_(None))
    with engine.connect() as conn:
        count, first = conn.execute(query).one()
    return count, first


def age_of(first) -> float:
    if first is None:
        return 0.0
    if first.tzinfo is None:  # SQLite without the column type's conversion
        first = clock.utc(first)
    return max(0.0, (clock.current().now() - first).total_seconds())


OUTBOXES = OutboxCollector()
REGISTRY.register(OUTBOXES)


class _Server:
    """The process's one metrics port: the first container that asks starts it."""

    lock = threading.Lock()
    port = None

    @classmethod
    def serve(cls, port: int) -> None:
        with cls.lock:
            if cls.port is None:
                start_http_server(port)
                cls.port = port
                log.info("metrics served on port %d (/metrics)", port)


class Metrics(DependencyProvider):
    """Times every worker of the service and reads its outbox for the scrape; serves the
    process's metrics on METRICS_PORT when that is not 0."""

    def setup(self):
        self.service = self.container.service_name
        self.port = knob(self.container.config, "METRICS_PORT")
        self.started: dict[int, float] = {}
        database = next((d for d in self.container.dependencies if isinstance(d, Database)),
                        None)
        self.outbox = database and database.base.metadata.tables.get("outbox")
        self.database = database

    def start(self):
        if self.outbox is not None:
            OUTBOXES.outboxes[self.service] = (self.database.engine, self.outbox)
        if self.port:
            _Server.serve(self.port)

    def stop(self):
        OUTBOXES.outboxes.pop(self.service, None)

    def kill(self):
        self.stop()

    def worker_setup(self, worker_ctx):
        self.started[id(worker_ctx)] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(id(worker_ctx), None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, Rpc):
            RPC_SECONDS.labels(self.service, entrypoint.method_name,
                               outcome_of(exc_info)).observe(seconds)
        elif isinstance(entrypoint, EventHandler):
            self.handled(entrypoint.event_type, worker_ctx.args, exc_info)
        elif isinstance(entrypoint, Timer):
            TIMER_SECONDS.labels(self.service, entrypoint.method_name,
                                 outcome_of(exc_info)).observe(seconds)

    def worker_teardown(self, worker_ctx):
        self.started.pop(id(worker_ctx), None)  # a worker that never reached its result

    def handled(self, event_type, args, exc_info):
        """One event, or each of a batch's (kernel/batching.py: a list of bodies)."""
        given = args[0] if args else None
        events = given if isinstance(given, list) else [given]
        EVENTS.labels(self.service, event_type,
                      "ok" if exc_info is None else "failed").inc(len(events))
        if exc_info is not None:
            return
        now = clock.current().now()
        for event in events:
            occurred = event.get("occurred_at") if isinstance(event, dict) else None
            try:
                lag = (now - datetime.fromisoformat(occurred)).total_seconds()
            except (TypeError, ValueError):
                continue
            EVENT_LAG.labels(self.service, event_type).observe(max(0.0, lag))
