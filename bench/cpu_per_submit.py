"""CPU per submit, per process, in the distributed mode, next to an echo's in the same run.

    .venv/bin/python bench/cpu_per_submit.py [--members 150] [--levels 2] [--concurrency 10]
                                             [--echoes 4] [--flagged] [--json FILE] [--env K=V]

Every service and the gateway in its own `nameko run` process (bench/load.py's platform: a
vhost and a database of the bench's own, the demo, `--members` members, a bare echo service
behind the same gateway). For each level the members start an attempt (measured as "start"),
then submit it (measured as "submit"), `--concurrency` at a time; a phase lasts until the
asynchronous consumers are done with it (ranking has every pass, question_bank every answer
counted: no process busy any more), so their share is counted. Then every member asks the echo
`--echoes` times ("echo": gateway → echo service → gateway).

CPU is user + system time from /proc/<pid>/stat: each service process, and each PostgreSQL
backend serving the bench's database (not the server's shared background processes, which
other work on the machine also uses; not RabbitMQ). The idle rate of every process, measured
just before, is taken off each phase. Printed: ms of CPU per request, per process, the total,
and the ratio to an echo's; then each kind's p50 latency.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.load import PLAY_AT, Platform, Recorder, log_in  # noqa: E402
from kernel.knobs import KNOBS  # noqa: E402
from tests.thin_path import answers_for  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
IDLE_S = 5.0


def cpu_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


class Backends:
    """CPU seconds of the PostgreSQL backends serving one database, found by their process
    title (`postgres: <user> <database> …`), sampled often: a pool's overflow connection
    closes mid-phase, so each backend's last sampled figure is kept after it has gone, and
    one that appears mid-phase counts from nothing."""

    def __init__(self, database, every=0.2):
        self.needle = f" {database} ".encode()
        self.last = {}
        self.every = every
        self.thread = eventlet.spawn(self._forever)

    def sample(self):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    title = f.read(200)
            except OSError:
                continue
            if title.startswith(b"postgres: ") and self.needle in title:
                used = cpu_of(name)
                if used is not None:
                    self.last[name] = used
        return sum(self.last.values())

    def _forever(self):
        while True:
            self.sample()
            eventlet.sleep(self.every)

    def stop(self):
        self.thread.kill()


class Meter:
    """CPU seconds of the platform's processes and of its database's PostgreSQL backends."""

    def __init__(self, p):
        self.p = p
        self.backends = Backends(p.running.env["DATABASE_URL"].rsplit("/", 1)[1])

    def snapshot(self):
        used = dict(self.p.running.cpu_seconds())
        used["postgresql"] = self.backends.sample()
        return time.monotonic(), used


def delta(before, after, idle=None):
    (t0, a), (t1, b) = before, after
    seconds = t1 - t0
    used = {k: b[k] - a.get(k, 0.0) for k in b}
    if idle:
        used = {k: max(0.0, v - idle.get(k, 0.0) * seconds) for k, v in used.items()}
    return seconds, used


def settled(p, passes, answered):
    """The consumers are done: ranking applied `passes` passes, question_bank `answered`
    events (its statistics of every answer)."""
    def done():
        ranked = p.sql("ranking", "select count(*) from processed_events "
                                  "where consumer = 'on_attempt_passed'")[0][0]
        counted = p.sql("question_bank", "select count(*) from processed_events")[0][0]
        return ranked >= passes and counted >= answered
    deadline = time.monotonic() + 120
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the consumers did not catch up within 120 s")
        eventlet.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--levels", type=int, default=2, choices=[1, 2, 3])
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--echoes", type=int, default=4)
    parser.add_argument("--flagged", action="store_true",
                        help="keep the fast-pass flag: the bench answers in milliseconds, so "
                             "every pass would be flagged (awards then records each flag)")
    parser.add_argument("--json")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for every process (DB_POOL_SIZE=2 on a shared "
                             "PostgreSQL); repeatable")
    args = parser.parse_args()

    # the relay as deployed (tests/distributed.py makes it poll faster, for the tests)
    production = {"OUTBOX_POLL_SECONDS": str(KNOBS["OUTBOX_POLL_SECONDS"].default),
                  **({} if args.flagged else {"FLAG_MIN_MS_PER_QUESTION": "0"}),
                  **dict(item.split("=", 1) for item in args.env)}
    with Platform(args.members, PLAY_AT, env=production) as p:
        base, sms = p.running.base, p.running.sms
        rec = Recorder()
        pool = eventlet.GreenPool(args.concurrency)
        sessions = list(pool.imap(lambda phone: log_in(base, sms, phone, rec), p.phones))
        meter = Meter(p)
        eventlet.sleep(2)  # the logins' events settle
        idle_seconds, idle = delta(meter.snapshot(), (eventlet.sleep(IDLE_S), meter.snapshot())[1])
        idle_rate = {k: v / idle_seconds for k, v in idle.items()}

        totals = {"start": {}, "submit": {}, "echo": {}}
        counts = {"start": 0, "submit": 0, "echo": 0}
        submitted = 0

        def fresh():  # the gateway closes keep-alive connections left idle: open new ones
            for session in sessions:
                session.close()

        def add(kind, n, used):
            counts[kind] += n
            for k, v in used.items():
                totals[kind][k] = totals[kind].get(k, 0.0) + v

        for level in range(1, args.levels + 1):
            fresh()
            before = meter.snapshot()
            papers = list(pool.imap(lambda s: rec.call(
                s, "start", "POST", f"{base}/api/v1/attempts", json={"level": level}).json(),
                sessions))
            add("start", len(papers), delta(before, meter.snapshot(), idle_rate)[1])

            answered = p.sql("question_bank", "select count(*) from processed_events")[0][0]
            fresh()
            before = meter.snapshot()
            results = list(pool.imap(lambda sp: rec.call(
                sp[0], "submit", "POST", f"{base}/api/v1/attempts/{sp[1]['attempt_id']}/submit",
                json={"answers": answers_for(sp[1])}).json(), zip(sessions, papers)))
            assert all(r["passed"] for r in results), results[:3]
            submitted += len(results)
            settled(p, submitted, answered + len(results))
            add("submit", len(results), delta(before, meter.snapshot(), idle_rate)[1])

        fresh()
        before = meter.snapshot()
        list(pool.imap(lambda s: [rec.call(s, "echo", "GET", f"{base}/bench/echo")
                                  for _ in range(args.echoes)], sessions))
        add("echo", len(sessions) * args.echoes, delta(before, meter.snapshot(), idle_rate)[1])
        meter.backends.stop()

    if rec.failures:
        print("FAILED requests:", dict(rec.failures))
    names = sorted(totals["submit"], key=lambda k: -totals["submit"][k])
    per = {kind: {k: 1000 * totals[kind].get(k, 0.0) / counts[kind] for k in names}
           for kind in totals}
    print(f"CPU ms per request, {args.members} members, {args.levels} levels, "
          f"{args.concurrency} at a time, distributed mode ({os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f})")
    print(f"{'process':<14}" + "".join(f"{k:>10}" for k in totals))
    for k in names:
        print(f"{k:<14}" + "".join(f"{per[kind][k]:>10.2f}" for kind in totals))
    sums = {kind: sum(per[kind].values()) for kind in totals}
    print(f"{'all':<14}" + "".join(f"{sums[kind]:>10.2f}" for kind in totals))
    print(f"{'÷ echo':<14}" + "".join(f"{sums[kind] / sums['echo']:>10.2f}" for kind in totals))
    p50 = {kind: sorted(rec.ms[kind])[len(rec.ms[kind]) // 2] for kind in totals if rec.ms[kind]}
    print(f"{'p50 ms':<14}" + "".join(f"{p50.get(kind, float('nan')):>10.1f}" for kind in totals)
          + f"   ({args.concurrency} requests at a time)")
    print("idle CPU % of a core (taken off): " + ", ".join(
        f"{k} {100 * v:.1f}" for k, v in sorted(idle_rate.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"per_request_ms": per, "all_ms": sums, "counts": counts,
                       "idle_rate": idle_rate, "load_average": os.getloadavg()}, f, indent=2)
    sys.exit(1 if rec.failures else 0)


if __name__ == "__main__":
    main()
