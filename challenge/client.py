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

DEFAULT_URL = os.environ.get("CHALLENGE_URL") or "http://127.0.0.1:8000"
# control and format characters (escape sequences, bidirectional overrides, line separators)
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp"}


class CommandError(Exception):
    """Something the operator must fix; printed without a traceback."""


class _Refused(Exception):
    """The platform refused the token (401)."""


class Client:
    def __init__(self, url: str, token: str | None = None, out=sys.stderr):
        self.url, self.token, self.out = url.rstrip("/"), token, out

    def login(self, prompt=input, interactive=None) -> None:
        """A token: CHALLENGE_TOKEN's, else a login at the terminal. With no terminal to ask
        on (a script, cron), one line saying what to set instead of an EOFError."""
        if self.token:
            return
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        if not interactive:
            raise CommandError("not logged in: set CHALLENGE_TOKEN to an administrator's "
                               "token (no terminal to ask for a phone and a code)")
        try:
            phone = prompt("administrator's phone: ").strip()
            self.call("POST", "/api/v1/auth/code", json={"phone": phone})
            code = prompt("code sent to that phone: ").strip()
        except (EOFError, KeyboardInterrupt):
            raise CommandError("login cancelled") from None
        self.token = self.call("POST", "/api/v1/auth/token",
                               json={"phone": phone, "code": code})["token"]
        self.out.write("logged in. To skip this next time, keep the token in this shell "
                       "(it is shown once):\n"
                       f"  export CHALLENGE_TOKEN={self.token}\n")

    def call(self, method: str, path: str, timeout: float = 30, relogin=None, **kwargs):
        """One request; an error answer is a CommandError. A token refused (401, expired or
        signed for another platform) is offered a new login at a terminal, then the request
        is made once more."""
        if relogin is None:
            relogin = sys.stdin is not None and sys.stdin.isatty()
        try:
            return self._call(method, path, timeout, dict(kwargs))
        except _Refused:
            if not relogin:
                raise CommandError("401 the token is expired or not valid here: log in "
                                   "again (unset CHALLENGE_TOKEN, or set a fresh one)") from None
        self.out.write("the token is expired or not valid here: log in again\n")
        self.token = None
        self.login(interactive=True)
        body = kwargs.get("data")
        if isinstance(body, _Progress):
            body.sent, body.done = 0, False
        return self._call(method, path, timeout, kwargs)

    def _call(self, method: str, path: str, timeout: float, kwargs: dict):
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
        if response.status_code == 401 and self.token:
            raise _Refused()
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
    """A request body that reports its progress as it is read (requests streams it): one
    line drawn by rich (a bar on a terminal; only the finished line elsewhere)."""

    def __init__(self, payload: tuple[str, bytes], out):
        from rich.console import Console
        from rich.progress import (
            BarColumn, DownloadColumn, Progress, TaskProgressColumn, TextColumn,
        )

        self.boundary, self.data = payload
        self.sent, self.out, self.done = 0, out, False
        self.bar = Progress(TextColumn("uploading"), BarColumn(), DownloadColumn(),
                            TaskProgressColumn(), console=Console(file=out),
                            transient=False)
        self.task = self.bar.add_task("upload", total=len(self.data))

    def __len__(self):
        return len(self.data)

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self.data) - self.sent
        if self.sent == 0:
            self.bar.reset(self.task, total=len(self.data))
            self.bar.start()
        chunk = self.data[self.sent:self.sent + size]
        self.sent += len(chunk)
        self.bar.update(self.task, completed=self.sent)
        if self.sent >= len(self.data) and not self.done:
            self.done = True
            self.bar.stop()
            self.out.write("processing on the server…\n")
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
    for key in ("created", "updated", "unchanged", "removed", "skipped", "retired"):
        if key in report:
            out.write(f"  {key:<10}{report[key]}\n")
    errors = report.get("errors", [])
    out.write(f"  {'errors':<10}{len(errors)}\n")
    for error in errors[:shown]:
        where = f"row {printable(error['row'])}" if error.get("row") else "sheet"
        out.write(f"  {where}, {printable(error['column'])}: {printable(error['message'])}\n")
    if len(errors) > shown:
        out.write(f"  … and {len(errors) - shown} more (use --json for all)\n")
    for warning in report.get("warnings", [])[:shown]:  # the organisation sheet's (R4)
        out.write(f"  warning: unit {printable(warning['name'])} has no administrator yet "
                  "(R4: its member sheet marks one 管理员)\n")
    return 3 if errors else 0


def run_import(args, path: str, form: dict, campaign_year=None) -> int:
    if not os.path.isfile(args.file):
        raise CommandError(f"{args.file}: no such file")
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    if campaign_year:  # a bank of a named campaign (a draft's, before it is published)
        form = dict(form, campaign_id=campaign_of_year(client, campaign_year)["campaign_id"])
    return show_report(args, client.upload(path, args.file, form))


def show_report(args, report: dict) -> int:
    """An import's report as JSON (--json) or for a person; the exit status (0, 3)."""
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 3 if report.get("errors") else 0
    return print_report(report)


def run_close_month(args) -> int:
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    sys.stderr.write(f"closing {args.month}…\n")
    closed = client.call("POST", f"/api/v1/admin/months/{args.month}/close"
                         f"{_of_campaign(client, args)}", json={}, timeout=600)
    if args.json:
        json.dump(closed, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        zone = campaign_zone(client)
        sys.stdout.write(f"{closed['month']} closed at {local_time(closed['closed_at'], zone)} "
                         f"by {closed['closed_by']}: {closed['ranked_members']} ranked, "
                         f"{closed['passes']} passes up to {local_time(closed['cutoff'], zone)}"
                         f" ({zone}); snapshot "
                         f"{closed['snapshot_id']}{' (final)' if closed['final'] else ''}\n")
    return 0


def campaign_zone(client: "Client") -> str:
    """The current campaign's time zone (instants are printed in it), UTC when none."""
    try:
        return client.call("GET", "/api/v1/admin/campaign").get("time_zone") or "UTC"
    except CommandError:
        return "UTC"


def local_time(instant: str | None, zone: str) -> str:
    """An API instant (ISO 8601, UTC) as the campaign's people read it: local, to the second
    (R15's cutoff 23:59:59.999 reads 23:59:59)."""
    if not instant:
        return "-"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def run_awards_grant(args) -> int:
    """A closed month's awards granted from its snapshot if they are missing (a month_closed
    lost or dead-lettered); a month whose awards exist is left as it is."""
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    got = client.call("POST", f"/api/v1/admin/awards/{args.month}/grant"
                      f"{_of_campaign(client, args)}", json={}, timeout=600)
    if args.json:
        json.dump(got, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        done = "granted now" if got["granted"] else "already granted: nothing changed"
        sys.stdout.write(f"{got['month']}: {done}; {got['awards']} awards, "
                         f"{got['held']} held for review\n")
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


# -- campaigns (issue 19): a campaign is named by its year on the command line ---------------

def _logged_in(args) -> Client:
    client = Client(args.url, os.environ.get("CHALLENGE_TOKEN"))
    client.login()
    return client


def _of_campaign(client: Client, args) -> str:
    """`?campaign_id=…` for `--campaign YEAR` (a past campaign's month), else nothing."""
    year = getattr(args, "campaign", None)
    return f"?campaign_id={campaign_of_year(client, year)['campaign_id']}" if year else ""


def campaign_of_year(client: Client, year) -> dict:
    items = client.call("GET", "/api/v1/admin/campaigns")["items"]
    for campaign in items:
        if str(campaign["year"]) == str(year):
            return campaign
    raise CommandError(f"no campaign for {year} (see `challenge campaign list`)")


def run_campaign_template(args) -> int:
    """The seed's pattern for a year as a campaign sheet; written here, no platform needed."""
    from kernel import sheets
    from kernel.errors import BadInput
    from services.question_bank.campaign_sheet import HEADERS, template_rows

    out = args.out or f"campaign-{args.year}.xlsx"
    try:
        rows = template_rows(args.year, args.time_zone)
    except BadInput as err:
        raise CommandError(str(err)) from None
    data, _ = sheets.write_rows(rows, list(HEADERS.values()),
                                "csv" if out.lower().endswith(".csv") else "xlsx")
    with open(out, "wb") as handle:
        handle.write(data)
    sys.stdout.write(f"wrote {out}: {len(rows)} levels of {args.year} (the seed's pattern); "
                     f"edit it, then `challenge campaign import {out}`\n")
    return 0


def run_campaign_import(args) -> int:
    if not os.path.isfile(args.file):
        raise CommandError(f"{args.file}: no such file")
    client = _logged_in(args)
    report = client.upload("/api/v1/admin/campaigns/import", args.file,
                           {"dry_run": "true" if args.dry_run else "false",
                            "force": "true" if args.force else "false"})
    status = show_report(args, report)
    if args.json:
        return status
    campaign = report.get("campaign")
    if campaign and not args.dry_run:
        state = "published" if campaign["published_at"] else (
            f"a draft: publish it with `challenge campaign publish {campaign['year']}`")
        sys.stdout.write(printable(f"{campaign['name']} ({campaign['year']}): "
                                   f"{len(campaign['levels'])} levels, {state}") + "\n")
    return status


def run_campaign_publish(args) -> int:
    client = _logged_in(args)
    campaign = campaign_of_year(client, args.year)
    published = client.call("POST", f"/api/v1/admin/campaigns/{campaign['campaign_id']}"
                            "/publish", json={})
    sys.stdout.write(printable(f"{published['name']} is published: members play it from "
                               f"{published['starts_at']}") + "\n")
    return 0


def run_campaign_list(args) -> int:
    items = _logged_in(args).call("GET", "/api/v1/admin/campaigns")["items"]
    if args.json:
        json.dump(items, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for c in items:
        state = "current" if c["current"] else "published" if c["published_at"] else "draft"
        sys.stdout.write(printable(f"{c['year']}  {state:<9} {c['levels']:>2} levels "
                                   f"{c['active_questions']:>5} questions  {c['name']}") + "\n")
    if not items:
        sys.stdout.write("no campaign yet: `challenge campaign template YEAR`, then "
                         "`challenge campaign import FILE`\n")
    return 0


def run_bank_copy(args) -> int:
    client = _logged_in(args)
    source = campaign_of_year(client, args.source)
    target = campaign_of_year(client, args.target)
    report = client.call("POST", f"/api/v1/admin/campaigns/{target['campaign_id']}/bank/copy",
                         json={"from_campaign_id": source["campaign_id"],
                               "dry_run": args.dry_run}, timeout=600)
    return show_report(args, report)


def run_login(args) -> int:
    """Without --code: send a login code to the phone. With it: print the token alone, for
    `export CHALLENGE_TOKEN=$(challenge login --phone P --code C)`."""
    client = Client(args.url)
    if not args.code:
        client.call("POST", "/api/v1/auth/code", json={"phone": args.phone})
        sys.stderr.write(f"a code was sent to {args.phone} (`challenge dev` writes it to "
                         "login-codes.log in its data folder); then:\n  export CHALLENGE_TOKEN"
                         f"=$(challenge login --phone {args.phone} --code CODE)\n")
        return 0
    token = client.call("POST", "/api/v1/auth/token",
                        json={"phone": args.phone, "code": args.code})["token"]
    sys.stdout.write(token + "\n")
    return 0
