"""A member starts an attempt while a flood of roster events reaches attempts (as when a
sheet is imported): the start must not wait on the flood, and no event may be lost.

This once deadlocked: the start held the service's database connection while waiting for
question_bank's reply, the flood's handlers filled every worker slot waiting for that
connection, and nameko's prefetch (shared with the reply queue) kept the reply out."""
import time
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, func, select

from kernel import events
from kernel.entrypoints import rpc
from services.attempts.models import MemberReplica
from services.attempts.service import AttemptsService
from tests.service.helpers import deliver

T0 = datetime(2018, 3, 12, 1, 0, tzinfo=timezone.utc)


class SlowBank:
    name = "question_bank"

    @rpc
    def draw_paper(self, campaign_id, level):
        eventlet.sleep(0.3)  # the flood arrives meanwhile
        questions = [{"id": f"q{i}", "number": i, "type": "single", "stem": "s",
                      "options": [{"key": "A", "text": "a"}, {"key": "B", "text": "b"}]}
                     for i in range(1, 21)]
        return {"campaign_id": campaign_id, "level": level, "time_limit_s": 300,
                "questions": questions, "key": {q["id"]: ["A"] for q in questions}}


def member(member_id):
    return {"member_id": member_id, "name": member_id, "org_path": ["system"],
            "category": "party_member", "participation": "required", "status": "active"}


def test_start_during_an_event_flood(container_factory, migrated, fake_clock):
    config = dict(migrated, max_workers=4)
    attempts = container_factory(AttemptsService, config)
    bank = container_factory(SlowBank, config)
    attempts.start()
    bank.start()
    deliver(attempts, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "2018", "time_zone": "Asia/Shanghai", "starts_at": T0,
        "ends_at": T0 + timedelta(days=200), "levels": [
            {"number": 1, "title": "1", "theme": "t", "opens_at": T0, "time_limit_s": 300,
             "draw_count": 20}]})
    deliver(attempts, "on_member_registered", "roster", "member_registered", member("m0"))

    dispatch = event_dispatcher(config)
    with ClusterRpcProxy(config, timeout=30) as cluster:
        began = time.monotonic()
        reply = cluster.attempts.start_attempt.call_async("m0", 1)
        eventlet.sleep(0.05)
        for i in range(1, 41):
            dispatch("roster", "member_registered",
                     events.build("roster", "member_registered", member(f"m{i}"), T0))
        paper = reply.result()
        took = time.monotonic() - began
    assert len(paper["questions"]) == 20
    assert took < 10, f"the start waited {took:.1f} s behind the flood"

    engine = create_engine(config["ATTEMPTS_DATABASE_URL"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            known = conn.execute(select(func.count()).select_from(MemberReplica)).scalar()
        if known == 41:
            break
        eventlet.sleep(0.1)
    engine.dispose()
    assert known == 41, "events of the flood were lost"
