"""Every error the API answers, in one table (contracts.md: `{"error": {code, message, fields}}`)."""
from nameko.exceptions import RemoteError, UnknownService

from kernel.errors import ChallengeError

# exception type -> (status, code, message) for errors that are not ours
FOREIGN = {
    UnknownService: (503, "service_unavailable", "a service is unavailable; try again shortly"),
    RemoteError: (500, "internal", "something went wrong on our side"),
}


def describe(exc) -> tuple[int, dict]:
    if isinstance(exc, ChallengeError):
        error = {"code": exc.code, "message": exc.message, "fields": exc.fields}
        if getattr(exc, "reason", None):
            error["reason"] = exc.reason
        return exc.status, error
    for kind, (status, code, message) in FOREIGN.items():
        if isinstance(exc, kind):
            return status, {"code": code, "message": message, "fields": {}}
    return 500, {"code": "internal", "message": "something went wrong on our side",
                 "fields": {}}
