"""ranking's board reads at scale: the live board (first page and a deep page) and my_rank,
50 concurrent clients over RPC, next to an echo service on the same bus in the same run.

    .venv/bin/python bench/boards.py [--members 100000] [--clients 50] [--seconds 10]

The members, their scopes (system, organisation, unit of ~5,000, branch of ~500) and their
standings are written by SQL (bench/ranking.py's seed); ranking runs in this process on the
in-memory bus with PostgreSQL (`DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/
postgres; the bench creates and drops a database of its own). Prints requests/s per kind
with the ratio to echo's, and p50/p95 latency of each (after one call of the kind: a large
board is then in ranking's board cache, rebuilt every BOARD_CACHE_SECONDS in the run).
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench._echo_service import EchoService  # noqa: E402
from bench.ranking import END, SEED, START  # noqa: E402
from kernel import bus  # noqa: E402
from kernel.migrations import upgrade  # noqa: E402
from services.ranking.service import RankingService  # noqa: E402
from tests.infra import pg_database as _pg  # noqa: E402

pg_database = contextlib.contextmanager(_pg)

STANDINGS = """
insert into standings (campaign_id, member_id, levels, total_ms, at, run_id)
select distinct on (member_id) campaign_id, member_id, levels, total_ms, at, run_id
from pass_records order by member_id, levels desc, total_ms, at, run_id
"""


def seed(url, members):
    engine = create_engine(url, connect_args={"options": "-csearch_path=ranking"})
    with engine.begin() as conn:
        conn.execute(text("select setseed(0.2)"))
        for statement in SEED.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"start": START, "end": END, "n": members})
        conn.execute(text(STANDINGS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze"))
    engine.dispose()


def explain(url):
    """The plans of the board's page, a deep page and a rank count (EXPLAIN ANALYZE)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.orm import Session

    from kernel import r13
    from services.ranking.models import Member, Standing
    from services.ranking.store import STANDING, RankingStore

    engine = create_engine(url, connect_args={"options": "-csearch_path=ranking"})
    with Session(engine) as session:
        store = RankingStore(session)
        board = store._board("c", "system")
        queries = {
            "first page": board.order_by(*r13.order_by(STANDING)).limit(50),
            "page at offset 50,000": board.order_by(*r13.order_by(STANDING)).limit(50)
            .offset(50_000),
            "a unit's first page": store._board("c", "u7").order_by(*r13.order_by(STANDING))
            .limit(50),
            "the board in its order, for the cache": board.with_only_columns(
                Standing.member_id, Member.disqualified).order_by(*r13.order_by(STANDING)),
        }
        for name, query in queries.items():
            sql = str(query.compile(dialect=postgresql.dialect(),
                                    compile_kwargs={"literal_binds": True}))
            plan = session.execute(text("explain (analyze, costs off) " + sql)).scalars().all()
            print(f"-- {name}\n" + "\n".join(plan))
    engine.dispose()


def run(config, calls, clients, seconds):
    """{kind: (requests/s, sorted latencies)} for each kind of call, one kind at a time."""
    out = {}
    proxies = [ClusterRpcProxy(config, timeout=120) for _ in range(clients)]
    started = [proxy.start() for proxy in proxies]
    try:
        for kind, call in calls.items():
            call(started[0], random.Random())  # warm: the board cache holds the board
            latencies, stop = [], time.perf_counter() + seconds

            def client(rpc):
                rng = random.Random()
                while time.perf_counter() < stop:
                    began = time.perf_counter()
                    call(rpc, rng)
                    latencies.append(time.perf_counter() - began)

            began = time.perf_counter()
            pool = [eventlet.spawn(client, rpc) for rpc in started]
            for thread in pool:
                thread.wait()
            out[kind] = (len(latencies) / (time.perf_counter() - began), sorted(latencies))
    finally:
        for proxy in proxies:
            proxy.stop()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    n = args.members
    with pg_database() as url:
        bus.install()
        config = {"AMQP_URI": bus.EMBEDDED_URI, "DATABASE_URL": url, "max_workers": 10,
                  "OUTBOX_POLL_SECONDS": 0.2, "MONTH_CLOSE_CHECK_SECONDS": 3600}
        upgrade(config, ["ranking"])
        seed(url, n)
        if args.explain:
            explain(url)
        containers = [ServiceContainer(cls, config) for cls in (EchoService, RankingService)]
        for container in containers:
            container.start()
        calls = {
            "echo": lambda rpc, rng: rpc.echo.echo("x"),
            "board, first page": lambda rpc, rng: rpc.ranking.leaderboard(
                "system", "c", 50, 0),
            "board, a unit's": lambda rpc, rng: rpc.ranking.leaderboard(
                f"u{rng.randrange(20)}", "c", 50, 0),
            "board, a deep page": lambda rpc, rng: rpc.ranking.leaderboard(
                "system", "c", 50, rng.randrange(n // 2)),
            "my_rank": lambda rpc, rng: rpc.ranking.my_rank(f"m{rng.randrange(n)}", "c"),
        }
        try:
            figures = run(config, calls, args.clients, args.seconds)
        finally:
            for container in containers:
                container.stop()
    echo = figures["echo"][0]
    print(f"ranking's boards on PostgreSQL, {n:,} members with a standing, {args.clients} "
          f"clients over RPC (in-memory bus), {args.seconds:.0f} s each")
    for kind, (rate, latencies) in figures.items():
        p50, p95 = (latencies[int(q * (len(latencies) - 1))] * 1000 for q in (0.5, 0.95))
        print(f"{kind:>20}: {rate:7.1f}/s ({rate / echo:.2f}x echo), p50 {p50:6.1f} ms, "
              f"p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
