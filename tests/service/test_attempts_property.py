"""attempts, the scoring of R13 as a property: for random sequences of play (passes, wrong
answers, late submissions, expiries, restarts) the scores carried by `attempt_passed` equal a
direct computation from the stored attempts, and `export_passes` equals the events. Plus a
run through all 12 levels of the 2018 schedule."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from nameko.testing.services import replace_dependencies
from sqlalchemy import create_engine, text

from kernel.errors import Conflict
from services.attempts.service import AttemptsService
from services.question_bank import schedule
from tests.service.helpers import call, deliver, outbox_events

LIMIT_S = 300
GRACE_MS = 10_000


class Bank:
    def draw_paper(self, campaign_id, level):
        questions = [{"id": f"L{level}q{i}", "number": i, "type": "single", "stem": "s",
                      "options": [{"key": "A", "text": "a"}, {"key": "B", "text": "b"}]}
                     for i in range(1, 21)]
        return {"campaign_id": campaign_id, "level": level, "time_limit_s": LIMIT_S,
                "questions": questions, "key": {q["id"]: ["A"] for q in questions},
                "bank_size": 20}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One attempts container for the module (each example plays a new member)."""
    from nameko.containers import ServiceContainer

    from kernel import clock
    from kernel.migrations import upgrade
    from kernel.settings import SERVICES

    folder = tmp_path_factory.mktemp("attempts-property")
    config = {"AMQP_URI": "memory://localhost/", "CHALLENGE_SECRET": "s",
              "ATTEMPT_STARTS_PER_HOUR": 0, "OUTBOX_POLL_SECONDS": 3600,
              **{f"{s.upper()}_DATABASE_URL": f"sqlite:///{folder}/{s}.db" for s in SERVICES}}
    from kernel import bus

    bus.install()
    upgrade(config, ["attempts"])
    fake = clock.FakeClock(datetime(2018, 10, 20, 1, 0, tzinfo=timezone.utc))  # all open
    clock.install(fake)
    container = ServiceContainer(AttemptsService, config)
    replace_dependencies(container, question_bank=Bank())
    container.start()
    plan = schedule.campaign_2018()
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": plan["name"], "time_zone": "Asia/Shanghai",
        "starts_at": plan["starts_at"], "ends_at": plan["ends_at"],
        "levels": [{"number": lv["number"], "title": lv["title"], "theme": lv["theme"],
                    "opens_at": lv["opens_at"], "time_limit_s": LIMIT_S, "draw_count": 20}
                   for lv in plan["levels"]]})
    yield {"container": container, "clock": fake, "config": config}
    container.stop()
    clock.reset()


def new_member(world):
    from kernel import clock

    clock.install(world["clock"])  # the module's clock (each test's teardown resets it)
    world["clock"].set(datetime(2018, 10, 16, 1, 0, tzinfo=timezone.utc))  # all 12 open
    member = str(uuid.uuid4())
    deliver(world["container"], "on_member_registered", "roster", "member_registered", {
        "member_id": member, "name": "m", "org_path": ["system"], "category": "party_member",
        "participation": "required", "status": "active"})
    return member


def current_level(world, member):
    run = call(world["container"], "progress", member)["active_run"]
    return run["current_level"] if run else 1


ACTIONS = st.lists(st.tuples(
    st.sampled_from(["pass", "pass", "wrong", "late", "expire", "restart"]),
    st.integers(min_value=1, max_value=LIMIT_S * 1000)), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plays=ACTIONS)
def test_event_scores_equal_a_direct_computation_from_the_stored_attempts(world, plays):
    container, fake = world["container"], world["clock"]
    member = new_member(world)
    for action, took_ms in plays:
        fake.advance(seconds=1)
        if action == "restart":
            try:
                call(container, "restart_run", member)
            except Conflict:
                pass
            continue
        level = current_level(world, member)
        if level > 12:
            continue
        paper = call(container, "start_attempt", member, level)
        if action == "expire":
            fake.advance(seconds=LIMIT_S, milliseconds=GRACE_MS + 1)
            continue  # the next start (or the timer) closes it as expired
        fake.advance(milliseconds=took_ms if action != "late" else
                     LIMIT_S * 1000 + GRACE_MS + took_ms)
        answers = {q["id"]: ["A"] for q in paper["questions"]}
        if action == "wrong":
            answers[paper["questions"][took_ms % 20]["id"]] = ["B"]
        call(container, "submit_attempt", member, paper["attempt_id"], answers)
    fake.advance(seconds=LIMIT_S + 20)
    call(container, "expire_overdue")

    events = [e["data"] for e in outbox_events(world["config"], "attempts", "attempt_passed")
              if e["data"]["member_id"] == member]
    engine = create_engine(world["config"]["ATTEMPTS_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, run_id, level, status, duration_ms, submitted_at FROM attempts "
            "WHERE member_id = :m ORDER BY submitted_at, id"), {"m": member}).all()
    engine.dispose()
    assert all(r.status != "open" for r in rows)
    expected = {}
    for r in rows:
        if r.status != "passed":
            continue
        # R13: the time of every attempt of the run on levels 1..k, failed or passed
        spent = sum(o.duration_ms for o in rows if o.run_id == r.run_id and o.level <= r.level)
        expected[r.id] = (r.level, spent)
        assert r.duration_ms <= LIMIT_S * 1000 + GRACE_MS
    assert {e["attempt_id"]: (e["run_levels_passed"], e["run_total_ms"]) for e in events} \
        == expected
    exported = call(container, "export_passes", "c", None, 1000)["passes"]
    mine = [p for p in exported if p["member_id"] == member]
    assert json.loads(json.dumps(sorted(mine, key=lambda p: p["attempt_id"]), default=str)) \
        == sorted(events, key=lambda p: p["attempt_id"])


def test_a_run_through_all_twelve_levels_with_failures_counted(world):
    container, fake = world["container"], world["clock"]
    member = new_member(world)
    total = 0
    for level in range(1, 13):
        paper = call(container, "start_attempt", member, level)
        fake.advance(seconds=40)
        wrong = {q["id"]: ["B"] for q in paper["questions"]}
        assert not call(container, "submit_attempt", member, paper["attempt_id"],
                        wrong)["passed"]
        paper = call(container, "start_attempt", member, level)
        fake.advance(seconds=50)
        result = call(container, "submit_attempt", member, paper["attempt_id"],
                      {q["id"]: ["A"] for q in paper["questions"]})
        total += 90_000
        assert result["run"] == {"run_id": result["run"]["run_id"], "levels_passed": level,
                                 "total_ms": total, "current_level": level + 1}
    with pytest.raises(Conflict, match="every level"):
        call(container, "start_attempt", member, 13)
    run = call(container, "restart_run", member)  # all 12 passed: a new run is allowed
    assert run["run_number"] == 2
    progress = call(container, "progress", member)
    assert progress["best_run"]["levels_passed"] == 12
    assert progress["best_run"]["total_ms"] == 12 * 90_000
