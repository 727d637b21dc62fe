"""Limits per client address, kept in the gateway process (a sliding window per key).

Each gateway replica counts on its own, so N replicas allow up to N times the limit; the
roster's per-phone limits hold across replicas. Enough to stop one address hammering the
login endpoints; a shared store is the step up when the gateway scales out."""
from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from nameko.extensions import DependencyProvider, SharedExtension

from gateway.addresses import client_address, parse_proxies
from kernel.errors import RateLimited
from kernel.knobs import knob


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
            wait = math.ceil(hits[0] + self.seconds - now)
            raise RateLimited(f"too many {what} from {whose}; try again in {wait} s",
                              retry_after=wait, reason=reason)
        hits.append(now)
        if len(self.hits) > 100_000:  # forget idle addresses now and then
            for idle in [k for k, v in self.hits.items() if not v or v[-1] <= now - self.seconds]:
                del self.hits[idle]


class AddressLimits(DependencyProvider):
    """The gateway's per-address limits, one set per container, sized from the config:
    LOGIN_CODES_PER_ADDRESS_HOUR (default 20) and LOGIN_TRIES_PER_ADDRESS_10MIN (30); the
    address trusts X-Forwarded-For only from TRUSTED_PROXIES."""

    def setup(self):
        config = self.container.config
        self.codes = Window(knob(config, "LOGIN_CODES_PER_ADDRESS_HOUR"), 3600)
        self.tries = Window(knob(config, "LOGIN_TRIES_PER_ADDRESS_10MIN"), 600)
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
    one window per gateway container shared by every route that takes a token: a phone
    polling a board or a script hammering the API gets 429 with Retry-After."""

    def setup(self):
        self.window = Window(
            knob(self.container.config, "MEMBER_REQUESTS_PER_MINUTE"), 60)

    def check(self, member_id: str) -> None:
        self.window.check(member_id, "requests", "this member", "member_limit")
