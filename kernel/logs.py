"""Structured logs: one JSON object a line, with the correlation id of the request being served.

The gateway gives each HTTP request a correlation id (the caller's `X-Request-Id` when it is a
sane token, else a new one) and puts it in the worker's context data; nameko carries context
data as AMQP headers on every RPC, so the services' workers serving that request see the same
id. `WorkerContext`, a dependency every service declares, keeps the current worker's id and
service name in a green-thread local for the log filter; event handlers log the event's
`event_id` instead (events are published later, from the outbox, by another worker).

deploy/config.yaml wires it into nameko's LOGGING: `LOG_FORMAT=json` (the default there) or
`text`; the embedded `challenge dev` keeps plain text.

What is logged at INFO, so a request can be followed: the gateway's access line (method,
route, status, duration, member, correlation id) and one line per RPC a service answers
(`attempts.submit_attempt ok 12.3 ms`, with the correlation id). An expected error (one of
ours: a wrong code, a limit) is that one line, never a traceback: nameko's own WARNING with
the traceback is made a DEBUG line without it (`ExpectedErrors`). Warnings raised by
libraries once logging is configured go through the same formatter
(`logging.captureWarnings`); the ones raised while nameko imports eventlet, before any
configuration, are filtered by the image's PYTHONWARNINGS (Dockerfile).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

KEY = "correlation_id"
SANE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
log = logging.getLogger(__name__)
_current = threading.local()  # green-thread local once eventlet has patched threading


def new_id(offered: str | None = None) -> str:
    """The caller's request id if it is a sane token (so a proxy's id follows through), else a
    fresh one. Anything else (too long, spaces, quotes) is not let into the logs."""
    return offered if offered and SANE.match(offered) else uuid.uuid4().hex


def current() -> dict:
    return {"service": getattr(_current, "service", None),
            "correlation_id": getattr(_current, "correlation_id", None),
            "event_id": getattr(_current, "event_id", None)}


class WorkerContext(DependencyProvider):
    """Declared by every service (`logs = WorkerContext()`): makes the worker's correlation id
    and service known to the log filter while the worker runs."""

    def worker_setup(self, worker_ctx):
        data = worker_ctx.context_data
        _current.service = self.container.service_name
        _current.correlation_id = data.get(KEY)
        event = worker_ctx.args[0] if worker_ctx.args else None
        _current.event_id = event.get("event_id") if isinstance(event, dict) else None
        log.debug("%s.%s starts", self.container.service_name,
                  worker_ctx.entrypoint.method_name)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        """One INFO line per RPC answered, with its outcome: how a request id is followed
        into each service that served it."""
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return
        outcome = "ok" if exc_info is None else _outcome(exc_info[1])
        log.info("%s.%s %s", self.container.service_name, worker_ctx.entrypoint.method_name,
                 outcome)

    def worker_teardown(self, worker_ctx):
        _current.service = _current.correlation_id = _current.event_id = None

    def get_dependency(self, worker_ctx):
        return worker_ctx.context_data.get(KEY)


def _outcome(error) -> str:
    reason = getattr(error, "reason", None) or getattr(error, "code", None)
    return f"refused ({reason})" if reason else f"failed ({type(error).__name__})"


class ExpectedErrors(logging.Filter):
    """On nameko's container logger: an expected error (ours, declared by `@rpc` and `@http`)
    is the caller's business, said once at INFO by the worker's line (`roster.verify_login_code
    refused (invalid_code)`) or the gateway's access line (status 400); nameko logs it again
    at WARNING with the whole traceback, made here a DEBUG line without it. Unexpected errors
    pass as they are."""

    def filter(self, record):
        if not str(record.msg).startswith("(expected) error handling worker"):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info = record.exc_text = None
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


logging.getLogger("nameko.containers").addFilter(ExpectedErrors())


class CorrelationFilter(logging.Filter):
    """Adds `service`, `correlation_id` and `event_id` to every record (None outside a worker)."""

    def filter(self, record):
        for key, value in current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line; a record's `http` (the gateway's access line) is kept as an
    object of its own, so a log query can filter on `http.status` or `http.route`."""

    FIELDS = ("service", "correlation_id", "event_id", "http")

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self.FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT = "%(asctime)s %(levelname)s %(name)s [%(service)s %(correlation_id)s]: %(message)s"


def formatter(style_name: str = "json") -> logging.Formatter:
    """For dictConfig (`"()": kernel.logs.formatter`): `json`, or `text` for people. Warnings
    (`warnings.warn`) are logged from now on, through this formatter, not printed raw."""
    logging.captureWarnings(True)
    if style_name == "text":
        return logging.Formatter(TEXT)
    return JsonFormatter()
