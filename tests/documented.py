"""The gateway's answers against its own OpenAPI document: a response's body must match the
schema documented for its route and status, in a documented media type (Schemathesis's own
check, the one its runs against the distributed platform make).

`conforming(session_send)` wraps `requests.Session.send`, so every response a test receives
from a documented route is checked as it arrives; `checked` counts them by route and status."""
from __future__ import annotations

import re
from collections import Counter
from functools import cached_property, wraps
from urllib.parse import urlsplit

from gateway import openapi
from gateway.service import GatewayService


class Documented:
    def __init__(self, service_cls=GatewayService):
        self.document = openapi.document(service_cls)
        self.checked: Counter = Counter()

    @cached_property
    def schema(self):
        import schemathesis  # only where responses are checked: it is a big import

        return schemathesis.openapi.from_dict(self.document)

    @cached_property
    def paths(self) -> list[tuple[re.Pattern, str]]:
        """Each documented path as a pattern; literal paths before templated ones, so
        `/admin/questions/export` is not taken for `/admin/questions/{question_id}`."""
        patterns = [(re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                                        for part in re.split(r"(\{\w+\})", path)) + "$"), path)
                    for path in self.document["paths"]]
        return sorted(patterns, key=lambda pattern: pattern[1].count("{"))

    def route(self, method: str, url: str) -> str | None:
        path = urlsplit(url).path
        for pattern, documented in self.paths:
            if pattern.match(path) and method.lower() in self.document["paths"][documented]:
                return documented
        return None

    def check(self, response) -> None:
        """Raises Schemathesis's failure when the response breaks the document; a path or
        method the document does not have (a probe for a 404 or a 405) is not checked."""
        method = response.request.method
        route = self.route(method, response.request.url)
        if route is None:
            return
        self.schema[route][method].validate_response(response)
        self.checked[(method, route, response.status_code)] += 1

    def conforming(self, send):
        @wraps(send)
        def checked_send(session, request, **kwargs):
            response = send(session, request, **kwargs)
            if not kwargs.get("stream"):
                self.check(response)
            return response

        return checked_send
