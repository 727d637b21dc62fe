#!/usr/bin/env python3
"""Receive the challenge's events with a plain AMQP client (pika), as another agency would.

    pip install pika==1.3.2
    AMQP_URI=amqp://user:password@broker:5672/%2F python subscriber.py --queue my-agency

It declares a durable queue of its own (a quorum queue with `--quorum`), binds it to the
`attempts.events` exchange for `attempt_passed` and to `awards.events` for `award_granted`,
and prints each event as one JSON line on stdout. Delivery is at least once, so it skips an
`event_id` it has already printed (a real subscriber keeps those in its database, in the same
transaction as its own work), and it acknowledges a message only after handling it: if it
stops halfway, the broker delivers the message again. The queue outlives the subscriber:
events published while it is down wait for it. docs/events.md describes every event.

Options: `--bind EXCHANGE:ROUTING_KEY` (repeatable) replaces the two default bindings;
`--max-events N` stops after N events (handy in tests). Ctrl-C or SIGTERM stops it cleanly.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

import pika

DEFAULT_BINDINGS = ["attempts.events:attempt_passed", "awards.events:award_granted"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-uri", default=os.environ.get(
        "AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/%2F"))
    parser.add_argument("--queue", default="agency-example",
                        help="your queue's name (durable; pick one per subscribing system)")
    parser.add_argument("--bind", action="append", metavar="EXCHANGE:ROUTING_KEY",
                        help=f"default: {' '.join(DEFAULT_BINDINGS)}")
    parser.add_argument("--quorum", action="store_true", help="declare a quorum queue")
    parser.add_argument("--max-events", type=int, default=0, help="stop after N (0: never)")
    return parser.parse_args(argv)


def pika_url(uri: str) -> str:
    """kombu-style `amqp://host//` (vhost `/`) as pika wants it (`%2F`)."""
    if uri.endswith("//"):
        return uri[:-1] + "%2F"
    return uri


def winner(event) -> str | None:
    """A line naming an award's winner: events about a member carry who they are
    (`member`: name, masked phone, unit, branch; docs/agencies.md)."""
    data = event.get("data") or {}
    who = data.get("member")
    if event.get("type") != "award_granted" or not who:
        return None
    place = " / ".join(filter(None, [who.get("unit_name"), who.get("branch_name")]))
    return (f"award {data.get('kind')} {data.get('period')} rank {data.get('rank')}: "
            f"{who['name']} ({who.get('phone_masked')}{', ' + place if place else ''})")


def main(argv=None) -> int:
    args = parse_args(argv)
    connection = pika.BlockingConnection(pika.URLParameters(pika_url(args.amqp_uri)))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=20)
    arguments = {"x-queue-type": "quorum"} if args.quorum else None
    channel.queue_declare(queue=args.queue, durable=True, arguments=arguments)
    for binding in args.bind or DEFAULT_BINDINGS:
        exchange, routing_key = binding.split(":", 1)
        # bind, do not declare: each producer declares its exchange when it starts, before
        # its first event; a passive declare fails (404) only if the platform is not up
        channel.exchange_declare(exchange=exchange, passive=True)
        channel.queue_bind(queue=args.queue, exchange=exchange, routing_key=routing_key)

    seen: set[str] = set()
    handled = 0

    def on_message(ch, method, properties, body):
        nonlocal handled
        try:
            event = json.loads(body)
        except ValueError:
            print(f"not JSON, skipped: {body[:100]!r}", file=sys.stderr)
            ch.basic_ack(method.delivery_tag)
            return
        if event.get("event_id") not in seen:  # at least once: the same event may come twice
            seen.add(event.get("event_id"))
            print(json.dumps(event, ensure_ascii=False), flush=True)
            named = winner(event)
            if named:
                print(named, file=sys.stderr, flush=True)
            handled += 1
        ch.basic_ack(method.delivery_tag)  # only now is it done
        if args.max_events and handled >= args.max_events:
            ch.stop_consuming()

    def stop(*_):
        connection.add_callback_threadsafe(channel.stop_consuming)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    channel.basic_consume(queue=args.queue, on_message_callback=on_message)
    print(f"listening on {args.queue}", file=sys.stderr, flush=True)
    try:
        channel.start_consuming()
    finally:
        if connection.is_open:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
