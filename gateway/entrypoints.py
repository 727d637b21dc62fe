"""nameko's HTTP entrypoint speaking JSON, with every error answered from one table."""
import json
import logging

from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from gateway.errors import describe
from kernel.errors import ChallengeError

log = logging.getLogger(__name__)


def json_response(body, status=200, headers=None):
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


class HttpEntrypoint(HttpRequestHandler):
    def response_from_exception(self, exc):
        status, error = describe(exc)
        if not isinstance(exc, ChallengeError):
            log.error("unexpected error answering %s", self.url, exc_info=exc)
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return json_response({"error": error}, status, headers)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        return json_response(result)


def http(method, url, **kwargs):
    kwargs.setdefault("expected_exceptions", ChallengeError)
    return HttpEntrypoint.decorator(method, url, **kwargs)
