"""nameko's HTTP entrypoint speaking JSON: each route declares its body and query schemas and
whether it needs a member's token; the entrypoint validates them before the handler runs
(so the same declaration serves validation and the OpenAPI document), and answers every
error from one table.

Its web server is nameko's, made fit to face the internet (`JsonWebServer`): a deadline on
each request's head and on every silence while reading a body, a cap on open connections
(503 `server_busy` beyond it), an accept loop that outlives running out of file descriptors,
and the security headers on every answer (`html_page` for the HTML pages' policy).

Under overload it refuses early instead of queueing (admission control): at most
HTTP_MAX_PENDING API requests are answered or wait for a worker at once in a process; the
next is 503 `overloaded` at once, before its body is read or any service is called. Every 503
carries `Retry-After`. A member's reads call the services with RPC_READ_TIMEOUT_SECONDS."""
import errno
import gzip
import json
import logging
import random
import re
import resource
import secrets
import socket
import time
from contextlib import contextmanager
from functools import partial

import eventlet
from eventlet import tpool
from eventlet.event import Event
from eventlet.greenpool import GreenPool

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.routing import BaseConverter, Map
from werkzeug.wrappers import Request, Response

from gateway import agencies, tokens
from gateway.errors import describe
from gateway.metrics import SHED, HttpMetrics
from gateway.ratelimit import MemberLimits
from kernel import clock, logs
from kernel.errors import BadInput, ChallengeError, NotFound, TooLarge, load
from kernel.knobs import knob

log = logging.getLogger(__name__)
access = logging.getLogger("gateway.access")

MAX_PATH_INT = 2**31 - 1  # a level's or a flag's number fits a database integer
MAX_BODY = 256 * 1024  # a JSON body; file uploads get their own limit
MAX_NESTING = 32  # a JSON body's depth of arrays and objects (a valid one has 3 at most)
DESCRIPTORS_KEPT = 128  # descriptors never given to clients: the broker, databases, logs
LISTEN_BACKLOG = 1024  # connections the kernel queues until accepted (capped by somaxconn)
REFUSALS_AT_ONCE = 32  # 503s lingering for the client to hang up; past that, written and closed
GONE_BEFORE_ACCEPTED = {errno.ECONNABORTED, errno.EPROTO, errno.ECONNRESET}
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a service, its database or the broker away, a timeout
RETRY_AFTER_OVERLOADED = (1, 3)  # seconds, at random: refused clients do not return in step
API_PREFIX = "/api/"  # what admission control may refuse (pages, health, metrics: never)
FINISHING_SHARE = 5  # a fifth of HTTP_MAX_PENDING is kept for requests that finish work
MEMBER_READS = "/api/v1/"  # GETs under it, the admin and agency ones aside, are a member's reads


# Every answer: no content sniffing, no framing, no referrer; and unless it is a page, a
# policy under which nothing it holds may run or load (a JSON error opened in a tab included).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}
# The pages: their scripts from here (common.js) or in their own <script> tags, which carry
# the response's nonce, so an injected script or handler attribute does not run; styles alike,
# except style attributes (the markup has a few; they cannot run script, and with nothing
# loading from elsewhere they cannot send anything away); calls only to this API.
PAGE_POLICY = ("default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
               "style-src 'self' 'nonce-{nonce}'; style-src-attr 'unsafe-inline'; "
               "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
               "base-uri 'none'; frame-ancestors 'none'; object-src 'none'")


class RequestTimeout(ChallengeError):
    status = 408
    code = "request_timeout"


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
    too_deep = BadInput(f"the body nests arrays and objects deeper than {MAX_NESTING} levels",
                        fields={"body": [f"nested deeper than {MAX_NESTING} levels"]})
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except RecursionError:  # the parser's own limit, long before ours would be measured
        raise too_deep from None
    except ValueError:
        raise BadInput("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadInput("the body must be a JSON object")
    if nesting_of(payload) > MAX_NESTING:  # the services' own JSON would recurse on it
        raise too_deep
    for key, value in payload.items():
        refuse_unstorable(value, str(key))
    return load(schema, payload, "body")


def unstorable(value) -> bool:
    """True when a parsed JSON value holds text no database column can keep: a NUL
    character (PostgreSQL refuses it in text) or half of a UTF-16 surrogate pair (not
    encodable as UTF-8). Checked without recursion."""
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def refuse_unstorable(value, name: str) -> None:
    """A field holding such text is a 400 naming it, before any service sees it."""
    if unstorable(value):
        raise BadInput(f"{name} holds a character that cannot be stored (NUL or a lone "
                       "surrogate)", fields={name: ["unstorable character"]},
                       reason="unstorable_text")


def nesting_of(value) -> int:
    """How deep arrays and objects nest in a parsed JSON value (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        pending.extend((item, depth + 1) for item in value)
    return deepest


@contextmanager
def body_arriving():
    """Reading a request's body: a client silent for the read timeout is 408, one that hung up
    400, both said as our errors (werkzeug's ClientDisconnected would be a 500)."""
    try:
        yield
    except (ClientDisconnected, socket.timeout) as exc:
        if isinstance(exc, socket.timeout) or isinstance(exc.__context__, socket.timeout):
            raise RequestTimeout("the body stopped arriving; send the request again",
                                 fields={"body": ["timed out"]}) from None
        raise BadInput("the body was cut short", fields={"body": ["incomplete"]}) from None


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


def html_page(path: str) -> Response:
    """An HTML page under PAGE_POLICY, its inline <script> and <style> tags given a nonce of
    its own (a fresh one each response, so it cannot be learnt and reused)."""
    nonce = secrets.token_urlsafe(18)
    with open(path, encoding="utf-8") as handle:
        html = handle.read()
    html = (html.replace("<script>", f'<script nonce="{nonce}">')
            .replace("<style>", f'<style nonce="{nonce}">'))
    return Response(html, mimetype="text/html",
                    headers={"Content-Security-Policy": PAGE_POLICY.format(nonce=nonce)})


def with_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)  # a page keeps its own policy
    return response


def with_retry_after(response):
    """Every 503 says when to come back (a route's own 503, /readyz's, an error's)."""
    if response.status_code == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


def overloaded() -> Response:
    """What a request past HTTP_MAX_PENDING is answered, without anything called for it."""
    return json_response({"error": {
        "code": "service_unavailable", "reason": "overloaded", "fields": {},
        "message": "the server is answering as many requests as it can; try again shortly"}},
        503, {"Retry-After": str(random.randint(*RETRY_AFTER_OVERLOADED))})


GZIP_TYPES = ("application/json", "text/html", "text/javascript", "text/plain")
GZIP_MIN_BYTES = 1024  # smaller bodies gain less than the header costs
GZIP_OFF_LOOP_BYTES = 256 * 1024  # larger ones are compressed outside the event loop


def gzipped(environ, response):
    """A page, a script or JSON compressed when the client takes gzip (a level list or a
    board is a fifth of its size on a phone's connection); files and small bodies as they are."""
    response.vary.add("Accept-Encoding")
    if ("gzip" not in environ.get("HTTP_ACCEPT_ENCODING", "") or response.direct_passthrough
            or response.is_streamed or "Content-Encoding" in response.headers
            or response.mimetype not in GZIP_TYPES):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    if len(body) < GZIP_OFF_LOOP_BYTES:
        response.set_data(gzip.compress(body, compresslevel=5))
    else:  # an export's megabytes in a thread: the other requests go on meanwhile
        response.set_data(tpool.execute(gzip.compress, body, 5))
    response.headers["Content-Encoding"] = "gzip"
    return response


def route_label(url: str) -> str:
    """`/api/v1/attempts/<string:attempt_id>/submit` -> `/api/v1/attempts/{attempt_id}/submit`"""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)


def access_line(method, route, status, seconds, member_id, correlation_id) -> None:
    """The request, one INFO line: readable as text, and as JSON an `http` object (method,
    route template, status, duration, member) beside the correlation id."""
    access.info("%s %s %d %.1f ms", method, route, status, seconds * 1000, extra={
        "correlation_id": correlation_id,
        "http": {"method": method, "route": route, "status": status,
                 "duration_ms": round(seconds * 1000, 1), "member_id": member_id}})


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
            return with_security_headers(response)(environ, start_response)
        try:
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        response = with_retry_after(with_security_headers(response))
        return gzipped(environ, response)(environ, start_response)


MONTH_PATTERN = r"\d{4}-(?:0[1-9]|1[0-2])"


class MonthConverter(BaseConverter):
    """`<month:period>`: a campaign month, YYYY-MM; anything else is not a path we have."""
    regex = MONTH_PATTERN


def busy_answer() -> bytes:
    """What a connection past the cap reads: a 503 the pages retry, and the connection closed."""
    body = json.dumps({"error": {
        "code": "service_unavailable", "reason": "server_busy", "fields": {},
        "message": "the server has too many connections open; try again shortly"}}).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            "Retry-After: 5\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


BUSY = busy_answer()


def answer_busy(sock):
    """Write the 503 and close gently: the request may still be arriving, and closing on
    unread bytes sends a reset, which some clients take before reading the answer."""
    with eventlet.Timeout(1, False):
        try:
            sock.sendall(BUSY)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
        except OSError:
            pass
    sock.close()


def answer_busy_at_once(sock):
    """The 503 without waiting for anything (too many refusals are lingering already)."""
    try:
        sock.setblocking(False)
        sock.send(BUSY)
    except OSError:
        pass
    sock.close()


def connection_cap(wanted: int) -> int:
    """At most `wanted` connections, fewer if the process may not open that many descriptors.
    The soft RLIMIT_NOFILE is raised toward the hard one as far as the cap needs (as Go and
    nginx do); some descriptors always stay for the broker, the databases and the logs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + DESCRIPTORS_KEPT
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < raised:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    cap = min(wanted, soft - min(DESCRIPTORS_KEPT, soft // 2))
    if cap < wanted:
        log.warning("HTTP_MAX_CONNECTIONS is %d but RLIMIT_NOFILE is %d: at most %d "
                    "connections at once", wanted, soft, cap)
    return cap


class HeadDeadlineProtocol(HttpOnlyProtocol):
    """nameko's protocol, with a deadline for a request's head: its line and headers must all
    be in within the read timeout of the connection waiting for them (the wait of a kept-alive
    connection included). The socket's timeout bounds each silence; this bounds a head
    trickled a byte at a time. The body's reads keep the socket's timeout only: an upload may
    be slow, so long as it keeps coming."""

    def handle_one_request(self):
        self.head_deadline = eventlet.Timeout(
            self.server.socket_timeout, socket.timeout("the request's head took too long"))
        try:
            super().handle_one_request()
        finally:
            self.head_deadline.cancel()

    def get_environ(self):
        self.head_deadline.cancel()  # called once the head is in
        return super().get_environ()


class JsonWebServer(WebServer):
    """nameko's web server with our WSGI app and URL converters, and ready for the internet:
    HTTP_READ_TIMEOUT_SECONDS (`HeadDeadlineProtocol`), HTTP_MAX_CONNECTIONS open at most
    (503 beyond), and an accept loop that waits out EMFILE instead of dying. nameko's loop
    died on the first error accept() raised, and took the container with it (and with the
    container `challenge dev`); it also accepted without bound, so idle connections could
    hold every descriptor the process had."""

    def __init__(self):
        super().__init__()
        self.open_connections = 0
        self.refusals = GreenPool(REFUSALS_AT_ONCE)
        self.pending = 0  # API requests being answered or waiting for a worker

    def setup(self):
        super().setup()
        self.max_pending = knob(self.container.config, "HTTP_MAX_PENDING")

    def admit(self, finishes=False) -> bool:
        """Admission control: room for one more API request (then `release` it), or not. The
        last fifth of the room is for requests that finish what a member started (a submit,
        minutes of answering behind it): past four fifths, new work (a start, a read) is
        refused first."""
        room = self.max_pending
        if not finishes:
            room -= self.max_pending // FINISHING_SHARE
        if self.pending >= room:
            return False
        self.pending += 1
        return True

    def release(self):
        self.pending -= 1

    def start(self):
        """nameko's, listening with a backlog for a burst of connections (its 50 drops the
        rest, and each dropped one tries again only after 1, 3, 7... seconds)."""
        config = self.container.config
        self.read_timeout = knob(config, "HTTP_READ_TIMEOUT_SECONDS")
        self.max_connections = connection_cap(
            knob(config, "HTTP_MAX_CONNECTIONS"))
        if not self._starting:
            self._starting = True
            self._sock = eventlet.listen(self.bind_addr, backlog=LISTEN_BACKLOG)
            self._sock.settimeout(None)  # as nameko's: kombu may have set a default timeout
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)

    def get_wsgi_server(self, sock, wsgi_app, protocol=HeadDeadlineProtocol, debug=False):
        server = super().get_wsgi_server(sock, wsgi_app, protocol, debug)
        server.socket_timeout = self.read_timeout
        server.log_output = False  # eventlet's Apache-style line: ours is `access_line`
        return server

    def run(self):
        """Accept until stopped. A client gone before it was accepted is skipped; any other
        failure (EMFILE, ENFILE: out of file descriptors) is logged once and waited out, the
        pending connections waiting in the backlog meanwhile."""
        failing_since = None
        while self._is_accepting:
            try:
                sock, address = self._sock.accept()
            except OSError as exc:
                if exc.errno in GONE_BEFORE_ACCEPTED:
                    continue
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.error("accept() failed (%s) with %d connections open: trying again "
                              "every 0.1 s", errno.errorcode.get(exc.errno, exc),
                              self.open_connections)
                eventlet.sleep(0.1)
                continue
            if failing_since is not None:
                log.warning("accepting again after %.1f s", time.monotonic() - failing_since)
                failing_since = None
            self.serve(sock, address)

    def serve(self, sock, address):
        if self.open_connections >= self.max_connections:
            if self.refusals.free():
                self.refusals.spawn_n(answer_busy, sock)
            else:
                answer_busy_at_once(sock)
            return
        sock.settimeout(self.read_timeout)
        self.open_connections += 1
        thread = self.container.spawn_managed_thread(
            partial(self.process_request, sock, address))
        thread.link(self.connection_closed)  # called even if the thread is killed unstarted

    def connection_closed(self, _thread):
        self.open_connections -= 1

    def process_request(self, sock, address):
        """nameko's re-raises what a connection's socket raises, and an error in a managed
        thread kills the container: one client's broken connection must not."""
        try:
            super().process_request(sock, address)
        except OSError as exc:
            log.debug("connection from %s ended: %s", address, exc)
            sock.close()
        except Exception:
            log.exception("connection from %s failed", address)
            sock.close()

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
                 upload=None, upload_max=None, agency=False, response=None, finishes=False,
                 **kwargs):
        self.body_schema, self.query_schema = body, query
        self.response_schema = response
        self.upload_schema, self.upload_max = upload, upload_max
        self.auth, self.status = auth, status
        self.agency = agency  # another agency's read: an AGENCY_API_KEYS key, no member
        self.sheddable = url.startswith(API_PREFIX)
        self.finishes = finishes  # admitted past the room kept for it (JsonWebServer.admit)
        member_read = (method == "GET" and url.startswith(MEMBER_READS) and not agency
                       and not url.startswith(f"{MEMBER_READS}admin/"))
        # kernel.rpc.TimedRpcProxy reads it: a member's page waits this long at most
        self.rpc_timeout_knob = "RPC_READ_TIMEOUT_SECONDS" if member_read else None
        super().__init__(method, url, **kwargs)

    def get_entrypoint_parameters(self, request):
        for name, value in request.path_values.items():
            if isinstance(value, int) and value > MAX_PATH_INT:  # werkzeug's int has no bound
                raise NotFound(f"no {name} {value}")
            refuse_unstorable(value, name)
        for name, value in request.args.items():
            refuse_unstorable(value, name)
        args, kwargs = super().get_entrypoint_parameters(request)
        if self.auth:
            kwargs["member_id"] = bearer_member(request, self.container.config)
            self.member_limits.check(kwargs["member_id"])
        if self.agency:
            kwargs["agency"] = agencies.agency_of(request.headers, self.container.config)
        if self.body_schema is not None:
            with body_arriving():
                kwargs["body"] = body_of(request, self.body_schema())
        if self.query_schema is not None:
            kwargs["query"] = load(self.query_schema(), request.args.to_dict(), "query")
        if self.upload_schema is not None:
            with body_arriving():
                data, filename, form = upload_of(request, self.upload_max)
            for name, value in form.items():
                refuse_unstorable(value, name)
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
        admitted = self.sheddable and self.server.admit(self.finishes)
        if self.sheddable and not admitted:
            response = overloaded()
            response.headers["X-Request-Id"] = correlation_id
            seconds = time.perf_counter() - started
            SHED.observe(seconds)
            registry.observe(self.method, route_label(self.url), 503, seconds)
            access_line(self.method, route_label(self.url), 503, seconds, None, correlation_id)
            return response
        request.shallow = False
        kwargs = {}
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
            if admitted:
                self.server.release()
            seconds = time.perf_counter() - started
            registry.observe(self.method, route_label(self.url), status, seconds)
            access_line(self.method, route_label(self.url), status, seconds,
                        kwargs.get("member_id"), correlation_id)

    def response_from_exception(self, exc):
        status, error = describe(exc)
        if not isinstance(exc, ChallengeError):
            log.error("unexpected error answering %s", route_label(self.url), exc_info=exc)
        retry_after = getattr(exc, "retry_after", None)
        if status == 503 and not retry_after:  # a service, its database or the broker away
            retry_after = RETRY_AFTER_UNAVAILABLE
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
    `agency=True` takes an agency's key instead (gateway/agencies.py) and passes `agency`;
    `status=` is the success status; `response=` what it answers, for the OpenAPI document:
    a marshmallow schema (class, or instance for `many=True`): the service's result schema
    when the route answers the RPC's result as it is, a gateway schema when the route builds
    the body; or the media type of a body that is not JSON (a page, a file); `finishes=True`
    for a request that completes a member's work (a submit): admission control refuses it
    last."""
    kwargs.setdefault("expected_exceptions", ChallengeError)
    return HttpEntrypoint.decorator(method, url, **kwargs)
