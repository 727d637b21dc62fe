"""Login codes: short-lived, few tries, hashed at rest, limited per phone."""
from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta

CODE_LIFE = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
PER_DAY = 10

_random = random.SystemRandom()


def new_code() -> str:
    return f"{_random.randrange(10 ** 6):06d}"


def hash_code(secret: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret: str, phone: str, code: str, code_hash: str) -> bool:
    return hmac.compare_digest(hash_code(secret, phone, code.strip()), code_hash)
