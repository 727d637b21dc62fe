"""Every tunable setting of every process, with its default, type and range, in one place.

A service declares `knobs = Knobs()`; at container setup every knob in the config is read
and checked, so a mistyped value refuses to start the process with one line naming the
variable (not a traceback at the first submit). The service reads them typed:
`self.knobs.grace_seconds`. Kernel extensions (the outbox relay, RPC deadlines, the database
pool) read theirs with `knob(config, KEY)`. deploy/config.yaml and the Kubernetes ConfigMap
spell the same defaults (tests/unit/test_knobs.py holds them together).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from nameko.extensions import DependencyProvider


@dataclass(frozen=True)
class Knob:
    key: str
    default: object
    cast: type = str
    minimum: float | None = None
    choices: tuple = ()

    @property
    def name(self) -> str:
        """The attribute a service reads it by: CHALLENGE_GRACE_SECONDS -> grace_seconds."""
        return self.key.lower().removeprefix("challenge_")

    def read(self, config: dict):
        """The value in `config`, or the default; ValueError with one line when it is bad."""
        raw = config.get(self.key)
        if raw is None or raw == "":
            return self.default
        try:
            value = self.cast(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.key}={raw!r} is not {_KIND[self.cast]}") from None
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{self.key}={raw!r} is below its minimum of {self.minimum:g}")
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.key}={raw!r} is not one of {', '.join(self.choices)}")
        return value


_KIND = {int: "a whole number", float: "a number", str: "text"}

KNOBS = {k.key: k for k in (
    # attempts (R10-R14, R20)
    Knob("CHALLENGE_GRACE_SECONDS", 10.0, float, 0),
    Knob("ATTEMPTS_REVEAL", "count", str, choices=("count", "wrong_numbers", "answers")),
    Knob("ATTEMPT_STARTS_PER_HOUR", 30, int, 0),
    Knob("ATTEMPT_WAIT_AFTER_FAILURE_SECONDS", 0.0, float, 0),
    Knob("FLAG_MIN_MS_PER_QUESTION", 1500, int, 0),
    Knob("FLAG_BANK_SHARE", 0.8, float, 0),
    # roster: SMS reminders a member may be sent in any 24 hours (0: none are sent)
    Knob("SMS_REMINDERS_PER_DAY", 1, int, 0),
    Knob("ATTEMPTS_EXPIRY_CHECK_SECONDS", 5.0, float, 0.01),
    # question statistics
    Knob("STATS_MIN_GRADED", 20, int, 1),
    Knob("STATS_FACILITY_FLOOR", 0.5, float, 0),
    Knob("STATS_DISCRIMINATION_FLOOR", 0.2, float, -1),
    # ranking (R15)
    Knob("CHALLENGE_SETTLE_SECONDS", 300.0, float, 0),
    Knob("MONTH_CLOSE_CHECK_SECONDS", 30.0, float, 0.01),
    # places of each board month_closed carries (`tops`): deeper than any policy's last place
    Knob("MONTH_TOP_DEPTH", 300, int, 1),
    # the gateway
    Knob("LOGIN_CODES_PER_ADDRESS_HOUR", 600, int, 0),  # an office behind one address
    Knob("LOGIN_TRIES_PER_ADDRESS_10MIN", 600, int, 0),
    Knob("MEMBER_REQUESTS_PER_MINUTE", 120, int, 0),
    Knob("HTTP_READ_TIMEOUT_SECONDS", 10.0, float, 0.1),
    Knob("HTTP_MAX_CONNECTIONS", 1000, int, 1),
    # requests a gateway process answers or holds for a worker at once; 503 overloaded past it
    Knob("HTTP_MAX_PENDING", 25, int, 1),
    # the RPC deadline of a member's read (GET /me, /campaign, the boards, the history)
    Knob("RPC_READ_TIMEOUT_SECONDS", 3.0, float, 0.1),
    # every process
    Knob("RPC_TIMEOUT_SECONDS", 10.0, float, 0.1),
    Knob("OUTBOX_POLL_SECONDS", 5.0, float, 0.001),  # a safety sweep: commits wake the relay
    Knob("OUTBOX_KEEP_DAYS", 400.0, float, 0),  # a campaign: replays to late subscribers
    Knob("INBOX_KEEP_DAYS", 30.0, float, 0),
    Knob("EVENT_QUEUE_TYPE", "classic", str, choices=("classic", "quorum")),
    Knob("EVENT_DELIVERY_LIMIT", 20, int, 1),
    Knob("EVENT_RETRY_SECONDS", 2.0, float, 0),
    # batching handlers (kernel/batching.py): events per transaction, and how long the first
    # of a batch waits for more
    Knob("EVENT_BATCH_SIZE", 100, int, 1),
    Knob("EVENT_BATCH_WAIT_MS", 20.0, float, 0),
    Knob("DB_POOL_SIZE", 10, int, 1),
    Knob("DB_MAX_OVERFLOW", 20, int, 0),
    # a service's Prometheus metrics on this port (0: not served; the gateway's are at /metrics)
    Knob("METRICS_PORT", 0, int, 0),
)}


def knob(config: dict, key: str):
    """One knob's value in `config` (its default when unset), for an extension's `setup`: a
    bad value stops the process with its one line, whichever extension meets it first."""
    try:
        return KNOBS[key].read(config)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def problems(config: dict) -> list[str]:
    """One line for each knob whose value in `config` is bad."""
    found = []
    for spec in KNOBS.values():
        try:
            spec.read(config)
        except ValueError as exc:
            found.append(str(exc))
    return found


def read_all(config: dict):
    """Every knob, typed, as attributes (`.grace_seconds`); ValueError on the first bad one."""
    return _Values({spec.name: spec.read(config) for spec in KNOBS.values()})


class _Values:
    def __init__(self, values: dict):
        self._values = MappingProxyType(values)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


class Knobs(DependencyProvider):
    """Injects the process's knobs, read and checked once at container setup: a bad value
    stops `nameko run` with one line naming it (a SystemExit, as kernel/signing.py does)."""

    def setup(self):
        bad = problems(self.container.config)
        if bad:
            raise SystemExit("; ".join(bad))
        self.values = read_all(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.values
