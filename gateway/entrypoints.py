"""nameko's HTTP entrypoint speaking JSON: each route declares its body and query schemas and
whether it needs a member's token; the entrypoint validates them before the handler runs
(so the same declaration serves validation and the OpenAPI document), and answers every
error from one table."""
import json
import logging
import re
import time
from functools import partial

from eventlet.event import Event

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map
from werkzeug.wrappers import Request, Response

from gateway import tokens
from gateway.errors import describe
from gateway.metrics import HttpMetrics
from gateway.ratelimit import MemberLimits
from kernel import clock, logs
from kernel.errors import BadInput, ChallengeError, NotFound, TooLarge, load

log = logging.getLogger(__name__)

MAX_PATH_INT = 2**31 - 1  # a level's or a flag's number fits a database integer
MAX_BODY = 256 * 1024  # a JSON body; file uploads get their own limit


def json_response(body, status=200, headers=None):
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def body_of(request, schema):
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise TooLarge(f"the body is {length} bytes; the limit is {MAX_BODY}")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise TooLarge(f"the body is over the limit of {MAX_BODY} bytes")
    raw = raw.decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadInput("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadInput("the body must be a JSON object")
    return load(schema, payload, "body")


def upload_of(request, max_bytes: int):
    """The one file of a multipart/form-data upload (field `file`) and the form's fields.
    Over `max_bytes` is 413 before anything is read; no file is 400 naming the field."""
    from werkzeug.exceptions import RequestEntityTooLarge

    length = request.content_length
    if length is not None and length > max_bytes + 64 * 1024:
        raise TooLarge(f"the upload is {length / 1048576:.1f} MiB; the limit is "
                       f"{max_bytes / 1048576:.0f} MiB")
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise BadInput("send the file as multipart/form-data in a field named 'file'",
                       fields={"file": ["missing"]})
    request.max_content_length = max_bytes + 64 * 1024
    try:
        upload = request.files.get("file")
        form = request.form.to_dict()
    except RequestEntityTooLarge:
        raise TooLarge(f"the upload is over the limit of {max_bytes / 1048576:.0f} MiB") \
            from None
    if upload is None:
        raise BadInput("send the file in a form field named 'file'",
                       fields={"file": ["missing"]})
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"{upload.filename} is over the limit of "
                       f"{max_bytes / 1048576:.0f} MiB")
    return data, upload.filename or "upload", form


def route_label(url: str) -> str:
    """`/api/v1/attempts/<string:attempt_id>/submit` -> `/api/v1/attempts/{attempt_id}/submit`"""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)


def bearer_member(request, config) -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    return tokens.verify(config["CHALLENGE_SECRET"], token, clock.current().now(),
                         config.get("CHALLENGE_SECRET_PREVIOUS"))["sub"]


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app (the URL matched once, the request handed to its route), answering
    a path no route matches, or a method it does not take, with our JSON error instead of
    werkzeug's HTML page: `/api/v1/admin/campaign/levels/x` is
    `{"error": {"code": "not_found", ...}}` like any other 404."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)  # as nameko's: nobody reads the body yet
        try:
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code, "bad_input")
            headers = dict(exc.get_headers())
            headers.pop("Content-Type", None)
            message = ("no such path" if exc.code == 404 else
                       "this path does not take that method" if exc.code == 405 else
                       exc.description)
            response = json_response(
                {"error": {"code": code, "message": message, "fields": {}}}, exc.code or 400,
                {k: v for k, v in headers.items() if k == "Allow"})
            return response(environ, start_response)
        try:
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = exc
        return response(environ, start_response)


MONTH_PATTERN = r"\d{4}-(?:0[1-9]|1[0-2])"


class MonthConverter(BaseConverter):
    """`<month:period>`: a campaign month, YYYY-MM; anything else is not a path we have."""
    regex = MONTH_PATTERN


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def make_url_map(self):
        url_map = Map(converters={"month": MonthConverter})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map


class HttpEntrypoint(HttpRequestHandler):
    server = JsonWebServer()
    metrics = HttpMetrics()
    member_limits = MemberLimits()

    def __init__(self, method, url, body=None, query=None, auth=False, status=200,
                 upload=None, upload_max=None, **kwargs):
        self.body_schema, self.query_schema = body, query
        self.upload_schema, self.upload_max = upload, upload_max
        self.auth, self.status = auth, status
        super().__init__(method, url, **kwargs)

    def get_entrypoint_parameters(self, request):
        for name, value in request.path_values.items():
            if isinstance(value, int) and value > MAX_PATH_INT:  # werkzeug's int has no bound
                raise NotFound(f"no {name} {value}")
        args, kwargs = super().get_entrypoint_parameters(request)
        if self.auth:
            kwargs["member_id"] = bearer_member(request, self.container.config)
            self.member_limits.check(kwargs["member_id"])
        if self.body_schema is not None:
            kwargs["body"] = body_of(request, self.body_schema())
        if self.query_schema is not None:
            kwargs["query"] = load(self.query_schema(), request.args.to_dict(), "query")
        if self.upload_schema is not None:
            data, filename, form = upload_of(request, self.upload_max)
            kwargs["upload"] = {"data": data, "filename": filename,
                                "form": load(self.upload_schema(), form, "form")}
        return args, kwargs

    def handle_request(self, request):
        """nameko's, plus a correlation id for the request (in the worker's context data, so
        every RPC it makes carries it; echoed as `X-Request-Id`) and the request's metrics."""
        registry = self.metrics.registry
        registry.begin()
        started = time.perf_counter()
        status = 500
        correlation_id = logs.new_id(request.headers.get("X-Request-Id"))
        request.shallow = False
        try:
            try:
                args, kwargs = self.get_entrypoint_parameters(request)
                self.check_signature(args, kwargs)
                done = Event()
                self.container.spawn_worker(
                    self, args, kwargs, context_data={logs.KEY: correlation_id},
                    handle_result=partial(self.handle_result, done))
                response = self.response_from_result(done.wait())
            except Exception as exc:
                response = self.response_from_exception(exc)
            response.headers["X-Request-Id"] = correlation_id
            status = response.status_code
            return response
        finally:
            registry.observe(self.method, route_label(self.url), status,
                             time.perf_counter() - started)

    def response_from_exception(self, exc):
        status, error = describe(exc)
        if not isinstance(exc, ChallengeError):
            log.error("unexpected error answering %s", route_label(self.url), exc_info=exc)
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return json_response({"error": error}, status, headers)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        return json_response(result, self.status)


def http(method, url, **kwargs):
    """A route: `body=` and `query=` take marshmallow schema classes; `upload=` takes the
    schema of a multipart form's fields beside its `file` (at most `upload_max` bytes) and
    passes `upload={data, filename, form}`; `auth=True` passes the token's `member_id`;
    `status=` is the success status."""
    kwargs.setdefault("expected_exceptions", ChallengeError)
    return HttpEntrypoint.decorator(method, url, **kwargs)
