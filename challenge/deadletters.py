"""Dead letters: list them, read them, replay them (`challenge deadletters ...`).

An event whose handler failed for good lands in `dead.<handler queue>` (bound to the direct
exchange `dead-letters`; see kernel/entrypoints.py). This talks to the broker at `AMQP_URI`
directly, as an operator does next to it:

- `list` counts the messages of every dead-letter queue of the platform's handlers (their
  names come from the code, so nothing needs the management plugin);
- `show QUEUE` prints each message: event type, event_id, producer, why and how often it died,
  and the start of its body; nothing is taken off the queue;
- `replay QUEUE [--event-id ID ...] [--all] [--dry-run]` publishes each chosen message back to
  the queue it died in (through the default exchange, with a publisher confirm) and only then
  acks it. Handlers dedupe on event_id, so replaying one that did get applied is harmless.
  Messages not chosen stay where they are; a message whose queue no longer exists stays too.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from kombu import Connection, Producer

from kernel.settings import DEFAULT_AMQP_URI

DEAD = "dead."


def handler_queues() -> list[str]:
    """Every event handler queue of the platform's services, as nameko names them."""
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    from kernel.entrypoints import ReliableEventHandler
    from services.attempts.service import AttemptsService
    from services.awards.service import AwardsService
    from services.question_bank.service import QuestionBankService
    from services.ranking.service import RankingService
    from services.roster.service import RosterService

    names = []
    for cls in (RosterService, QuestionBankService, AttemptsService, RankingService,
                AwardsService):
        for attribute in sorted(vars(cls)):
            for entrypoint in getattr(getattr(cls, attribute), ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, ReliableEventHandler):
                    names.append(f"evt-{entrypoint.source_service}-{entrypoint.event_type}"
                                 f"--{cls.name}.{attribute}")
    return sorted(names)


@dataclass
class Letter:
    message: object
    event_id: str | None
    event_type: str | None
    producer: str | None
    died_in: str | None
    reason: str | None
    deaths: int
    body: bytes

    @classmethod
    def of(cls, message):
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        if not isinstance(event, dict):
            event = {}
        deaths = (message.headers or {}).get("x-death") or []
        first = deaths[0] if deaths else {}
        return cls(message=message, event_id=event.get("event_id"),
                   event_type=event.get("type"), producer=event.get("producer"),
                   died_in=_text(first.get("queue")), reason=_text(first.get("reason")),
                   deaths=sum(int(d.get("count", 1)) for d in deaths), body=body)

    def describe(self) -> dict:
        return {"event_id": self.event_id, "type": self.event_type, "producer": self.producer,
                "queue": self.died_in, "reason": self.reason, "deaths": self.deaths,
                "body": self.body[:200].decode("utf-8", errors="replace")}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _count(channel, queue: str) -> int | None:
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # noqa: BLE001 - the broker closes the channel on a missing queue
        return None


def counts(amqp_uri: str, queues=None) -> dict[str, int | None]:
    """Messages in each dead-letter queue of `queues` (default: every handler of the platform;
    None: the queue was never declared)."""
    out = {}
    with Connection(amqp_uri) as conn:
        for queue in queues or handler_queues():
            channel = conn.channel()
            out[DEAD + queue] = _count(channel, DEAD + queue)
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - already closed by the broker
                pass
    return out


def _take_all(conn, queue: str) -> list[Letter]:
    """Every message of `queue`, unacked (closing the channel puts back what is not acked)."""
    channel = conn.channel()
    channel.basic_qos(0, 0, False)
    letters = []
    while True:
        raw = channel.basic_get(queue=queue, no_ack=False)
        if raw is None:
            break
        letters.append(Letter.of(channel.message_to_python(raw)))
    return letters


def show(amqp_uri: str, queue: str) -> list[dict]:
    with Connection(amqp_uri) as conn:
        letters = _take_all(conn, _dead_name(queue))
        return [letter.describe() for letter in letters]  # closing requeues them all


def replay(amqp_uri: str, queue: str, event_ids=(), every=False, dry_run=False) -> dict:
    """Publish the chosen letters back to the queues they died in; ack each once the broker
    confirmed it. Returns what was (or, with dry_run, would be) replayed and what stayed."""
    chosen, stayed = [], []
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        letters = _take_all(conn, _dead_name(queue))
        producer = Producer(conn.channel())
        check = conn.channel()
        for letter in letters:
            wanted = every or (letter.event_id in set(event_ids))
            if not wanted:
                stayed.append(letter.describe())
                continue
            if not letter.died_in or _count(check, letter.died_in) is None:
                if not check.is_open:
                    check = conn.channel()
                stayed.append(dict(letter.describe(), why="its queue does not exist"))
                continue
            if not dry_run:
                headers = {k: v for k, v in (letter.message.headers or {}).items()
                           if not k.startswith("x-")}
                producer.publish(letter.body, exchange="", routing_key=letter.died_in,
                                 headers=headers, content_type=letter.message.content_type,
                                 content_encoding=letter.message.content_encoding,
                                 delivery_mode=2, retry=True)
                letter.message.ack()
            chosen.append(letter.describe())
    return {"replayed": [] if dry_run else chosen, "would_replay": chosen if dry_run else [],
            "stayed": stayed}


def _dead_name(queue: str) -> str:
    return queue if queue.startswith(DEAD) else DEAD + queue


def main(args) -> int:
    import os

    uri = args.amqp_uri or os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
    if args.action == "list":
        found = counts(uri)
        if args.json:
            print(json.dumps(found, indent=2))
            return 0
        for queue, count in found.items():
            print(f"{'—' if count is None else count:>6}  {queue}")
        total = sum(c or 0 for c in found.values())
        print(f"{total} dead letter(s) in {sum(1 for c in found.values() if c)} queue(s)")
        return 0
    if args.action == "show":
        letters = show(uri, args.queue)
        if args.json:
            print(json.dumps(letters, indent=2, ensure_ascii=False))
            return 0
        for letter in letters:
            print(f"{letter['event_id']}  {letter['type']} from {letter['producer']}: "
                  f"{letter['reason']} in {letter['queue']} ({letter['deaths']}×)\n"
                  f"    {letter['body']}")
        print(f"{len(letters)} message(s) in {_dead_name(args.queue)}")
        return 0
    if args.action == "replay":
        if not args.all and not args.event_id:
            print("name the events with --event-id ID (repeatable), or --all", file=sys.stderr)
            return 2
        done = replay(uri, args.queue, args.event_id or (), args.all, args.dry_run)
        if args.json:
            print(json.dumps(done, indent=2, ensure_ascii=False))
            return 0
        verb = "would replay" if args.dry_run else "replayed"
        for letter in done["would_replay" if args.dry_run else "replayed"]:
            print(f"{verb} {letter['event_id']} ({letter['type']}) to {letter['queue']}")
        for letter in done["stayed"]:
            if letter.get("why"):
                print(f"kept {letter['event_id']}: {letter['why']}")
        count = len(done["would_replay" if args.dry_run else "replayed"])
        print(f"{count} {verb}; {len(done['stayed'])} left in {_dead_name(args.queue)}")
        return 0
    return 2


def add_parser(sub) -> None:
    parser = sub.add_parser("deadletters", help="list, read and replay dead-lettered events")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, text in (("list", "count the dead letters of every handler queue"),
                       ("show", "print a dead-letter queue's messages (they stay)"),
                       ("replay", "put dead letters back into the queue they died in")):
        action = actions.add_parser(name, help=text)
        if name != "list":
            action.add_argument("queue", help="the handler queue or its dead.<queue>")
        if name == "replay":
            action.add_argument("--event-id", action="append", help="replay this event")
            action.add_argument("--all", action="store_true", help="replay every message")
            action.add_argument("--dry-run", action="store_true", help="say; change nothing")
        action.add_argument("--amqp-uri", help="default: $AMQP_URI")
        action.add_argument("--json", action="store_true")
