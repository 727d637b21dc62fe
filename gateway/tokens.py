"""Signed bearer tokens: nothing stored, an expiry inside, HMAC-SHA256 with CHALLENGE_SECRET.

Rotating the secret: set CHALLENGE_SECRET_PREVIOUS to the old one and CHALLENGE_SECRET to the
new one; new tokens are signed with the new secret, old ones verify until they expire (12 h),
after which CHALLENGE_SECRET_PREVIOUS can go (docs/operations.md)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from kernel.errors import Unauthorized

LIFETIME = timedelta(hours=12)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def issue(secret: str, member: dict, now: datetime) -> tuple[str, datetime]:
    expires = now + LIFETIME
    claims = {
        "sub": member["member_id"],
        "roles": member.get("roles", []),
        "exp": int(expires.timestamp()),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}", expires


def verify(secret: str, token: str | None, now: datetime, previous: str | None = None) -> dict:
    """The token's claims if it is signed with `secret`, or with `previous` while a secret is
    being rotated (CHALLENGE_SECRET_PREVIOUS), and has not expired."""
    if not token:
        raise Unauthorized("log in first (no bearer token)")
    if not token.isascii():  # ours are base64url; compare_digest raises TypeError on others
        raise Unauthorized("malformed token")
    try:
        payload, signature = token.split(".")
    except ValueError:
        raise Unauthorized("malformed token") from None
    if not any(hmac.compare_digest(signature, _sign(key, payload))
               for key in (secret, previous) if key):
        raise Unauthorized("invalid token")
    claims = json.loads(_unb64(payload))
    if claims["exp"] < now.timestamp():
        raise Unauthorized("token expired; log in again")
    return claims
