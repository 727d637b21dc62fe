"""ranking on PostgreSQL: event ingest and the month close, next to baselines measured in the
same run.

    .venv/bin/python bench/ranking.py [--events 2000] [--members 100000]

1. Ingest: `attempt_passed` events dispatched on the in-memory bus to ranking (pass record,
   best standing, idempotency marker, one transaction each), in events/s, next to a nameko
   handler that does nothing with the same events.
2. Month close for `--members` members with passes (4 scopes each: system, organisation,
   unit, branch), next to a plain SQL query that picks each member's best row.
Needs PostgreSQL (`DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/postgres); the
bench creates and drops a database of its own.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.events import event_handler  # noqa: E402
from nameko.standalone.events import event_dispatcher  # noqa: E402
from nameko.testing.services import replace_dependencies  # noqa: E402
from nameko.testing.services import entrypoint_hook  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from kernel import bus, clock, events  # noqa: E402
from kernel.migrations import upgrade  # noqa: E402
from services.ranking.models import CampaignReplica, Member, MemberScope, PassRecord  # noqa
from services.ranking.service import RankingService  # noqa: E402
from tests.infra import pg_database as _pg  # noqa: E402

pg_database = contextlib.contextmanager(_pg)
LOCAL = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=LOCAL)
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
SEEN = {"n": 0}


class NoOp:
    name = "noop"

    @event_handler("attempts", "attempt_passed")
    def on_attempt_passed(self, body):
        SEEN["n"] += 1


class Counts:
    def __init__(self, n):
        self.n = n

    def count_passes(self, campaign_id, until):
        return self.n


def body(i):
    at = START + timedelta(seconds=i)
    return events.build("attempts", "attempt_passed", {
        "attempt_id": f"a{i}", "member_id": f"m{i % 500}", "campaign_id": "c",
        "run_id": f"r{i}", "run_number": 1, "level": 1, "started_at": at, "submitted_at": at,
        "duration_ms": 1000, "run_levels_passed": 1 + i % 12, "run_total_ms": 60_000 + i},
        at)


def ingest(config, count):
    bodies = [body(i) for i in range(count)]
    noop = ServiceContainer(NoOp, config)
    noop.start()
    dispatch = event_dispatcher(config)
    began = time.perf_counter()
    for b in bodies:
        dispatch("attempts", "attempt_passed", b)
    while SEEN["n"] < count:
        eventlet.sleep(0.01)
    baseline = time.perf_counter() - began
    noop.stop()
    ranking = ServiceContainer(RankingService, config)
    ranking.start()
    engine = create_engine(config["DATABASE_URL"],
                           connect_args={"options": "-csearch_path=ranking"})
    began = time.perf_counter()
    for b in bodies:
        dispatch("attempts", "attempt_passed", b)
    with engine.connect() as conn:
        while conn.execute(text("select count(*) from processed_events")).scalar() < count:
            eventlet.sleep(0.05)
    took = time.perf_counter() - began
    ranking.stop()
    engine.dispose()
    return baseline, took


def close(config, members):
    engine = create_engine(config["DATABASE_URL"],
                           connect_args={"options": "-csearch_path=ranking"})
    rng = random.Random(1)
    with engine.begin() as conn:
        conn.execute(text("truncate pass_records, standings, members, member_scopes, "
                          "campaigns, month_closes, snapshot_entries"))
        conn.execute(insert(CampaignReplica), [{"campaign_id": "c", "time_zone": "Asia/Shanghai",
                                                "starts_at": START, "ends_at": END}])
        people, scopes, passes = [], [], []
        for i in range(members):
            path = ["system", "fed", f"u{i % 20}", f"b{i % 200}"]
            people.append({"member_id": f"m{i}", "name": f"成员{i}", "unit_name": path[2],
                           "phone_masked": "138****0000", "org_path": path,
                           "disqualified": i % 997 == 0})
            scopes.extend({"scope_id": s, "member_id": f"m{i}"} for s in path)
            for run in range(rng.randint(1, 2)):
                for levels in range(1, rng.randint(1, 2) + 1):
                    passes.append({"run_id": f"r{i}-{run}", "levels": levels,
                                   "member_id": f"m{i}", "campaign_id": "c",
                                   "total_ms": rng.randint(60_000, 900_000),
                                   "at": START + timedelta(minutes=rng.randint(0, 25_000)),
                                   "attempt_id": f"a{i}-{run}-{levels}"})
        conn.execute(insert(Member), people)
        conn.execute(insert(MemberScope), scopes)
        conn.execute(insert(PassRecord), passes)
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    with engine.connect() as conn:
        began = time.perf_counter()
        best = conn.execute(text(
            "select count(*) from (select member_id, row_number() over (partition by member_id "
            "order by levels desc, total_ms, at) as n from pass_records where campaign_id = 'c' "
            "and at <= :cut) ranked where n = 1"), {"cut": cutoff}).scalar()
        baseline = time.perf_counter() - began
    held = sum(1 for p in passes if p["at"] <= cutoff)
    clock.install(clock.FakeClock(cutoff + timedelta(days=1)))
    ranking = ServiceContainer(RankingService, dict(config, MONTH_CLOSE_CHECK_SECONDS=3600))
    replace_dependencies(ranking, attempts=Counts(held))
    ranking.start()
    began = time.perf_counter()
    with entrypoint_hook(ranking, "close_month") as hook:
        result = hook("c", "2018-03", "bench")
    took = time.perf_counter() - began
    ranking.stop()
    with engine.connect() as conn:
        rows = conn.execute(text("select count(*) from snapshot_entries")).scalar()
    engine.dispose()
    return baseline, took, best, result, rows, len(passes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    with pg_database() as url:
        bus.install()
        config = {"AMQP_URI": bus.EMBEDDED_URI, "DATABASE_URL": url, "max_workers": 10,
                  "OUTBOX_POLL_SECONDS": 0.2, "MONTH_CLOSE_CHECK_SECONDS": 3600}
        upgrade(config, ["ranking"])
        base_ingest, ranking_ingest = ingest(config, args.events)
        base_close, took, best, result, rows, passes = close(config, args.members)
    print(f"ranking on PostgreSQL, in-memory bus; {args.events} events, {args.members:,} members")
    print(f"ingest: no-op handler {args.events / base_ingest:,.0f} events/s (baseline); ranking "
          f"{args.events / ranking_ingest:,.0f} events/s ({ranking_ingest / base_ingest:.1f}x "
          "the baseline's time)")
    print(f"month close: {result['ranked_members']:,} ranked from {passes:,} passes, {rows:,} "
          f"snapshot rows in {took:.2f} s; plain SQL best row per member ({best:,} rows) "
          f"{base_close:.2f} s (baseline); {took / base_close:.1f}x")


if __name__ == "__main__":
    main()
