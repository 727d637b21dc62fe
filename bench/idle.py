"""CPU an idle platform uses, in both modes, next to an idle bare nameko service's.

    .venv/bin/python bench/idle.py [--seconds 30] [--settle 10] [--env KEY=VALUE]

1. Distributed: every service and the gateway in its own `nameko run` process (bench/load.py's
   platform: a vhost and a database of the bench's own, the demo and its members, the settings
   as deployed), left alone: each process's CPU and that of the PostgreSQL backends connected
   to the bench's database, over `--seconds`.
2. `challenge dev` (the embedded platform with the demo, SQLite), its one process, the same.
3. The baseline: `nameko run bench._echo_service` (a bare nameko container on RabbitMQ).

CPU is user + system time from /proc/<pid>/stat, as % of one core. Each is measured after
`--settle` seconds of rest (the demo's events, the first timers). Printed with the targets of
issue 20 (< 2% of a core for the distributed platform, < 3% for `challenge dev`).
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import requests  # noqa: E402

from bench.cpu_per_submit import Meter, cpu_of, delta  # noqa: E402
from bench.load import PLAY_AT, Platform  # noqa: E402
from kernel.knobs import KNOBS  # noqa: E402
from tests import infra  # noqa: E402
from tests.distributed import free_port  # noqa: E402
from tests.thin_path import wait_for  # noqa: E402

BIN = os.path.dirname(sys.executable)


def percent(seconds, used):
    return {k: 100 * v / seconds for k, v in used.items()}


def distributed(settle, seconds, env):
    production = {"OUTBOX_POLL_SECONDS": str(KNOBS["OUTBOX_POLL_SECONDS"].default), **env}
    with Platform(10, PLAY_AT, env=production) as p:
        meter = Meter(p)
        eventlet.sleep(settle)
        before = meter.snapshot()
        eventlet.sleep(seconds)
        used = percent(*delta(before, meter.snapshot()))
        meter.backends.stop()
        return used


def one_process(command, env, ready_url, settle, seconds):
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        if ready_url:
            def ready():
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode()[-2000:])
                try:
                    return requests.get(ready_url, timeout=5).status_code == 200
                except requests.ConnectionError:
                    return False
            wait_for(ready, timeout=120, every=0.5, what=" ".join(command))
        eventlet.sleep(settle)
        t0, c0 = time.monotonic(), cpu_of(proc.pid)
        eventlet.sleep(seconds)
        return 100 * (cpu_of(proc.pid) - c0) / (time.monotonic() - t0)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def challenge_dev(settle, seconds):
    port = free_port()
    folder = tempfile.mkdtemp(prefix="bench-idle-")
    env = dict(os.environ, PYTHONWARNINGS="ignore", LOG_LEVEL="WARNING")
    env.pop("OUTBOX_POLL_SECONDS", None)
    return one_process([f"{BIN}/challenge", "dev", "--port", str(port), "--data", folder],
                       env, f"http://127.0.0.1:{port}/readyz", settle, seconds)


def bare_nameko(settle, seconds):
    vhost = infra.rabbit_vhost()
    try:
        env = dict(os.environ, AMQP_URI=next(vhost), PYTHONWARNINGS="ignore")
        return one_process([f"{BIN}/nameko", "run", "bench._echo_service"], env, None,
                           settle + 3, seconds)
    finally:
        vhost.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for every distributed process (DB_POOL_SIZE=2 on a "
                             "shared PostgreSQL); repeatable")
    args = parser.parse_args()
    print(f"idle CPU over {args.seconds:g} s after {args.settle:g} s of rest "
          f"({os.cpu_count()} CPUs; load average before {os.getloadavg()[0]:.2f})")
    base = bare_nameko(args.settle, args.seconds)
    print(f"baseline, a bare nameko service (one process): {base:.2f}% of a core")
    per = distributed(args.settle, args.seconds, dict(e.split("=", 1) for e in args.env))
    total = sum(per.values())
    print("distributed platform: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items())))
    print(f"  all: {total:.2f}% of a core ({total / max(base, 0.01):.1f}× the bare service; "
          f"target < 2%: {'met' if total < 2 else 'NOT met'})")
    dev = challenge_dev(args.settle, args.seconds)
    print(f"challenge dev (one process): {dev:.2f}% of a core ({dev / max(base, 0.01):.1f}× the "
          f"bare service; target < 3%: {'met' if dev < 3 else 'NOT met'})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
