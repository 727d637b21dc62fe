"""attempts on PostgreSQL: start and submit latency, sequential and under concurrent members,
next to a baseline measured in the same run (a `ping` RPC to the same service).

    .venv/bin/python bench/attempts_pg.py [--members 60] [--concurrency 10]

Every service runs in one process on the in-memory bus, each in its own schema of a fresh
PostgreSQL database (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
the bench creates and drops its database). Start = roster replica check, run, a paper drawn
by question_bank over RPC, the attempt and its outbox row written; submit = grading, the
run's score and the outbox row in one transaction.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._platform import embedded  # noqa: E402
from challenge import demo  # noqa: E402
from services.question_bank.demo import solve_demo  # noqa: E402
from tests.infra import pg_database as _pg  # noqa: E402

pg_database = contextlib.contextmanager(_pg)


def ms(samples, q=0.5):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with pg_database() as url, embedded(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc),
                                        database_url=url) as (platform, rpc):
        demo.load(rpc)
        members = [m["member_id"] for m in
                   rpc.roster.list_members(limit=500)["items"]][:args.members * 2]
        time.sleep(2)  # the member events reach attempts' replica
        ping, starts, submits = [], [], []
        for _ in range(200):
            began = time.perf_counter()
            rpc.attempts.ping()
            ping.append(time.perf_counter() - began)
        for member in members[:args.members]:
            began = time.perf_counter()
            paper = rpc.attempts.start_attempt(member, 1)
            starts.append(time.perf_counter() - began)
            answers = {q["id"]: solve_demo(q) for q in paper["questions"]}
            began = time.perf_counter()
            result = rpc.attempts.submit_attempt(member, paper["attempt_id"], answers)
            submits.append(time.perf_counter() - began)
            assert result["passed"], result
        # concurrent: members each start and submit at once, `concurrency` at a time
        crowd = members[args.members:args.members * 2]
        began = time.perf_counter()
        done = 0
        for i in range(0, len(crowd), args.concurrency):
            batch = crowd[i:i + args.concurrency]
            papers = [r.result() for r in [rpc.attempts.start_attempt.call_async(m, 1)
                                           for m in batch]]
            replies = [rpc.attempts.submit_attempt.call_async(
                m, p["attempt_id"], {q["id"]: solve_demo(q) for q in p["questions"]})
                for m, p in zip(batch, papers)]
            done += sum(1 for r in replies if r.result()["passed"])
        crowd_took = time.perf_counter() - began

    base = statistics.median(ping) * 1000
    print(f"attempts on PostgreSQL ({len(starts)} members sequential, {len(crowd)} in groups of "
          f"{args.concurrency}); in-memory bus, one process")
    print(f"{'call':<34}{'p50 ms':>9}{'p95 ms':>9}{'x ping':>9}")
    for name, samples in (("attempts.ping (baseline)", ping),
                          ("start_attempt (draws a paper)", starts),
                          ("submit_attempt", submits)):
        print(f"{name:<34}{ms(samples):>9.1f}{ms(samples, 0.95):>9.1f}"
              f"{ms(samples) / base:>8.1f}x")
    print(f"concurrent: {done} start+submit pairs in {crowd_took:.2f} s = "
          f"{done / crowd_took:.1f} attempts/s")


if __name__ == "__main__":
    main()
