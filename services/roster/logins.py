"""Phone login: a code sent to an active member's phone, exchanged once for who they are.
login.py holds the pure rules (lifetime, tries, resend and daily limits, the hash)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.errors import BadInput, RateLimited

from . import login
from .directory import member_out
from .members import RowError, normalise_phone
from .models import LoginCode


@dataclass(frozen=True)
class Delivery:
    """A code to send once the transaction that stored its hash has committed."""
    phone: str
    code: str
    at: datetime


def phone_of(raw) -> str:
    try:
        return normalise_phone(raw)
    except RowError as err:
        raise BadInput(err.message, fields={"phone": [err.message]}) from None


def request_code(tx, secret, raw_phone) -> Delivery | None:
    """A new code for the phone, within the resend and daily limits (RateLimited). Unknown
    and inactive phones get the same treatment from outside (a code row that is never
    sent: None), so the limits reveal nothing either."""
    phone, now = phone_of(raw_phone), tx.now
    recent = tx.store.code_times(phone, since=now - timedelta(days=1))
    last = max(recent, default=None)
    if last is not None and last > now - login.RESEND_AFTER:
        wait = math.ceil((last + login.RESEND_AFTER - now).total_seconds())
        raise RateLimited(f"a code was sent less than a minute ago; ask again in {wait} s",
                          retry_after=wait, reason="code_recently_sent")
    if len(recent) >= login.PER_DAY:
        wait = math.ceil((min(recent) + timedelta(days=1) - now).total_seconds())
        raise RateLimited("too many codes for this phone today; try again later",
                          retry_after=wait, reason="codes_per_day")
    code = login.new_code()
    tx.store.add(LoginCode(phone=phone, code_hash=login.hash_code(secret, phone, code),
                           created_at=now, expires_at=now + login.CODE_LIFE, tries=0))
    member = tx.store.member_by_phone(phone)
    if member is None or member.status != "active":
        return None
    return Delivery(phone, code, now)


def verify_code(tx, secret, raw_phone, code) -> dict | None:
    """The member (as the API shows them) whose phone the code was sent to, the code used
    up; None for any wrong, expired or spent code or an inactive member. A wrong code
    counts as a try: the caller refuses after the transaction commits, so the try stays."""
    phone, now = phone_of(raw_phone), tx.now
    row = tx.store.latest_unused_code(phone)
    if row is None or row.expires_at < now or row.tries >= login.MAX_TRIES:
        return None
    if not login.matches(secret, phone, code or "", row.code_hash):
        row.tries += 1
        return None
    member = tx.store.member_by_phone(phone)
    if member is None or member.status != "active":
        return None
    row.used_at = now
    return member_out(tx.store, member)
