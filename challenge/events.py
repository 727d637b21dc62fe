"""`challenge events replay`: a late subscriber gets the events it missed (kernel/replay.py).

    challenge events replay --exchange awards.events --since 2018-03-01T00:00:00+00:00 \\
        [--type award_granted] --to-queue agency-x [--dry-run] [--json]

Reads the producer's outbox with its own engine (its schema or `<SERVICE>_DATABASE_URL`, as
`challenge migrate` does) and publishes the retained events since `--since`, in order, with
their original body and `event_id`, into the queue only (the default exchange). The queue
must exist (declared and bound by its subscriber); `--dry-run` counts without publishing.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime

from sqlalchemy import MetaData

from kernel.errors import ChallengeError
from kernel.settings import SERVICES, Settings


def replay(config: dict, service: str, since, queue: str, type_=None,
           dry_run=False) -> list[dict]:
    """What was (or would be) republished into `queue`, in order: event id and type."""
    from kernel import replay as replays
    from kernel.db import service_engine
    from kernel.outbox import outbox_table

    replays.check_type(service, type_)
    replays.check_target(queue)
    engine = service_engine(config, service)
    try:
        with engine.connect() as session:
            rows = replays.retained(session, outbox_table(MetaData()), since, type_)
    finally:
        engine.dispose()
    if not dry_run:
        replays.republish(config["AMQP_URI"], service, rows, queue)
    return [{"event_id": row.event_id, "type": row.type} for row in rows]


def _since(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError("give --since with its offset, e.g. 2018-03-01T00:00:00+00:00")
    return at


def main(args) -> int:
    service = args.exchange.removesuffix(".events")
    if service not in SERVICES or not args.exchange.endswith(".events"):
        print(f"no exchange {args.exchange}: choose from "
              f"{', '.join(s + '.events' for s in SERVICES)}", file=sys.stderr)
        return 2
    try:
        since = _since(args.since)
    except ValueError as err:
        print(f"--since: {err}", file=sys.stderr)
        return 2
    config = Settings.from_env().nameko_config()
    try:
        done = replay(config, service, since, args.to_queue, args.type, args.dry_run)
    except ChallengeError as err:
        print(f"challenge: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"replayed" if not args.dry_run else "would_replay": done}, indent=2))
        return 0
    verb = "would replay" if args.dry_run else "replayed"
    for event in done:
        print(f"{verb} {event['event_id']} ({event['type']})")
    print(f"{len(done)} event(s) {verb} from {args.exchange} into {args.to_queue}")
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("events", help="events for other agencies: replay retained ones")
    actions = parser.add_subparsers(dest="action", required=True)
    action = actions.add_parser("replay", help="republish retained events into one queue")
    action.add_argument("--exchange", required=True, help="<service>.events")
    action.add_argument("--since", required=True, help="ISO time with offset")
    action.add_argument("--type", help="only this event type")
    action.add_argument("--to-queue", required=True, help="the subscriber's queue (must exist)")
    action.add_argument("--dry-run", action="store_true", help="count; publish nothing")
    action.add_argument("--json", action="store_true")
