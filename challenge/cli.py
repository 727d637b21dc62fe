"""`challenge`: the embedded platform and the operator's commands (contracts.md, "Commands")."""
from __future__ import annotations

import argparse
import sys
import warnings


def _quiet_warnings():
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _quiet_imports():
    _quiet_warnings()
    import eventlet

    eventlet.monkey_patch()


def _remote(parser):
    from challenge.client import DEFAULT_URL

    parser.add_argument("--url", default=DEFAULT_URL, help=f"the platform (default {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _remote_command(run) -> int:
    from challenge.client import CommandError

    try:
        return run()
    except CommandError as err:
        sys.stderr.write(f"challenge: {err}\n")
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv=None):
    parser = argparse.ArgumentParser(prog="challenge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the embedded platform (what `make run` calls)")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--data", default="var", help="where the SQLite files and codes go")
    dev.add_argument("--no-demo", action="store_true", help="start empty")
    dev.add_argument("--now", help="start the clock at this ISO instant (with offset)")

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("services", nargs="*", help="default: every service")

    roster = sub.add_parser("roster", help="the member roster").add_subparsers(
        dest="action", required=True)
    roster_import = roster.add_parser("import", help="load a member sheet (CSV or XLSX)")
    roster_import.add_argument("file")
    roster_import.add_argument("--dry-run", action="store_true", help="check; change nothing")
    roster_import.add_argument("--unit", help="the unit of rows without a unit column")
    _remote(roster_import)

    org = sub.add_parser("org", help="the organisation tree").add_subparsers(
        dest="action", required=True)
    org_import = org.add_parser("import", help="load an organisation sheet (上级, 名称, 类型, "
                                               "编码; CSV or XLSX)")
    org_import.add_argument("file")
    org_import.add_argument("--dry-run", action="store_true", help="check; change nothing")
    _remote(org_import)

    bank = sub.add_parser("bank", help="the question bank").add_subparsers(
        dest="action", required=True)
    bank_import = bank.add_parser("import", help="load questions (CSV, XLSX or JSON)")
    bank_import.add_argument("file")
    bank_import.add_argument("--dry-run", action="store_true", help="check; change nothing")
    _remote(bank_import)

    bank_import.add_argument("--campaign", metavar="YEAR",
                             help="the campaign's bank (default: the current campaign)")
    bank_copy = bank.add_parser("copy", help="copy a past campaign's questions into another's "
                                             "levels (by level number)")
    bank_copy.add_argument("--from", dest="source", required=True, metavar="YEAR")
    bank_copy.add_argument("--to", dest="target", required=True, metavar="YEAR")
    bank_copy.add_argument("--dry-run", action="store_true", help="check; change nothing")
    _remote(bank_copy)

    campaign = sub.add_parser("campaign", help="campaigns (R5, R9, R10): one a year")
    campaign = campaign.add_subparsers(dest="action", required=True)
    template = campaign.add_parser("template", help="write the seed's pattern for a year as a "
                                                    "campaign sheet (no platform needed)")
    template.add_argument("year", type=int)
    template.add_argument("--out", help="the file (.xlsx or .csv; default campaign-YEAR.xlsx)")
    template.add_argument("--time-zone", default="Asia/Shanghai")
    campaign_import = campaign.add_parser("import", help="create or edit a campaign from its "
                                                         "sheet (one row a level)")
    campaign_import.add_argument("file")
    campaign_import.add_argument("--dry-run", action="store_true", help="check; change nothing")
    campaign_import.add_argument("--force", action="store_true",
                                 help="change levels that have opened anyway (logged)")
    _remote(campaign_import)
    publish = campaign.add_parser("publish", help="make a year's draft the members' campaign")
    publish.add_argument("year", type=int)
    _remote(publish)
    _remote(campaign.add_parser("list", help="every campaign: drafts, current, past"))

    login = sub.add_parser("login", help="send a login code, or with --code print a token "
                                         "for CHALLENGE_TOKEN")
    login.add_argument("--phone", required=True)
    login.add_argument("--code")
    _remote(login)

    month = sub.add_parser("month", help="monthly results (R15)").add_subparsers(
        dest="action", required=True)
    month_close = month.add_parser("close", help="close a month now (idempotent)")
    month_close.add_argument("month", help="YYYY-MM")
    month_close.add_argument("--campaign", metavar="YEAR",
                             help="a past campaign's month (default: the current campaign)")
    _remote(month_close)

    awards = sub.add_parser("awards", help="awards (R16)").add_subparsers(
        dest="action", required=True)
    awards_export = awards.add_parser("export", help="a month's award ledger (XLSX)")
    awards_export.add_argument("month", help="YYYY-MM, or `annual` for the annual results")
    awards_export.add_argument("--out", help="the file to write (default awards-YYYY-MM.xlsx)")
    _remote(awards_export)
    awards_grant = awards.add_parser(
        "grant", help="grant a closed month's awards from its snapshot if they are missing "
                      "(idempotent)")
    awards_grant.add_argument("month", help="YYYY-MM")
    awards_grant.add_argument("--campaign", metavar="YEAR",
                              help="a past campaign's month (default: the current campaign)")
    _remote(awards_grant)

    _quiet_warnings()
    from challenge import admins, deadletters, events, ping

    admins.add_parser(sub)
    ping.add_parser(sub)
    deadletters.add_parser(sub)
    events.add_parser(sub)

    args = parser.parse_args(argv)
    if args.command in ("roster", "org", "bank", "month", "awards", "campaign", "login"):
        from challenge import client  # no eventlet: a plain HTTP client
    else:
        _quiet_imports()
    if args.command == "dev":
        from challenge.dev import run

        return run(args)
    if args.command == "roster" and args.action == "import":
        return _remote_command(lambda: client.run_import(
            args, "/api/v1/admin/roster/import",
            {"dry_run": "true" if args.dry_run else "false", "unit": args.unit}))
    if args.command == "org" and args.action == "import":
        return _remote_command(lambda: client.run_import(
            args, "/api/v1/admin/org-units/import",
            {"dry_run": "true" if args.dry_run else "false"}))
    if args.command == "bank" and args.action == "import":
        return _remote_command(lambda: client.run_import(
            args, "/api/v1/admin/questions/import",
            {"dry_run": "true" if args.dry_run else "false"}, campaign_year=args.campaign))
    if args.command == "bank" and args.action == "copy":
        return _remote_command(lambda: client.run_bank_copy(args))
    if args.command == "campaign":
        return _remote_command(lambda: getattr(client, f"run_campaign_{args.action}")(args))
    if args.command == "login":
        return _remote_command(lambda: client.run_login(args))
    if args.command == "month" and args.action == "close":
        return _remote_command(lambda: client.run_close_month(args))
    if args.command == "awards" and args.action == "export":
        return _remote_command(lambda: client.run_awards_export(args))
    if args.command == "awards" and args.action == "grant":
        return _remote_command(lambda: client.run_awards_grant(args))
    if args.command == "admin":
        return admins.main(args)
    if args.command == "ping":
        return ping.main(args)
    if args.command == "deadletters":
        return deadletters.main(args)
    if args.command == "events":
        return events.main(args)
    if args.command == "migrate":
        from challenge.ops import migrate as run_migrate

        return run_migrate(args.services)
    return 2


if __name__ == "__main__":
    sys.exit(main())
