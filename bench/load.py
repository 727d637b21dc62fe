"""Load through the gateway in the distributed mode, next to a bare nameko echo measured in the
same run, then a month's last minute.

    .venv/bin/python bench/load.py [--members 200] [--levels 3] [--month-end-members 200]
                                   [--window 55] [--lead S] [--skip-month-end] [--json FILE]

Every service and the gateway run in their own `nameko run` process (tests/distributed.py) on
RabbitMQ and PostgreSQL (AMQP_URI / DATABASE_URL; a vhost and a database of the bench's own,
removed afterwards), with the demo campaign and `--members` members.

1. Play: every member logs in (code by SMS, then token) and passes levels 1..`--levels`, all
   at once (one green thread each, no pauses). Printed: starts/s, submits/s, p50/p95/p99 of
   each request kind, and the lag from a submit (the server's `submitted_at`) to ranking's
   commit of the pass (the boards read it from then on).
2. Baseline: the same members, as many requests each, on `GET /bench/echo`: the same gateway
   (token check, limits, metrics, JSON) calling a bare nameko echo service. Printed with the
   ratio of the play's figures to it.
3. Each process's peak resident memory (VmHWM).
4. Month end: a fresh platform whose clock starts shortly before May's cutoff (23:59:59.999
   Asia/Shanghai); the members log in and start level 1, then submit at random moments in the
   last 55 s, one in ten just after the cutoff. Checked: ranking closes May counting exactly the
   passes attempts recorded by the cutoff, each of those members once, none after it; awards
   grants May. Exits 1 if any check fails or any request of the play failed.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform as host  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from challenge import demo  # noqa: E402
from tests import infra  # noqa: E402
from tests.distributed import SHORT, Distributed  # noqa: E402
from tests.thin_path import answers_for, last_code  # noqa: E402

MODULES = {**SHORT, "gateway": "bench._echo_gateway", "echo": "bench._echo_service"}
SETTINGS = {"LOGIN_CODES_PER_ADDRESS_HOUR": "1000000", "LOGIN_TRIES_PER_ADDRESS_10MIN": "1000000",
            "MEMBER_REQUESTS_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING"}
PLAY_AT = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)  # levels 1–3 open
MAY_CUTOFF = datetime(2018, 5, 31, 15, 59, 59, 999000, tzinfo=timezone.utc)


class Recorder:
    def __init__(self):
        self.ms = defaultdict(list)
        self.failures = Counter()

    def call(self, session, kind, method, url, **kwargs):
        started = time.perf_counter()
        try:
            r = session.request(method, url, timeout=120, **kwargs)
        except requests.ConnectionError as exc:
            self.failures[(kind, "no answer", str(exc)[:120])] += 1
            raise
        self.ms[kind].append((time.perf_counter() - started) * 1000)
        if r.status_code >= 400:
            self.failures[(kind, r.status_code, r.text[:120])] += 1
        return r


    def member(self, fn):
        """A simulated member's whole play: a failure is counted, and that member stops."""
        def run(*args):
            try:
                return fn(*args)
            except Exception as exc:  # noqa: BLE001 (counted and reported, not lost)
                self.failures[("member stopped", type(exc).__name__, str(exc)[:120])] += 1
                return None
        return run


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values):
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "p99": pct(values, 99)}


class Platform:
    """A Distributed platform on a vhost and database of its own, with the demo and members."""

    def __init__(self, members, play_at, env=None):
        self.vhost, self.database = infra.rabbit_vhost(), infra.pg_database()
        self.folder = tempfile.mkdtemp(prefix="bench-load-")
        self.running = Distributed(next(self.vhost), next(self.database), self.folder,
                                   play_at=play_at, env={**SETTINGS, **(env or {})},
                                   modules=MODULES)
        self.members = members

    def __enter__(self):
        self.running.__enter__()
        try:
            self._prepare()
        except BaseException:  # stop the processes (their own sessions outlive this one)
            self.__exit__(None, None, None)
            raise
        return self

    def _prepare(self):
        with ClusterRpcProxy(self.running.rpc_config, timeout=300) as rpc:
            demo.load(rpc)
            rows = demo.member_rows()[1:]  # the demo's members, then more like them
            rows += [{"name": f"压测{n:04d}", "department": "办公室", "phone": f"1390000{n:04d}",
                      "unit": demo.PLACES[n % len(demo.PLACES)], "category": "non_party",
                      "participation": "voluntary", "remarks": ""}
                     for n in range(max(0, self.members - len(rows)))]
            report = rpc.roster.import_members(rows[120:])
            assert not report["errors"], report["errors"][:3]
        self.phones = [row["phone"] for row in rows[:self.members]]
        # the members reach attempts and ranking by events: play once they are there
        expected = len(rows) + 1  # and the system administrator
        deadline = time.time() + 120
        while min(self.sql(s, "select count(*) from members")[0][0]
                  for s in ("attempts", "ranking")) < expected:
            if time.time() > deadline:
                raise RuntimeError("the imported members did not reach attempts and ranking")
            eventlet.sleep(0.5)

    def __exit__(self, *exc):
        self.running.__exit__(*exc)
        for generator in (self.vhost, self.database):
            generator.close()

    def sql(self, schema, query, **params):
        return self.running.sql(schema, query, **params)


def log_in(base, sms, phone, rec):
    session = requests.Session()
    rec.call(session, "login code", "POST", f"{base}/api/v1/auth/code", json={"phone": phone})
    deadline = time.monotonic() + 60
    while (code := last_code(sms, phone)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no login code for {phone}")
        eventlet.sleep(0.2)
    r = rec.call(session, "login token", "POST", f"{base}/api/v1/auth/token",
                 json={"phone": phone, "code": code})
    if r.status_code != 200:
        raise RuntimeError(f"no token for {phone}: {r.status_code} {r.text[:300]}")
    session.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return session


def play(p, levels, rec):
    base, sms = p.running.base, p.running.sms
    sessions = {}

    @rec.member
    def member(phone):
        session = sessions[phone] = log_in(base, sms, phone, rec)
        for level in range(1, levels + 1):
            paper = rec.call(session, "start", "POST", f"{base}/api/v1/attempts",
                             json={"level": level}).json()
            r = rec.call(session, "submit", "POST",
                         f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                         json={"answers": answers_for(paper)})
            assert r.json()["passed"], r.text

    started = time.perf_counter()
    pool = eventlet.GreenPool(len(p.phones))
    list(pool.imap(member, p.phones))
    return time.perf_counter() - started, sessions


def echo(base, sessions, per_member, rec):
    def member(session):
        for _ in range(per_member):
            rec.call(session, "echo", "GET", f"{base}/bench/echo")

    started = time.perf_counter()
    pool = eventlet.GreenPool(len(sessions))
    list(pool.imap(member, sessions.values()))
    return time.perf_counter() - started


def board_lag(p):
    """ms from each pass's submitted_at (attempts' clock) to ranking's commit of it."""
    submitted = {}
    for row in p.sql("attempts", "select event_id, body from outbox "
                     "where type = 'attempt_passed'"):
        body = json.loads(row.body)
        submitted[row.event_id] = datetime.fromisoformat(body["data"]["submitted_at"])
    lags = []
    for row in p.sql("ranking", "select event_id, processed_at from processed_events "
                     "where consumer = 'on_attempt_passed'"):
        if row.event_id in submitted:
            lags.append((row.processed_at - submitted[row.event_id]).total_seconds() * 1000)
    return lags, len(submitted)


def month_end(members, lead_s, window_s, seed):
    """Members submit in May's last seconds; returns the checks and figures."""
    rng = random.Random(seed)
    env = {"CHALLENGE_SETTLE_SECONDS": "5", "MONTH_CLOSE_CHECK_SECONDS": "2"}
    with Platform(members, MAY_CUTOFF - timedelta(seconds=lead_s), env) as p:
        offset = float(p.running.env["CHALLENGE_CLOCK_OFFSET_SECONDS"])
        wall = lambda at: at.timestamp() - offset  # noqa: E731 (the platform's clock → time.time)
        base, sms, rec = p.running.base, p.running.sms, Recorder()
        papers = {}

        @rec.member
        def ready(phone):
            session = log_in(base, sms, phone, rec)
            papers[phone] = (session, rec.call(session, "start", "POST",
                                               f"{base}/api/v1/attempts",
                                               json={"level": 1}).json())

        list(eventlet.GreenPool(members).imap(ready, p.phones))
        if len(papers) < members:
            raise RuntimeError(f"only {len(papers)} of {members} members could start: "
                               f"{dict(rec.failures)}")
        ready_at = time.time()
        first = wall(MAY_CUTOFF) - window_s
        if ready_at > first:
            raise RuntimeError(f"logging in and starting took too long: give --lead more than "
                               f"{lead_s} s")
        plan = {phone: (wall(MAY_CUTOFF) + rng.uniform(1, 5) if i % 10 == 9 else
                        rng.uniform(first, wall(MAY_CUTOFF) - 1))
                for i, phone in enumerate(p.phones)}

        @rec.member
        def submit(phone):
            eventlet.sleep(max(0, plan[phone] - time.time()))
            session, paper = papers[phone]
            r = rec.call(session, "submit", "POST",
                         f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                         json={"answers": answers_for(paper)})
            return r.json()["passed"]

        passed = list(eventlet.GreenPool(members).imap(submit, p.phones))
        cutoff = MAY_CUTOFF.isoformat()
        by_cutoff = {r.member_id for r in p.sql(
            "attempts", "select member_id from attempts where status = 'passed' "
            "and submitted_at <= :c", c=cutoff)}
        after = {r.member_id for r in p.sql(
            "attempts", "select member_id from attempts where status = 'passed' "
            "and submitted_at > :c", c=cutoff)}
        deadline = time.time() + 120
        while not (closed := p.sql("ranking", "select snapshot_id, ranked_members, "
                                   "passes_counted, closed_at from month_closes "
                                   "where month = '2018-05'")):
            if time.time() > deadline:
                raise RuntimeError("May was not closed within 120 s of the last submit")
            eventlet.sleep(0.5)
        [closed] = closed
        snapshot = {r.member_id for r in p.sql(
            "ranking", "select member_id from snapshot_entries where snapshot_id = :s "
            "and scope_id = 'system'", s=closed.snapshot_id)}
        deadline = time.time() + 60
        while not (granted := p.sql("awards", "select count(*) from awards "
                                    "where period = '2018-05'")[0][0]):
            if time.time() > deadline:
                break
            eventlet.sleep(0.5)
        checks = {
            "every submit passed": all(passed) and len(papers) == members,
            "submits in the last minute": len(plan),
            "recorded by the cutoff": len(by_cutoff),
            "recorded after the cutoff": len(after),
            "May counted passes == recorded by the cutoff":
                closed.passes_counted == len(by_cutoff),
            "May ranked members == recorded by the cutoff":
                closed.ranked_members == len(by_cutoff),
            "May's board == the members who passed by the cutoff": snapshot == by_cutoff,
            "nobody after the cutoff on May's board": not (snapshot & after),
            "May's awards granted": granted > 0,
        }
        figures = {"submit": summary(rec.ms["submit"]),
                   "close_after_cutoff_s": (closed.closed_at - MAY_CUTOFF).total_seconds(),
                   "awards": granted, "failures": sum(rec.failures.values()),
                   "peak_memory_mib": p.running.peak_memory()}
        return checks, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--levels", type=int, default=3, choices=[1, 2, 3])
    parser.add_argument("--month-end-members", type=int, default=None,
                        help="default: --members")
    parser.add_argument("--lead", type=float, default=None,
                        help="seconds between the month-end platform's start and May's cutoff "
                             "(default: window + 35 + members/5; it covers starting the "
                             "platform too)")
    parser.add_argument("--window", type=float, default=55,
                        help="the month-end submits fall in the last this many seconds")
    parser.add_argument("--skip-month-end", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for every process (e.g. MAX_WORKERS=30); repeatable")
    args = parser.parse_args()
    month_end_members = args.month_end_members or args.members
    SETTINGS.update(item.split("=", 1) for item in args.env)
    out = {"machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                       "system": host.platform()},
           "members": args.members, "levels": args.levels}

    print(f"{args.members} members, levels 1–{args.levels}, distributed mode "
          f"({os.cpu_count()} CPUs, Python {host.python_version()})")
    with Platform(args.members, PLAY_AT) as p:
        rec = Recorder()
        cpu_before = p.running.cpu_seconds()
        try:
            seconds, sessions = play(p, args.levels, rec)
        finally:
            if rec.failures:
                print("FAILED requests:", dict(rec.failures))
        starts, submits = len(rec.ms["start"]), len(rec.ms["submit"])
        play_requests = sum(len(v) for v in rec.ms.values())
        cpu = {k: v - cpu_before.get(k, 0) for k, v in p.running.cpu_seconds().items()}
        eventlet.sleep(3)  # the last passes reach the board
        lags, passes = board_lag(p)
        echo_rec = Recorder()
        echo_seconds = echo(p.running.base, sessions, play_requests // len(sessions), echo_rec)
        peaks = p.running.peak_memory()
    echo_ms = echo_rec.ms["echo"]
    out["play"] = {"seconds": seconds, "starts_per_s": starts / seconds,
                   "submits_per_s": submits / seconds,
                   "requests_per_s": play_requests / seconds,
                   "latency_ms": {k: summary(v) for k, v in rec.ms.items()},
                   "board_lag_ms": summary(lags), "passes": passes,
                   "passes_on_board": len(lags),
                   "failures": {f"{k[0]} {k[1]}: {k[2]}": n for k, n in rec.failures.items()}}
    out["echo"] = {"seconds": echo_seconds, "requests_per_s": len(echo_ms) / echo_seconds,
                   "latency_ms": summary(echo_ms),
                   "failures": sum(echo_rec.failures.values())}
    out["peak_memory_mib"] = peaks
    out["play"]["cpu_seconds"] = cpu

    play_out, echo_out = out["play"], out["echo"]
    print(f"\nplay: {seconds:.1f} s; {play_out['starts_per_s']:.1f} starts/s, "
          f"{play_out['submits_per_s']:.1f} submits/s, {play_out['requests_per_s']:.1f} "
          f"requests/s (all kinds)")
    print(f"{'request':<12}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"
          f"{'p50 ÷ echo':>12}")
    for kind, s in list(play_out["latency_ms"].items()) + [("echo", echo_out["latency_ms"])]:
        ratio = s["p50"] / echo_out["latency_ms"]["p50"]
        print(f"{kind:<12}{s['n']:>7}{s['p50']:>10.1f}{s['p95']:>10.1f}{s['p99']:>10.1f}"
              f"{ratio:>12.1f}")
    lag = play_out["board_lag_ms"]
    print(f"submit → board: p50 {lag['p50']:.0f} ms, p95 {lag['p95']:.0f} ms, p99 "
          f"{lag['p99']:.0f} ms ({play_out['passes_on_board']} of {passes} passes)")
    print(f"baseline echo: {echo_out['requests_per_s']:.1f} requests/s; the play's "
          f"requests/s are {play_out['requests_per_s'] / echo_out['requests_per_s']:.2f}× it")
    print(f"CPU seconds during the play ({seconds:.1f} s on {os.cpu_count()} CPUs): " +
          ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])))
    print("peak memory (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items())))
    failed = bool(play_out["failures"]) or echo_out["failures"] or \
        play_out["passes_on_board"] != passes or passes != args.members * args.levels
    if play_out["failures"]:
        print("FAILED requests:", play_out["failures"])

    if not args.skip_month_end:
        lead = args.lead or args.window + 35 + month_end_members / 5
        print(f"\nmonth end: {month_end_members} members submit in May's last "
              f"{args.window:g} s (one in ten just after the cutoff)")
        checks, figures = month_end(month_end_members, lead, args.window, seed=2018)
        out["month_end"] = {"checks": checks, "figures": figures}
        for name, value in checks.items():
            print(f"  {name}: {value}")
        s = figures["submit"]
        print(f"  submit p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, p99 {s['p99']:.0f} ms; "
              f"May closed {figures['close_after_cutoff_s']:.1f} s after the cutoff "
              f"(settle 5 s); {figures['awards']} awards granted")
        failed = failed or not all(v for v in checks.values() if isinstance(v, bool)) \
            or figures["failures"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
