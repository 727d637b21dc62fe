"""Limits per client address and per member, counted where every gateway replica sees the
same counts: the gateway's table in the shared database (gateway/counters.py), so three
replicas allow the limit, not three times it. Without a shared database (the embedded
platform, one process) and while it cannot be reached, each process counts on its own in a
sliding window (`Window`): a database outage loosens the limits to one set per replica
rather than refusing every request. The roster's per-phone limits hold across replicas too."""
from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque

from nameko.extensions import DependencyProvider, SharedExtension
from sqlalchemy.exc import DBAPIError

from gateway.addresses import client_address, parse_proxies
from gateway.counters import LimitCounters
from kernel.errors import RateLimited
from kernel.knobs import knob

log = logging.getLogger(__name__)
WARN_EVERY = 60.0  # seconds between warnings that the shared counts are out of reach


def refusal(what: str, whose: str, wait: int, reason: str) -> RateLimited:
    return RateLimited(f"too many {what} from {whose}; try again in {wait} s",
                       retry_after=wait, reason=reason)


class Window:
    def __init__(self, limit: int, seconds: float, clock=time.monotonic):
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self.hits = defaultdict(deque)

    def check(self, key: str, what: str, whose: str = "this address",
              reason: str = "address_limit") -> None:
        if self.limit <= 0:  # switched off
            return
        now = self.clock()
        hits = self.hits[key]
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            raise refusal(what, whose, math.ceil(hits[0] + self.seconds - now), reason)
        hits.append(now)
        if len(self.hits) > 100_000:  # forget idle addresses now and then
            for idle in [k for k, v in self.hits.items() if not v or v[-1] <= now - self.seconds]:
                del self.hits[idle]


class Limit:
    """One limit (`scope`: codes, tries, member) counted in the shared database when the
    container has one, else (and while it is out of reach) in this process."""

    def __init__(self, shared: LimitCounters, scope: str, limit: int, seconds: int):
        self.shared, self.scope = shared, scope
        self.local = Window(limit, seconds)
        self.warned = -WARN_EVERY

    def check(self, key: str, what: str, whose: str = "this address",
              reason: str = "address_limit") -> None:
        counters = self.shared.counters
        if counters is None or self.local.limit <= 0:
            return self.local.check(key, what, whose, reason)
        try:
            wait = counters.hit(self.scope, key, self.local.limit, self.local.seconds)
        except DBAPIError as exc:
            self._warn(exc)
            return self.local.check(key, what, whose, reason)
        if wait:
            raise refusal(what, whose, wait, reason)

    def _warn(self, exc):
        now = time.monotonic()
        if now - self.warned >= WARN_EVERY:
            self.warned = now
            log.warning("the shared %s counts are out of reach (%s): counting in this "
                        "process until they are back", self.scope, type(exc).__name__)


class AddressLimits(DependencyProvider):
    """The gateway's per-address limits, one set per container, sized from the config:
    LOGIN_CODES_PER_ADDRESS_HOUR (default 600) and LOGIN_TRIES_PER_ADDRESS_10MIN (600); the
    address trusts X-Forwarded-For only from TRUSTED_PROXIES."""

    shared = LimitCounters()

    def setup(self):
        config = self.container.config
        self.codes = Limit(self.shared, "codes", knob(config, "LOGIN_CODES_PER_ADDRESS_HOUR"),
                           3600)
        self.tries = Limit(self.shared, "tries", knob(config, "LOGIN_TRIES_PER_ADDRESS_10MIN"),
                           600)
        self.proxies = parse_proxies(config.get("TRUSTED_PROXIES"))

    def address(self, request) -> str:
        """The client's address: the socket's peer, or, when that is a trusted proxy, what
        its X-Forwarded-For says (gateway/addresses.py)."""
        return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                              self.proxies)

    def get_dependency(self, worker_ctx):
        return self


class MemberLimits(SharedExtension):
    """Requests per member (`MEMBER_REQUESTS_PER_MINUTE`, default 120; 0 switches it off),
    shared by every route that takes a token and every replica: a phone polling a board or a
    script hammering the API gets 429 with Retry-After. Checked on every such request: one
    statement, in autocommit (gateway/counters.py)."""

    shared = LimitCounters()

    def setup(self):
        self.window = Limit(self.shared, "member",
                            knob(self.container.config, "MEMBER_REQUESTS_PER_MINUTE"), 60)

    def check(self, member_id: str) -> None:
        self.window.check(member_id, "requests", "this member", "member_limit")
