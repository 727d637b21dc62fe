"""The request counts the gateway's replicas share, in the gateway's schema of the shared
database (`limit_counts`, migrated by `challenge migrate`).

A window of `seconds` is counted in fixed buckets (scope, subject, window_start); a hit is
weighed against the current bucket plus the previous one scaled by how much of it still lies
inside the sliding window (the usual two-bucket estimate of a sliding window: no burst of
twice the limit across a bucket's edge). One statement admits or refuses a hit, atomically
across replicas: it inserts or increments the current bucket only while the estimate stays
under the limit, and returns the new count, or no row when the hit is refused (a refused hit
is not counted, as in the in-process window). No transaction is held: the engine runs in
autocommit, one round trip a request, and commits without waiting for the disk.
"""
from __future__ import annotations

import math
import time

from nameko.extensions import SharedExtension
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, event, text

from kernel.db import NAMING, service_engine

metadata = MetaData(naming_convention=NAMING)
limit_counts = Table(
    "limit_counts", metadata,
    Column("scope", String(20), primary_key=True),      # codes, tries, member
    Column("subject", String(100), primary_key=True),   # a client address, a member id
    Column("window_start", BigInteger, primary_key=True),  # epoch seconds, a bucket's start
    Column("n", Integer, nullable=False),
    Column("expires", BigInteger, nullable=False),      # no longer read after this (sweep)
    Index("ix_limit_counts_expires", "expires"),
)

PREVIOUS = ("COALESCE((SELECT p.n FROM limit_counts p WHERE p.scope = :scope "
            "AND p.subject = :subject AND p.window_start = :previous), 0)")
HIT = text(f"""
INSERT INTO limit_counts (scope, subject, window_start, n, expires)
SELECT :scope, :subject, :start, 1, :expires
WHERE :weight * {PREVIOUS} < :limit
ON CONFLICT (scope, subject, window_start) DO UPDATE SET n = limit_counts.n + 1
WHERE limit_counts.n + :weight * {PREVIOUS} < :limit
RETURNING n
""")
BUCKETS = text("SELECT window_start, n FROM limit_counts WHERE scope = :scope "
               "AND subject = :subject AND window_start IN (:start, :previous)")
SWEEP = text("DELETE FROM limit_counts WHERE expires < :now")
SWEEP_EVERY = 60.0  # seconds between one replica's deletions of spent buckets


class Counters:
    """The shared counts over an engine (PostgreSQL in production; SQLite in unit tests)."""

    def __init__(self, engine, clock=time.time):
        self.engine, self.clock = engine, clock
        self.swept = 0.0

    def hit(self, scope: str, subject: str, limit: int, seconds: int) -> int:
        """Count a hit if it keeps `subject` under `limit` in the sliding `seconds`, or
        refuse it: the seconds to wait before one would be admitted (0: admitted)."""
        now = self.clock()
        start, weight = bucket(now, seconds)
        with self.engine.begin() as db:  # in autocommit (LimitCounters): no BEGIN, no COMMIT
            admitted = db.execute(HIT, {
                "scope": scope, "subject": subject, "start": start, "previous": start - seconds,
                "expires": start + 2 * seconds, "weight": weight, "limit": limit,
            }).first()
            if admitted is None:  # refused: the wait to tell (the cold path)
                counts = dict(db.execute(BUCKETS, {
                    "scope": scope, "subject": subject, "start": start,
                    "previous": start - seconds}).all())
                return wait(now, start, seconds, limit, counts.get(start, 0),
                            counts.get(start - seconds, 0))
            if now - self.swept > SWEEP_EVERY:
                self.swept = now
                db.execute(SWEEP, {"now": int(now)})
        return 0


def bucket(now: float, seconds: int) -> tuple[int, float]:
    """The current bucket's start and the weight of the previous bucket: the share of it
    still inside the window that ends now."""
    start = int(now // seconds) * seconds
    return start, 1.0 - (now - start) / seconds


def wait(now, start, seconds, limit, current, previous) -> int:
    """Whole seconds until the estimate drops under `limit` with no more hits counted."""
    if current >= limit:  # not in this bucket: in the next, this one becomes the previous
        until = start + seconds + seconds * max(0.0, 1 - limit / current)
    else:  # the previous bucket's share must fall to the room left
        until = start + seconds * (1 - (limit - current) / previous)
    return max(1, math.ceil(until - now))


def _commit_without_waiting_for_the_disk(connection, _record):
    """A count need not survive a crash of PostgreSQL (the last fraction of a second of
    counts lost loosens a limit for a moment), and waiting for the WAL's flush made each
    check cost ~4 ms instead of ~0.4 ms (docs/performance.md)."""
    cursor = connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()


class LimitCounters(SharedExtension):
    """The container's counters in the shared database, or None without one (the embedded
    platform: one process, which its in-process windows already cover)."""

    counters = None

    def setup(self):
        config = self.container.config
        if config.get("DATABASE_URL"):  # the shared database: `challenge migrate` made ours
            # autocommit: the one statement is its own transaction; no ping before it (a
            # dropped connection fails one check, which then counts in the process)
            engine = service_engine(config, "gateway", isolation_level="AUTOCOMMIT",
                                    pool_pre_ping=False)
            if engine.dialect.name == "postgresql":
                event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
            self.counters = Counters(engine)

    def stop(self):
        if self.counters is not None:
            self.counters.engine.dispose()

    def kill(self):
        self.stop()
