"""Two ranking replicas on real RabbitMQ and PostgreSQL close one month exactly once, and a
pass submitted before the cutoff whose event arrives after it lands in that month.

Both replicas run the month-close timer every 0.2 s and are slowed inside the close, so both
are closing at once; attempts (a stand-in answering count_passes over RPC) says two passes
were submitted by the cutoff while only one event has arrived: the replicas wait."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.events import event_dispatcher
from sqlalchemy import create_engine, text

from kernel import clock, events
from kernel.entrypoints import rpc
from kernel.migrations import upgrade
from services.ranking.service import RankingService
from tests.thin_path import wait_for

LOCAL = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=LOCAL)
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
CUTOFF = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
SUBMITTED = {"count": 2}


class AttemptsStandIn:
    name = "attempts"

    @rpc
    def count_passes(self, campaign_id, until):
        return SUBMITTED["count"] if datetime.fromisoformat(until) >= CUTOFF else 0


def rows(url, sql):
    engine = create_engine(url, connect_args={"options": "-csearch_path=ranking"})
    with engine.connect() as conn:
        found = conn.execute(text(sql)).all()
    engine.dispose()
    return found


def passed(member, at):
    return events.build("attempts", "attempt_passed", {
        "attempt_id": f"a-{member}", "member_id": member, "campaign_id": "c",
        "run_id": f"r-{member}", "run_number": 1, "level": 1, "started_at": START,
        "submitted_at": at, "duration_ms": 1000, "run_levels_passed": 1,
        "run_total_ms": 60_000}, at)


@pytest.fixture
def replicas(amqp_vhost_uri, pg_url, monkeypatch):
    from services.ranking.store import RankingStore

    real = RankingStore.write_snapshot

    def slow(store, *args):  # hold both closers inside the close at the same time
        eventlet.sleep(0.5)
        return real(store, *args)

    monkeypatch.setattr(RankingStore, "write_snapshot", slow)
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text('DROP SCHEMA IF EXISTS "ranking" CASCADE'))
    engine.dispose()
    config = {"AMQP_URI": amqp_vhost_uri, "DATABASE_URL": pg_url, "max_workers": 10,
              "OUTBOX_POLL_SECONDS": 0.05, "MONTH_CLOSE_CHECK_SECONDS": 0.2,
              "CHALLENGE_SETTLE_SECONDS": 60, "RPC_TIMEOUT_SECONDS": 10}
    upgrade(config, ["ranking"])
    fake = clock.FakeClock(CUTOFF - timedelta(hours=1))
    clock.install(fake)
    containers = [ServiceContainer(AttemptsStandIn, config)] + [
        ServiceContainer(RankingService, config) for _ in range(2)]
    for container in containers:
        container.start()
    yield config, fake
    for container in containers:
        container.stop()


def test_two_replicas_close_a_month_once_and_a_late_event_lands_in_it(replicas, pg_url):
    config, fake = replicas
    dispatch = event_dispatcher(config)
    dispatch("question_bank", "campaign_published", events.build(
        "question_bank", "campaign_published", {
            "campaign_id": "c", "name": "c", "time_zone": "Asia/Shanghai",
            "starts_at": START, "ends_at": END, "levels": [
                {"number": 1, "title": "1", "theme": "t", "opens_at": START,
                 "time_limit_s": 300, "draw_count": 20}]}, START))
    dispatch("attempts", "attempt_passed", passed("m1", CUTOFF - timedelta(minutes=5)))
    wait_for(lambda: rows(pg_url, "select count(*) from pass_records")[0][0] == 1
             and rows(pg_url, "select count(*) from campaigns")[0][0] == 1,
             timeout=20, what="the campaign and the first pass")
    fake.set(CUTOFF + timedelta(seconds=61))  # due: cutoff + settle has passed
    eventlet.sleep(1.5)  # several ticks of both timers: they must wait for the second pass
    assert rows(pg_url, "select count(*) from month_closes")[0][0] == 0
    # submitted 1 ms before the cutoff, delivered now, after it
    dispatch("attempts", "attempt_passed", passed("m2", CUTOFF - timedelta(milliseconds=1)))
    wait_for(lambda: rows(pg_url, "select count(*) from month_closes")[0][0] == 1,
             timeout=20, what="March closed")
    eventlet.sleep(2)  # more ticks of both replicas: nothing more may happen
    assert rows(pg_url, "select month, ranked_members from month_closes") == [("2018-03", 2)]
    closed = rows(pg_url, "select count(*) from outbox where type = 'month_closed'")
    assert closed[0][0] == 1
    board = rows(pg_url, "select member_id, rank from snapshot_entries "
                         "where scope_id = 'system' order by position")
    assert board == [("m1", 1), ("m2", 2)]  # the same levels and time: the earlier pass first
