"""Other agencies' read access (docs/agencies.md): a route declared `agency=True` answers a
caller presenting one of the keys of AGENCY_API_KEYS in the `X-Agency-Key` header, and is
told which agency it is (for the logs; the key itself is never logged).

AGENCY_API_KEYS is a secret beside CHALLENGE_SECRET: comma-separated `name=key` pairs, each
key at least 32 bytes (docs/decisions.md, "Authority and hostile input"). Empty: no agency
may read. A malformed value stops the gateway at start with one line naming the variable."""
from __future__ import annotations

import functools
import hmac
import re

from marshmallow import RAISE, Schema, fields, validate
from nameko.extensions import DependencyProvider

from gateway.schemas import page_offset
from kernel.errors import Unauthorized

HEADER = "X-Agency-Key"
VARIABLE = "AGENCY_API_KEYS"
MIN_KEY_BYTES = 32
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@functools.lru_cache(maxsize=8)
def keys_of(raw: str | None) -> dict[bytes, str]:
    """AGENCY_API_KEYS as {key: agency name}; ValueError with one line when it is bad."""
    keys: dict[bytes, str] = {}
    for pair in filter(None, (p.strip() for p in (raw or "").split(","))):
        name, equals, key = pair.partition("=")
        name, key = name.strip(), key.strip()
        if not equals or not NAME.match(name):  # never repeat the entry: it may be a key
            raise ValueError(f"{VARIABLE}: each entry is name=key, the name in lower-case "
                             "letters, digits, '_', '.' or '-'")
        if len(key.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"{VARIABLE}: the key of {name} is shorter than {MIN_KEY_BYTES} "
                             "bytes; make one with python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\"")
        if name in keys.values() or key.encode() in keys:
            raise ValueError(f"{VARIABLE}: {name} is listed twice, or shares a key")
        keys[key.encode()] = name
    return keys


def agency_of(headers, config) -> str:
    """The agency whose key the request presents; 401 otherwise. Every key is compared, in
    constant time, so the answer's timing says nothing about how close a guess came."""
    presented = headers.get(HEADER, "").encode("utf-8", errors="replace")
    found = None
    for key, name in keys_of(config.get(VARIABLE)).items():
        if hmac.compare_digest(presented, key):
            found = name
    if found is None:
        raise Unauthorized(f"send an agency key in the {HEADER} header (ask the platform's "
                           "operators for one)", fields={HEADER: ["missing or not valid"]})
    return found


class AgencyKeys(DependencyProvider):
    """Refuses to start the gateway on a malformed AGENCY_API_KEYS (before it listens)."""

    def setup(self):
        try:
            keys_of(self.container.config.get(VARIABLE))
        except ValueError as exc:
            raise SystemExit(str(exc)) from None


class RosterQuery(Schema):
    """`GET /api/v1/agency/roster`: members changed at or after `since` (all without it),
    oldest change first, a page at a time."""
    class Meta:
        unknown = RAISE

    since = fields.AwareDateTime(load_default=None, metadata={
        "description": "ISO 8601 with offset; the previous answer's `as_of` to keep up"})
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = page_offset()
