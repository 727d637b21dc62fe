"""Open-loop load through the gateway in the distributed mode: Poisson arrivals of starts at a
given rate, each followed by its submit, with the gateway's admission control measured against
none in the same run.

    .venv/bin/python bench/open_loop.py [--rate 100] [--duration 60] [--members 600]
        [--search 40,60,80,100,120] [--overload 200] [--p99-ms 250] [--json FILE]
        [--env KEY=VALUE ...]

Every service and the gateway run in their own `nameko run` process (tests/distributed.py,
bench/load.py's Platform) on RabbitMQ and PostgreSQL, with the demo campaign and `--members`
members whose tokens the bench signs itself. Arrivals do not wait for answers (open loop):
starts arrive as a Poisson process at `--rate`/s; each start that answers is followed by its
submit after an exponential pause (mean `--think` s), so submits arrive as a Poisson process at
the same rate (a Poisson process shifted by independent delays is one). Every paper is answered
right: a member passes levels 1-3, starts again from level 1 (R14, `POST /runs`, not counted in
the rate) and goes on. Flags are off (FLAG_MIN_MS_PER_QUESTION=0, FLAG_BANK_SHARE=2): a pass
seconds after its start would be flagged on every submit, which members do not do.

First a baseline in the same run: `GET /bench/echo` (bench/_echo_gateway.py: the same gateway,
token check, metrics and JSON, calling a bare nameko echo service) arriving at twice the lowest
step's rate (as many requests as its starts and submits), and each step's p50 and p99 as a
ratio of the baseline's. Printed per step: offered and answered rate, p50/p99 of each route, how many were shed (503
`overloaded`) or failed otherwise, the gateway's resident memory (now and its peak), the CPU
seconds of each process, and the machine's load average before and after.

- `--search R1,R2,...`: one step per rate, lowest first; the highest rate whose start and
  submit p99 stay under `--p99-ms` with nothing shed or failed is the answer (it stops at the
  first rate that misses).
- `--overload R`: one step at R without admission control (HTTP_MAX_PENDING=1000000, the
  gateway restarted with it), then one with the default: the queue a minute long and the
  gateway's memory, against 503s in milliseconds.
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
import time  # noqa: E402
from collections import Counter, defaultdict, deque  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402

from bench.load import PLAY_AT, SETTINGS, Platform, pct  # noqa: E402
from gateway import tokens  # noqa: E402
from tests.distributed import SECRET  # noqa: E402
from tests.scrape import scrape  # noqa: E402
from tests.thin_path import answers_for  # noqa: E402

OPEN_LOOP = {"ATTEMPT_STARTS_PER_HOUR": "0", "FLAG_MIN_MS_PER_QUESTION": "0",
             "FLAG_BANK_SHARE": "2"}
UNBOUNDED = "1000000"  # HTTP_MAX_PENDING with no admission control to speak of
ROUTES = ("start", "submit", "restart", "echo")


class Member:
    def __init__(self, member_id, base):
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + tokens.issue(
            SECRET, {"member_id": member_id}, datetime.now(timezone.utc))[0]
        self.base = base
        self.level = 1  # the level to start; 0: a run to start again first


class Step:
    """One rate for `duration` seconds: the figures of every request it sent."""

    def __init__(self, rate):
        self.rate = rate
        self.ms = defaultdict(list)  # route -> ms of the answers that were not shed
        self.shed = Counter()  # route -> 503 overloaded
        self.shed_ms = []
        self.failed = Counter()  # (route, status, reason) -> n
        self.busy = 0  # arrivals that found every member busy
        self.arrivals = 0

    def call(self, member, route, method, path, **kwargs):
        started = time.perf_counter()
        try:
            r = member.session.request(method, member.base + path, timeout=120, **kwargs)
        except requests.RequestException as exc:
            self.failed[(route, "no answer", type(exc).__name__)] += 1
            return None
        ms = (time.perf_counter() - started) * 1000
        if r.status_code == 503 and _reason(r) == "overloaded":
            self.shed[route] += 1
            self.shed_ms.append(ms)
            return None
        self.ms[route].append(ms)
        if r.status_code >= 400:
            self.failed[(route, r.status_code, _reason(r))] += 1
            if _reason(r) == "not_current_level":  # a submit we gave up on passed after all
                member.level = 0 if member.level >= 3 else member.level + 1
            return None
        return r.json()


def _reason(r):
    try:
        return r.json()["error"].get("reason") or r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return r.text[:60]


def play_once(step, member, think, free, rng):
    """A start, a pause, its submit (and a new run after the last level); then the member is
    free again."""
    try:
        if member.level == 0:
            if step.call(member, "restart", "POST", "/api/v1/runs", json={}) is None:
                return
            member.level = 1
        paper = step.call(member, "start", "POST", "/api/v1/attempts",
                          json={"level": member.level})
        if paper is None:
            return
        eventlet.sleep(rng.expovariate(1 / think))
        result = step.call(member, "submit", "POST",
                           f"/api/v1/attempts/{paper['attempt_id']}/submit",
                           json={"answers": answers_for(paper)})
        if result is not None and result.get("passed"):
            member.level = 0 if paper["level"] >= 3 else paper["level"] + 1
    finally:
        free.append(member)


def echo_once(step, member, think, free, rng):
    """The baseline: the same gateway (token, metrics, JSON) and a bare nameko echo service."""
    try:
        step.call(member, "echo", "GET", "/bench/echo")
    finally:
        free.append(member)


def run_step(p, members, rate, duration, think, seed, work=play_once):
    rng = random.Random(seed)
    step = Step(rate)
    free = deque(members)
    pool = eventlet.GreenPool(len(members) + 10)
    gateway = p.running.procs["gateway"].pid
    rss = []

    def sample():
        while True:
            rss.append(_memory(gateway, "VmRSS"))
            eventlet.sleep(1)

    sampler = eventlet.spawn(sample)
    shed_before = shed_buckets(p)
    cpu_before = p.running.cpu_seconds()
    load_before = os.getloadavg()
    started = time.perf_counter()
    at = 0.0
    while True:
        at += rng.expovariate(rate)
        if at >= duration:
            break
        eventlet.sleep(max(0.0, started + at - time.perf_counter()))
        step.arrivals += 1
        if not free:
            step.busy += 1
            continue
        pool.spawn_n(work, step, free.popleft(), think, free, rng)
    offered_s = time.perf_counter() - started
    pool.waitall()
    step.seconds = time.perf_counter() - started
    sampler.kill()
    step.offered_s = offered_s
    step.cpu = {k: v - cpu_before.get(k, 0) for k, v in p.running.cpu_seconds().items()}
    step.load = (load_before, os.getloadavg())
    step.rss_mib = max(rss) if rss else float("nan")
    step.peak_mib = _memory(gateway, "VmHWM")
    step.server_shed = {le: n - shed_before.get(le, 0) for le, n in shed_buckets(p).items()}
    return step


def shed_buckets(p):
    """{upper bound in s: refusals that took at most that long}, the gateway's own count."""
    return {float(dict(labels)["le"]): value
            for (name, labels), value in scrape(f"{p.running.base}/metrics").items()
            if name == "challenge_http_shed_duration_seconds_bucket"}


def bucket_p99(buckets):
    """The upper bound of the bucket holding the 99th percentile (None: nothing counted)."""
    total = max(buckets.values(), default=0)
    return next((le for le, n in sorted(buckets.items()) if n >= 0.99 * total), None) \
        if total else None


def _memory(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def figures(step, p99_ms):
    routes = {route: {"n": len(step.ms[route]), "p50": pct(step.ms[route], 50),
                      "p99": pct(step.ms[route], 99), "shed": step.shed[route]}
              for route in ROUTES}
    met = (not step.failed and not sum(step.shed.values()) and not step.busy
           and all(routes[r]["p99"] < p99_ms for r in ("start", "submit")))
    return {"rate": step.rate, "arrivals": step.arrivals,
            "offered_per_s": step.arrivals / step.offered_s,
            "submits_per_s": routes["submit"]["n"] / step.seconds,  # to the last answer
            "drained_after_s": step.seconds - step.offered_s,
            "routes": routes, "shed": sum(step.shed.values()),
            "shed_p99_ms": pct(step.shed_ms, 99),
            "shed_server_p99_ms": (lambda b: None if b is None else b * 1000)(
                bucket_p99(step.server_shed)),
            "failed": {f"{k[0]} {k[1]} {k[2]}": n for k, n in step.failed.items()},
            "busy_members": step.busy, "gateway_rss_mib": step.rss_mib,
            "gateway_peak_mib": step.peak_mib, "cpu_seconds": step.cpu,
            "load_average": step.load, "met": met}


def show(label, f, p99_ms):
    print(f"\n{label}: {f['rate']:g}/s offered ({f['arrivals']} starts, "
          f"{f['offered_per_s']:.1f}/s), submits answered {f['submits_per_s']:.1f}/s "
          f"(until the last answer), "
          f"the last answer {f['drained_after_s']:.1f} s after the last arrival")
    print(f"  {'route':<9}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'shed':>7}")
    for route, s in f["routes"].items():
        if not s["n"] and not s["shed"]:
            continue
        print(f"  {route:<9}{s['n']:>7}{s['p50']:>10.1f}{s['p99']:>10.1f}{s['shed']:>7}")
    server = f["shed_server_p99_ms"]
    print(f"  shed (503 overloaded): {f['shed']}, answered within {f['shed_p99_ms']:.1f} ms "
          f"(p99 seen by the client; the gateway's own time at most "
          f"{'-' if server is None else f'{server:g}'} ms); other failures: {f['failed'] or 'none'}; arrivals with every member busy: "
          f"{f['busy_members']}")
    print(f"  gateway RSS: {f['gateway_rss_mib']:.0f} MiB at most during the step, peak since "
          f"start {f['gateway_peak_mib']:.0f} MiB")
    print("  CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                        sorted(f["cpu_seconds"].items(), key=lambda kv: -kv[1])))
    (before, after) = f["load_average"]
    print(f"  load average before {before[0]:.2f} {before[1]:.2f}, after {after[0]:.2f} "
          f"{after[1]:.2f}; p99 < {p99_ms:g} ms with nothing shed or failed: "
          f"{'yes' if f['met'] else 'no'}")


def restart_gateway(p, max_pending):
    """The gateway again with HTTP_MAX_PENDING at `max_pending` (None: as configured)."""
    p.running.kill("gateway")
    p.running.env.pop("HTTP_MAX_PENDING", None)
    if max_pending is not None:
        p.running.env["HTTP_MAX_PENDING"] = max_pending
    p.running.start("gateway")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100, help="starts (and submits) per s")
    parser.add_argument("--duration", type=float, default=60, help="seconds of arrivals a step")
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between a start's answer and its submit")
    parser.add_argument("--search", help="rates to try in turn, e.g. 40,60,80,100,120")
    parser.add_argument("--overload", type=float,
                        help="a rate to run without admission control, then with it")
    parser.add_argument("--p99-ms", type=float, default=250)
    parser.add_argument("--pause", type=float, default=10,
                        help="seconds between steps (the consumers catch up)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for every process (e.g. MAX_WORKERS=30); repeatable")
    args = parser.parse_args()
    SETTINGS.update(OPEN_LOOP)
    SETTINGS.update(item.split("=", 1) for item in args.env)
    out = {"machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                       "system": host.platform(), "load_average": os.getloadavg()},
           "args": vars(args), "steps": []}
    print(f"open loop, distributed mode: {args.members} members, {args.duration:g} s a step "
          f"({os.cpu_count()} CPUs, Python {host.python_version()}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} before starting)")
    with Platform(args.members, PLAY_AT) as p:
        ids = [row.id for row in p.sql("roster", "select id from members "
                                       "where phone = any(:phones)", phones=p.phones)]
        members = [Member(member_id, p.running.base) for member_id in ids]
        print(f"{len(members)} members ready; gateway RSS "
              f"{_memory(p.running.procs['gateway'].pid, 'VmRSS'):.0f} MiB")
        plan = ([("step", float(r)) for r in args.search.split(",")] if args.search else
                [] if args.overload else [("step", args.rate)])
        if args.overload:
            plan = [("without admission control", args.overload),
                    ("with admission control", args.overload)] + plan
        best, echo_rate = None, 2 * min(rate for _, rate in plan)
        baseline = figures(run_step(p, members, echo_rate, min(args.duration, 20), args.think,
                                    seed=99, work=echo_once), args.p99_ms)
        baseline["label"] = "baseline"
        out["baseline"] = baseline
        echo = baseline["routes"]["echo"]
        print(f"\nbaseline: GET /bench/echo arriving at {echo_rate:g}/s (as many as the lowest "
              f"rate's starts and submits): p50 {echo['p50']:.1f} ms, p99 {echo['p99']:.1f} ms, "
              f"{baseline['shed']} shed; load average {os.getloadavg()[0]:.2f}")
        for n, (label, rate) in enumerate(plan):
            if label == "without admission control":
                restart_gateway(p, UNBOUNDED)
            elif label == "with admission control":
                restart_gateway(p, SETTINGS.get("HTTP_MAX_PENDING"))
            if n:
                eventlet.sleep(args.pause)
            f = figures(run_step(p, members, rate, args.duration, args.think, seed=n),
                        args.p99_ms)
            f["label"] = label
            out["steps"].append(f)
            show(label, f, args.p99_ms)
            for route in ("start", "submit"):
                s = f["routes"][route]
                print(f"  {route} ÷ echo: p50 {s['p50'] / echo['p50']:.1f}×, "
                      f"p99 {s['p99'] / echo['p99']:.1f}×")
            if label == "step":
                if not f["met"]:
                    break
                best = rate
    if args.search:
        out["highest_rate_met"] = best
        print(f"\nhighest rate with start and submit p99 < {args.p99_ms:g} ms for "
              f"{args.duration:g} s, nothing shed or failed: "
              f"{'none of those tried' if best is None else f'{best:g}/s'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)


if __name__ == "__main__":
    main()
