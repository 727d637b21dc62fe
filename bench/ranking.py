"""ranking on PostgreSQL: event ingest and the month close, next to baselines measured in the
same run.

    .venv/bin/python bench/ranking.py [--events 2000] [--members 100000]

1. Ingest: `attempt_passed` events dispatched on the in-memory bus to ranking (pass record,
   best standing, idempotency marker, one transaction each), in events/s, next to a nameko
   handler that does nothing with the same events.
2. Month close for `--members` members with passes (4 scopes each: system, organisation,
   unit, branch), through ranking's close_month RPC with no waiter timeout, next to the
   set-based statement that writes the same snapshot alone (rolled back) and a plain SQL
   query that picks each member's best row; the RSS of the process running ranking.
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
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.events import event_handler  # noqa: E402
from nameko.standalone.events import event_dispatcher  # noqa: E402
from nameko.testing.services import replace_dependencies  # noqa: E402
from nameko.testing.services import entrypoint_hook  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from kernel import bus, clock, events  # noqa: E402
from kernel.migrations import upgrade  # noqa: E402
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


SEED = """
insert into campaigns (campaign_id, time_zone, starts_at, ends_at)
  values ('c', 'Asia/Shanghai', :start, :end);
insert into members (member_id, name, unit_name, phone_masked, org_path, disqualified, active,
                     participation)
  select 'm' || i, '成员' || i, 'u' || (i % 20), '138****0000',
         json_build_array('system', 'fed', 'u' || (i % 20), 'b' || (i % 200)), i % 997 = 0,
         i % 491 <> 0, case when i % 7 = 0 then 'voluntary' else 'required' end
  from generate_series(0, :n - 1) i;
insert into member_scopes (scope_id, member_id)
  select s, 'm' || i from generate_series(0, :n - 1) i,
  lateral (values ('system'), ('fed'), ('u' || (i % 20)), ('b' || (i % 200))) v(s);
insert into member_roles (member_id, role, org_unit_id)
  select 'm' || i, 'organisation_admin', 'fed' from generate_series(0, :n - 1, 1000) i;
insert into pass_records (run_id, levels, member_id, campaign_id, total_ms, at, attempt_id)
  select 'r' || i || '-' || run, levels, 'm' || i, 'c', 60000 + (random() * 840000)::int,
         :start + (random() * 40000) * interval '1 minute', 'a' || i || '-' || run || '-' || levels
  from generate_series(0, :n - 1) i, generate_series(0, 1) run, generate_series(1, 2) levels
  where (run = 0 or i % 2 = 0) and (levels = 1 or i % 3 = 0)
"""


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kb / 1024


def close(config, members):
    """The close through ranking's RPC (no waiter timeout: closes of any length), next to
    two baselines on the same data: the best row per member (a read), and the set-based
    statement that writes the same snapshot (months.close's INSERT … SELECT, run alone and
    rolled back). RSS is this process's, which runs ranking, sampled during the close."""
    from sqlalchemy.orm import Session

    from services.ranking import months
    from services.ranking.replicas import BANK_ADMIN_ROLES, SYSTEM
    from services.ranking.store import RankingStore

    engine = create_engine(config["DATABASE_URL"],
                           connect_args={"options": "-csearch_path=ranking"})
    with engine.begin() as conn:
        conn.execute(text("truncate pass_records, standings, members, member_scopes, "
                          "member_roles, campaigns, month_closes, snapshot_entries"))
        conn.execute(text("select setseed(0.1)"))
        for statement in SEED.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"start": START, "end": END, "n": members})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("analyze"))
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    with engine.connect() as conn:
        passes = conn.execute(text("select count(*) from pass_records")).scalar()
        held = conn.execute(text("select count(*) from pass_records where at <= :cut"),
                            {"cut": cutoff}).scalar()
        began = time.perf_counter()
        best = conn.execute(text(
            "select count(*) from (select member_id, row_number() over (partition by member_id "
            "order by levels desc, total_ms, at) as n from pass_records where campaign_id = 'c' "
            "and at <= :cut) ranked where n = 1"), {"cut": cutoff}).scalar()
        base_read = time.perf_counter() - began
    with Session(engine) as session:
        campaign = RankingStore(session).campaign("c")
        began = time.perf_counter()
        RankingStore(session).write_snapshot("baseline", "c", cutoff,
                                             months.month_begins(campaign, "2018-03"),
                                             SYSTEM, BANK_ADMIN_ROLES)
        base_write = time.perf_counter() - began
        session.rollback()
    clock.install(clock.FakeClock(cutoff + timedelta(days=1)))
    ranking = ServiceContainer(RankingService, dict(config, MONTH_CLOSE_CHECK_SECONDS=3600))
    replace_dependencies(ranking, attempts=Counts(held))
    ranking.start()
    peak = {"before": rss_mib(), "during": 0.0, "running": True}

    def sample():
        while peak["running"]:
            peak["during"] = max(peak["during"], rss_mib())
            eventlet.sleep(0.05)

    sampler = eventlet.spawn(sample)
    began = time.perf_counter()
    with entrypoint_hook(ranking, "close_month", timeout=None) as hook:
        result = hook("c", "2018-03", "bench")
    took = time.perf_counter() - began
    peak["running"] = False
    sampler.wait()
    ranking.stop()
    with engine.connect() as conn:
        rows = conn.execute(text("select count(*) from snapshot_entries")).scalar()
    engine.dispose()
    return {"read": base_read, "write": base_write, "took": took, "best": best,
            "result": result, "rows": rows, "passes": passes, "rss": peak}


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
        base_ingest, ranking_ingest = ingest(config, args.events) if args.events else (1, 1)
        closed = close(config, args.members)
    print(f"ranking on PostgreSQL, in-memory bus; {args.events} events, {args.members:,} members")
    if args.events:
        print(f"ingest: no-op handler {args.events / base_ingest:,.0f} events/s (baseline); "
              f"ranking {args.events / ranking_ingest:,.0f} events/s "
              f"({ranking_ingest / base_ingest:.1f}x the baseline's time)")
    c = closed
    print(f"month close: {c['result']['ranked_members']:,} ranked from {c['passes']:,} passes "
          f"({c['result']['passes']:,} by the cutoff), {c['rows']:,} snapshot rows in "
          f"{c['took']:.2f} s through close_month; baselines: the set-based statement writing "
          f"the same snapshot alone {c['write']:.2f} s ({c['took'] / c['write']:.2f}x), a "
          f"best-row-per-member read ({c['best']:,} rows) {c['read']:.2f} s "
          f"({c['took'] / c['read']:.1f}x)")
    print(f"RSS of the process running ranking: {c['rss']['before']:.0f} MiB before the close, "
          f"{c['rss']['during']:.0f} MiB at most during it")


if __name__ == "__main__":
    main()
