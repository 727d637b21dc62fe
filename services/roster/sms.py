"""Sending a login code. A real SMS provider plugs in here: a class with
`send(phone, code, now)`, chosen by the container config's SMS_BACKEND in `sender_for`."""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


class FileSender:
    """Development: append `<time>\t<phone>\t<code>` to a file the developer can read."""

    def __init__(self, path: str):
        self.path = path

    def send(self, phone: str, code: str, now) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{now.isoformat()}\t{phone}\t{code}\n")


class LogSender:
    def send(self, phone: str, code: str, now) -> None:
        log.warning("login code for %s: %s", phone, code)


def sender_for(config: dict):
    backend = config.get("SMS_BACKEND") or "file"
    if backend == "file":
        return FileSender(config.get("SMS_FILE") or "var/login-codes.log")
    if backend == "log":
        return LogSender()
    raise RuntimeError(f"unknown SMS_BACKEND {backend!r} (file or log)")
