"""Errors that cross a service boundary, each with its HTTP status and code.

They are registered with nameko's exception registry, so a caller receives the same
class (with its fields) instead of a bare RemoteError. The gateway maps them in one table
(`gateway/errors.py`).
"""
from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class ChallengeError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str = "", fields: dict | None = None,
                 reason: str | None = None):
        # `reason` is a stable machine word for the case (`level_not_open`), so a page can
        # say it in the member's language; the message is for people reading the API
        reason = reason if reason not in (None, "None") else None
        super().__init__(message, fields or {}, reason)
        self.message = message
        self.fields = fields or {}
        self.reason = reason

    def __str__(self):
        return self.message


@deserialize_to_instance
class BadInput(ChallengeError):
    status = 400
    code = "bad_input"


@deserialize_to_instance
class Unauthorized(ChallengeError):
    status = 401
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(ChallengeError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class NotFound(ChallengeError):
    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(ChallengeError):
    status = 409
    code = "conflict"


@deserialize_to_instance
class TooLarge(ChallengeError):
    status = 413
    code = "too_large"


@deserialize_to_instance
class RateLimited(ChallengeError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "", fields: dict | None = None,
                 retry_after: int | None = None, reason: str | None = None):
        super().__init__(message, fields, reason)
        # nameko turns exception args into text on the way across RPC: back to seconds
        self.retry_after = int(retry_after) if retry_after not in (None, "None") else None
        self.args = (message, self.fields, self.retry_after, self.reason)


@deserialize_to_instance
class ServiceUnavailable(ChallengeError):
    status = 503
    code = "service_unavailable"


def load(schema, payload, what: str = "input"):
    """Validate `payload` with a marshmallow schema; a bad field becomes `BadInput`."""
    from marshmallow import ValidationError

    try:
        return schema.load(payload if payload is not None else {})
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        names = ", ".join(sorted(str(k) for k in messages))
        raise BadInput(f"invalid {what}: {names}", fields=messages) from None
