"""One clock for every service.

All instants are timezone-aware UTC. The process has one current clock: the system clock in
production, an `OffsetClock` when the embedded platform starts at a chosen instant (`--now`),
and a `FakeClock` in tests. Services get it through the `Clock` dependency, so nothing calls
`datetime.now()` on its own.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from nameko.extensions import DependencyProvider


def utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its offset")
    return dt.astimezone(timezone.utc)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class OffsetClock:
    """Runs at real speed from a chosen starting instant."""

    def __init__(self, start: datetime):
        self._start = utc(start)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._mono)


class FakeClock:
    """Stands still until told to move."""

    def __init__(self, start: datetime):
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = utc(instant)

    def advance(self, **delta) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def from_env(environ=None):
    """`CHALLENGE_CLOCK_OFFSET_SECONDS` shifts every process's clock by the same amount (a
    distributed test or demo running at another date); unset, the system clock."""
    import os

    offset = (os.environ if environ is None else environ).get("CHALLENGE_CLOCK_OFFSET_SECONDS")
    if not offset:
        return SystemClock()
    return OffsetClock(datetime.now(timezone.utc) + timedelta(seconds=float(offset)))


_current = from_env()


def current():
    return _current


def install(clock) -> None:
    """Make `clock` the process's clock (tests and `challenge dev --now`)."""
    global _current
    _current = clock


def reset() -> None:
    install(from_env())


class Clock(DependencyProvider):
    """Injects the process's clock; `self.clock.now()` in a service."""

    def get_dependency(self, worker_ctx):
        return _current
