"""The admin commands' side of the HTTP API (contracts.md: "Admin commands talk to a running
platform over its HTTP API"): a token from CHALLENGE_TOKEN or a login prompt, uploads with a
progress line, and the per-row report printed for a person."""
from __future__ import annotations

import json
import os
import sys
import unicodedata
import uuid

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
# control and format characters (escape sequences, bidirectional overrides, line separators)
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp"}


class CommandError(Exception):
    """Something the operator must fix; printed without a traceback."""


class Client:
    def __init__(self, url: str, token: str | None = None, out=sys.stderr):
        self.url, self.token, self.out = url.rstrip("/"), token, out

    def login(self, prompt=input) -> None:
        if self.token:
            return
        phone = prompt("administrator's phone: ").strip()
        self.call("POST", "/api/v1/auth/code", json={"phone": phone})
        code = prompt("code sent to that phone: ").strip()
        self.token = self.call("POST", "/api/v1/auth/token",
                               json={"phone": phone, "code": code})["token"]
        self.out.write("logged in (set CHALLENGE_TOKEN to skip this next time)\n")

    def call(self, method: str, path: str, timeout: float = 30, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = requests.request(method, self.url + path, headers=headers,
                                        timeout=timeout, **kwargs)
        except requests.ConnectionError:
            raise CommandError(f"no platform answers at {self.url} (is `make run` up? "
                               "use --url)") from None
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": response.text[:200]}}
        if response.status_code >= 400:
            error = body.get("error", {})
            fields = error.get("fields") or {}
            detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
            raise CommandError(printable(f"{response.status_code} {error.get('message', '')}"
                                         + (f" ({detail})" if detail else "")))
        return body

    def upload(self, path: str, filename: str, form: dict, timeout: float = 600):
        """POST a file as multipart/form-data, showing how much has gone."""
        with open(filename, "rb") as handle:
            data = handle.read()
        body = _Progress(_multipart(os.path.basename(filename), data, form), self.out)
        result = self.call("POST", path, data=body, timeout=timeout,
                           headers={"Content-Type": f"multipart/form-data; boundary={body.boundary}"})
        return result


class _Progress:
    """A request body that reports its progress as it is read (requests streams it)."""

    def __init__(self, payload: tuple[str, bytes], out):
        self.boundary, self.data = payload
        self.sent, self.out, self.done = 0, out, False

    def __len__(self):
        return len(self.data)

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self.data) - self.sent
        chunk = self.data[self.sent:self.sent + size]
        self.sent += len(chunk)
        self.out.write(f"\ruploading {self.sent / 1024:,.0f} / {len(self.data) / 1024:,.0f} KiB"
                       f" ({100 * self.sent // max(1, len(self.data))}%)")
        if self.sent >= len(self.data) and not self.done:
            self.done = True
            self.out.write("\nprocessing on the server…\n")
        self.out.flush()
        return chunk


def _multipart(filename: str, data: bytes, form: dict) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in form.items():
        if value is None:
            continue
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return boundary, b"".join(parts)


def printable(text) -> str:
    """Text from a sheet (through the server) as safe to print on a terminal: a cell holding
    an escape sequence ("\\x1b]0;pwned\\x07" retitles the window, "\\x1b[2J" clears the
    screen) is shown escaped as Python writes it; every other character as it is, so Chinese
    stays readable."""
    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in str(text))


def print_report(report: dict, out=sys.stdout, shown: int = 200) -> int:
    """A sheet import's report for a person; the exit status (0 clean, 3 with row errors)."""
    mode = "dry run: nothing was changed" if report.get("dry_run") else "applied"
    out.write(f"{report['total']} row(s) read ({mode})\n")
    for key in ("created", "updated", "unchanged", "skipped", "retired"):
        if key in report:
            out.write(f"  {key:<10}{report[key]}\n")
    errors = report.get("errors", [])
    out.write(f"  {'errors':<10}{len(errors)}\n")
    for error in errors[:shown]:
        where = f"row {printable(error['row'])}" if error.get("row") else "sheet"
        out.write(f"  {where}, {printable(error['column'])}: {printable(error['message'])}\n")
    if len(errors) > shown:
        out.write(f"  … and {len(errors) - shown} more (use --json for all)\n")
    return 3 if errors else 0


def run_import(args, path: str, form: dict) -> int:
    if not os.path.isfile(args.file):
        raise CommandError(f"{args.file}: no such file")
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    report = client.upload(path, args.file, form)
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 3 if report.get("errors") else 0
    return print_report(report)


def run_close_month(args) -> int:
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    sys.stderr.write(f"closing {args.month}…\n")
    closed = client.call("POST", f"/api/v1/admin/months/{args.month}/close", json={},
                         timeout=600)
    if args.json:
        json.dump(closed, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"{closed['month']} closed at {closed['closed_at']} by "
                         f"{closed['closed_by']}: {closed['ranked_members']} ranked, "
                         f"{closed['passes']} passes up to {closed['cutoff']}; snapshot "
                         f"{closed['snapshot_id']}{' (final)' if closed['final'] else ''}\n")
    return 0


def run_awards_export(args) -> int:
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    headers = {"Authorization": f"Bearer {client.token}"}
    try:
        path = ("/api/v1/admin/annual.xlsx" if args.month == "annual"
                else f"/api/v1/admin/awards/{args.month}/ledger.xlsx")
        response = requests.get(f"{client.url}{path}", headers=headers, timeout=120)
    except requests.ConnectionError:
        raise CommandError(f"no platform answers at {client.url}") from None
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError):
            message = response.text[:200]
        raise CommandError(f"{response.status_code} {message}")
    out = args.out or ("annual-results.xlsx" if args.month == "annual"
                       else f"awards-{args.month}.xlsx")
    with open(out, "wb") as handle:
        handle.write(response.content)
    sys.stdout.write(f"wrote {out} ({len(response.content):,} bytes)\n")
    return 0
