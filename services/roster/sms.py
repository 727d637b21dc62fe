"""Sending a login code, and a reminder's text (issue 23). A real SMS provider plugs in here:
a class with `send(phone, code, now)` and `send_text(phone, text, now)`, named in BACKENDS
and chosen by the container config's SMS_BACKEND.

There is no default: a process with no SMS_BACKEND refuses to start (one line, like a missing
CHALLENGE_SECRET), so production never falls back to writing codes where a provider should
send them. `file` and `log` are development choices, set explicitly (docs/decisions.md)."""
from __future__ import annotations

import logging
import os

from nameko.extensions import DependencyProvider

from .members import mask_phone

log = logging.getLogger(__name__)


class FileSender:
    """Development: append `<time>\t<phone>\t<code>` to a file the developer can read."""

    def __init__(self, config: dict):
        self.path = config.get("SMS_FILE") or "var/login-codes.log"

    def send(self, phone: str, code: str, now) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{now.isoformat()}\t{phone}\t{code}\n")

    def send_text(self, phone: str, text: str, now) -> None:
        """A reminder: `<time>\t<phone>\t<text>` in sms-reminders.log beside the codes'
        file (apart, so a reminder is never read as a login code)."""
        path = os.path.join(os.path.dirname(os.path.abspath(self.path)), "sms-reminders.log")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{now.isoformat()}\t{phone}\t{text}\n")


class LogSender:
    """Development: the code in the process's log, so a developer can log in; the phone
    masked, since logs travel further than the developer (collectors, support tickets)."""

    def __init__(self, config: dict):
        pass

    def send(self, phone: str, code: str, now) -> None:
        log.warning("login code for %s: %s (SMS_BACKEND=log: no SMS sent)",
                    mask_phone(phone), code)

    def send_text(self, phone: str, text: str, now) -> None:
        log.warning("reminder for %s: %s (SMS_BACKEND=log: no SMS sent)",
                    mask_phone(phone), text)


BACKENDS = {"file": FileSender, "log": LogSender}


def sender_problem(config: dict) -> str | None:
    """Why `config` names no way to send login codes, in one line, or None when it does."""
    backend = config.get("SMS_BACKEND") or ""
    if backend in BACKENDS:
        return None
    if not backend:
        return ("SMS_BACKEND is not set: name the SMS provider that sends login codes, or set "
                "SMS_BACKEND=log (or file) to keep them on this machine in development")
    return f"SMS_BACKEND={backend!r} is not one of {', '.join(BACKENDS)}"


def sender_for(config: dict):
    problem = sender_problem(config)
    if problem:
        raise RuntimeError(problem)
    return BACKENDS[config["SMS_BACKEND"]](config)


class LoginCodeSender(DependencyProvider):
    """The configured sender, chosen once at container setup: a process that could not send
    a login code refuses to start with one line (a SystemExit, as kernel/signing.py does)
    instead of failing at the first member's login."""

    def setup(self):
        problem = sender_problem(self.container.config)
        if problem:
            raise SystemExit(problem)
        self.sender = sender_for(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.sender
