"""`challenge dev`: the whole platform in one process, with demo data on first start."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import clock

# The demo campaign is 2018's; its clock starts on a day when levels 1–3 are open.
DEMO_NOW = "2018-05-20T09:00:00+08:00"


def _parse_instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise SystemExit(f"--now needs an offset, e.g. {DEMO_NOW}")
    return instant


def choose_clock(data_dir: str, now_arg: str | None, demo_wanted: bool):
    """The dev clock: --now, else the offset saved by an earlier start (time goes on where it
    left off), else the demo's day, else the system clock."""
    path = os.path.join(data_dir, "clock.json")
    real = datetime.now(timezone.utc)
    if now_arg:
        offset = (_parse_instant(now_arg) - real).total_seconds()
    elif os.path.exists(path):
        with open(path) as saved:
            offset = json.load(saved)["offset_seconds"]
    elif demo_wanted:
        offset = (_parse_instant(DEMO_NOW) - real).total_seconds()
    else:
        return clock.SystemClock()
    os.makedirs(data_dir, exist_ok=True)
    with open(path, "w") as saved:
        json.dump({"offset_seconds": offset}, saved)
    return clock.OffsetClock(real + timedelta(seconds=offset))


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(args) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = os.path.abspath(args.data)
    clock.install(choose_clock(data_dir, args.now, not args.no_demo))
    settings = embedded_settings(data_dir, args.port)
    if not _port_free(args.port):
        print(f"Port {args.port} is in use (another `make run`?): stop it, or choose another "
              f"with `challenge dev --port N`.", file=sys.stderr)
        return 2
    platform = EmbeddedPlatform(settings).start()

    loaded = None
    if not args.no_demo:
        with platform.rpc() as rpc:
            if rpc.roster.count_members() == 0:
                loaded = demo.load(rpc)

    url = f"http://127.0.0.1:{args.port}"
    print(f"\nThe challenge is running at {url}/  (admin page: {url}/admin, API docs: "
          f"{url}/docs, health: {url}/healthz)")
    local_now = clock.current().now().astimezone(ZoneInfo(settings.time_zone))
    print(f"Clock: {local_now.isoformat(timespec='seconds')} ({settings.time_zone})   "
          f"data: {data_dir}")
    if loaded:
        print(f"Demo data loaded: {loaded['members']} members, campaign "
              f"{loaded['campaign']['name']} with {len(loaded['campaign']['levels'])} levels.")
    if not args.no_demo:
        print(f"Demo logins (phone): member {demo.member_rows()[1]['phone']}, "
              f"system admin {demo.SYSTEM_ADMIN_PHONE}")
        print(f"Login codes are written to {settings.sms_file} (no SMS in development).")
    print("Stop with Ctrl-C.", flush=True)

    def _stop(*_):
        platform.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        platform.wait()
    except KeyboardInterrupt:
        platform.stop()
    return 0
