"""`challenge dev`: the whole platform in one process, with demo data on first start."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import eventlet
from eventlet import patcher

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import clock
from kernel.settings import secret_problem

original_threading = patcher.original("threading")  # real OS threads, outside the hub
original_time = patcher.original("time")

# The demo campaign is 2018's; its clock starts on a day when levels 1–3 are open.
DEMO_NOW = "2018-05-20T09:00:00+08:00"
# SIGTERM or Ctrl-C: the runner stops (its in-memory consumers notice within a second or
# so each, 3 s in all), or is killed after GRACE_SECONDS; the process is gone by STOP_SECONDS
GRACE_SECONDS = 3.5
STOP_SECONDS = 4.5


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


def hold_data_folder(data_dir: str):
    """An exclusive lock on the data folder (`.lock`, with this process's id), held until the
    process ends, or None when another process holds it: two platforms on the same SQLite
    files each close the month and each relay events, and one's writes can lose the other's
    (a month's `month_closed` was lost that way)."""
    os.makedirs(data_dir, exist_ok=True)
    fd = os.open(os.path.join(data_dir, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd  # the lock goes with the process, however it ends


def _holder(data_dir: str) -> str:
    with open(os.path.join(data_dir, ".lock"), encoding="utf-8") as lock:
        return lock.read().strip() or "?"


def stop_on_signals(platform) -> None:
    """SIGTERM and Ctrl-C stop the platform within STOP_SECONDS, however it is doing.

    A Python signal handler runs in whichever greenthread is current, often one of the
    in-memory bus's consumers: stopping the runner right there made that consumer wait for
    its own end, so the process outlived SIGTERM with its port closed, the other consumers
    (which then polled every few milliseconds) still running, until SIGKILL. The handler now only
    starts a greenthread that stops the runner and kills it past GRACE_SECONDS, and arms a
    plain OS thread that ends the process at STOP_SECONDS should even that hang."""
    stopping = []

    def stop_runner():
        try:
            with eventlet.Timeout(GRACE_SECONDS):
                platform.stop()
        except eventlet.Timeout:
            platform.kill()

    def last_resort():
        original_time.sleep(STOP_SECONDS)
        print(f"challenge dev did not stop within {STOP_SECONDS:g} s; exiting.",
              file=sys.stderr, flush=True)
        os._exit(1)

    def on_signal(*_):
        if stopping:
            return
        stopping.append(True)
        original_threading.Thread(target=last_resort, daemon=True).start()
        eventlet.spawn_n(stop_runner)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def demo_logins_banner() -> str:
    return "Demo logins (phone): " + ", ".join(f"{who} {phone}" for who, phone in demo.logins())


def run(args) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = os.path.abspath(args.data)
    if hold_data_folder(data_dir) is None:
        print(f"another challenge dev is running on {data_dir} (pid {_holder(data_dir)}); "
              f"stop it first", file=sys.stderr)
        return 2
    clock.install(choose_clock(data_dir, args.now, not args.no_demo))
    settings = embedded_settings(data_dir, args.port)
    problem = secret_problem(settings.nameko_config())
    if problem:  # a CHALLENGE_SECRET given but short: the folder's own is not used then
        print(problem, file=sys.stderr)
        return 2
    if not _port_free(args.port):
        print(f"Port {args.port} is in use (another `make run`?): stop it, or choose another "
              f"with `challenge dev --port N`.", file=sys.stderr)
        return 2
    platform = EmbeddedPlatform(settings).start()
    stop_on_signals(platform)

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
        print(demo_logins_banner())
        print(f"Login codes are written to {settings.sms_file} (no SMS in development).")
    print("Stop with Ctrl-C.", flush=True)
    platform.wait()
    return 0
