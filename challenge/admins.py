"""`challenge admin create|list`: the first system administrator, straight to roster's database.

    challenge admin create --phone 13900000000 --name 张三 [--org 省总工会] [--another] [--data DIR]
    challenge admin list [--data DIR] [--json]

Nobody can log in on a fresh install, so these do not go through the HTTP API: they open
roster's database as `challenge migrate` does (migrating roster first, so a fresh data
folder works before `challenge dev` has run) and write in one transaction, audited, with
roster's events in its outbox (the platform publishes them when it runs). Which database:
`--data DIR` is the embedded platform's data folder (`challenge dev --data`, default `var`);
without `--data`, `ROSTER_DATABASE_URL` or `DATABASE_URL` when set (the distributed mode),
else the folder `var`.
"""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager

from kernel.errors import ChallengeError
from kernel.settings import Settings


def roster_config(data: str | None, environ=None) -> tuple[dict, str | None]:
    """The nameko config roster's database is read from, and the embedded data folder it is
    in (None: the distributed mode's database)."""
    settings = Settings.from_env(environ)
    distributed = settings.database_url or settings.service_database_urls.get("roster")
    if data is None and distributed:
        return settings.nameko_config(), None
    folder = os.path.abspath(data or "var")
    config = settings.with_(database_url=None, service_database_urls={
        "roster": f"sqlite:///{folder}/roster.db"}).nameko_config()
    return config, folder


def _clock(folder: str | None) -> None:
    """The embedded platform's clock runs where its folder's clock.json says: so do we (the
    distributed mode's is CHALLENGE_CLOCK_OFFSET_SECONDS, read by kernel.clock itself)."""
    from kernel import clock

    if folder is not None and os.path.exists(os.path.join(folder, "clock.json")):
        from challenge.dev import choose_clock

        clock.install(choose_clock(folder, None, False))


@contextmanager
def roster_transaction(config: dict):
    """One unit of work on roster's database outside any service (kernel.uow.Transaction)."""
    from sqlalchemy.orm import Session

    from kernel.db import service_engine
    from kernel.migrations import upgrade
    from kernel.uow import Transaction
    from services.roster.models import Base
    from services.roster.store import RosterStore

    upgrade(config, ["roster"])
    engine = service_engine(config, "roster")
    session = Session(engine, expire_on_commit=False, info={"metadata": Base.metadata})
    tx = Transaction(session, Base.metadata, "roster", RosterStore)
    try:
        yield tx
        if tx.discarded:
            session.rollback()
        else:
            tx.flush_events()
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def main(args) -> int:
    from services.roster import bootstrap

    config, folder = roster_config(args.data)
    _clock(folder)
    where = (f"the data folder {folder}" if folder
             else "the database of ROSTER_DATABASE_URL/DATABASE_URL")
    try:
        with roster_transaction(config) as tx:
            if args.action == "create":
                made = bootstrap.create_system_admin(tx, args.phone, args.name, args.org,
                                                     args.another)
            else:
                rows = bootstrap.list_admins(tx.store)
    except ChallengeError as err:
        print(f"challenge: {err.message}", file=sys.stderr)
        return 2
    if args.action == "create":
        if args.json:
            print(json.dumps(made, ensure_ascii=False, indent=2))
        else:
            what = "created" if made["created"] else "an existing member"
            print(f"{made['name']} {made['phone']} ({what}) is a system administrator "
                  f"in {where}; they log in with that phone.")
        return 0
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(f"no administrators in {where}: `challenge admin create --phone P --name N`")
    for row in rows:
        state = "" if row["status"] == "active" and not row["disqualified"] else " (suspended)"
        print(f"{row['role']:<19}{row['name']}  {row['phone']}  {row['org_unit_name']}{state}")
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("admin", help="the first system administrator (to the database)")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a system administrator")
    create.add_argument("--phone", required=True, help="11 digits, their login")
    create.add_argument("--name", required=True)
    create.add_argument("--org", help="the organisation they belong to (name or id; made "
                                      "under the root when the tree has none of that name)")
    create.add_argument("--another", action="store_true",
                        help="add one although a system administrator exists")
    listing = actions.add_parser("list", help="every administrator and their role")
    for action in (create, listing):
        action.add_argument("--data", help="the embedded platform's data folder (default: "
                                           "DATABASE_URL when set, else var)")
        action.add_argument("--json", action="store_true")
