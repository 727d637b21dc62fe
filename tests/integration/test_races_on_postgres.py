"""Races that only a real database with concurrent workers shows: many passes of one member
applied at once by ranking, and a member's double-tapped start in attempts."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import replace_dependencies
from sqlalchemy import create_engine, func, select, text

from kernel import bus, clock, events
from kernel.migrations import upgrade
from services.attempts.models import Attempt
from services.attempts.service import AttemptsService
from services.ranking.models import Standing
from services.ranking.service import RankingService
from tests.service.helpers import deliver
from tests.thin_path import wait_for

T0 = datetime(2018, 4, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def pg_config(pg_url):
    bus.reset()
    config = {"AMQP_URI": bus.EMBEDDED_URI, "DATABASE_URL": pg_url, "max_workers": 20,
              "OUTBOX_POLL_SECONDS": 0.05}
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        for schema in ("ranking", "attempts"):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
    upgrade(config, ["ranking", "attempts"])
    return config


def count(pg_url, schema, stmt):
    engine = create_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.connect() as conn:
        value = conn.execute(stmt).all()
    engine.dispose()
    return value


def test_concurrent_passes_of_one_member_leave_the_best(container_factory, pg_config, pg_url,
                                                        monkeypatch):
    from services.ranking import rules

    real_best = rules.best

    def slow_best(results):  # widen the window between reading records and writing
        results = list(results)
        eventlet.sleep(0.05)
        return real_best(results)

    monkeypatch.setattr(rules, "best", slow_best)
    container = container_factory(RankingService, pg_config)
    container.start()
    dispatch = event_dispatcher(pg_config)
    # 20 runs of one member, each with one pass; the best is run 13 (12 levels, least time)
    scores = [(1 + i % 12, 500_000 - i * 1000) for i in range(20)]
    best = min(range(20), key=lambda i: (-scores[i][0], scores[i][1]))
    for i, (levels, total_ms) in enumerate(scores):
        dispatch("attempts", "attempt_passed", events.build("attempts", "attempt_passed", {
            "attempt_id": f"a{i}", "member_id": "m1", "campaign_id": "c", "run_id": f"r{i}",
            "run_number": i + 1, "level": levels, "started_at": T0,
            "submitted_at": T0 + timedelta(minutes=i), "duration_ms": 1000,
            "run_levels_passed": levels, "run_total_ms": total_ms}, T0))
    processed = select(func.count()).select_from(text("processed_events"))
    wait_for(lambda: count(pg_url, "ranking", processed)[0][0] == 20, timeout=30,
             what="ranking to apply 20 passes")
    [standing] = count(pg_url, "ranking", select(Standing.run_id, Standing.levels,
                                                 Standing.total_ms))
    assert tuple(standing) == (f"r{best}", *scores[best])
    assert count(pg_url, "ranking", select(func.count()).select_from(
        text("pass_records")))[0][0] == 20


class SlowBank:
    """A draw that yields, so concurrent starts really overlap."""

    def draw_paper(self, campaign_id, level):
        eventlet.sleep(0.2)
        questions = [{"id": f"q{i}", "number": i, "type": "single", "stem": "s",
                      "options": [{"key": "A", "text": "a"}, {"key": "B", "text": "b"}]}
                     for i in range(1, 21)]
        return {"campaign_id": campaign_id, "level": level, "time_limit_s": 300,
                "questions": questions, "key": {q["id"]: ["A"] for q in questions}}


def test_a_double_tapped_start_opens_one_attempt(container_factory, pg_config, pg_url):
    clock.install(clock.FakeClock(T0))
    container = container_factory(AttemptsService, pg_config)
    replace_dependencies(container, question_bank=SlowBank())
    container.start()
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "2018", "time_zone": "Asia/Shanghai", "starts_at": T0,
        "ends_at": T0 + timedelta(days=200), "levels": [
            {"number": 1, "title": "1", "theme": "t", "opens_at": T0, "time_limit_s": 300,
             "draw_count": 20}]})
    deliver(container, "on_member_registered", "roster", "member_registered", {
        "member_id": "m1", "name": "王伟", "org_path": ["system"], "category": "party_member",
        "participation": "required", "status": "active"})
    with ClusterRpcProxy(pg_config, timeout=30) as cluster:
        calls = [cluster.attempts.start_attempt.call_async("m1", 1) for _ in range(5)]
        ids = {c.result()["attempt_id"] for c in calls}
    assert len(ids) == 1
    assert count(pg_url, "attempts", select(func.count()).select_from(Attempt))[0][0] == 1
    assert count(pg_url, "attempts", select(func.count()).select_from(text("runs")))[0][0] == 1
