"""Two sends of SMS reminders at once on PostgreSQL (issue 23): each counts the daily cap
after the other has committed (roster's advisory lock), so no member gets more than
SMS_REMINDERS_PER_DAY, however the two interleave."""
import eventlet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel import bus
from kernel.db import make_engine
from kernel.migrations import upgrade
from services.roster import admin, notices
from services.roster.models import Base, Reminder
from services.roster.store import RosterStore
from tests.unit.test_roster_use_cases import TREE, FakeTx, load, row


def test_two_sends_at_once_keep_each_member_within_the_cap(pg_url, monkeypatch):
    bus.reset()
    upgrade({"AMQP_URI": bus.EMBEDDED_URI, "DATABASE_URL": pg_url}, ["roster"])
    engine = make_engine(pg_url, schema="roster")

    def session():
        return Session(engine, expire_on_commit=False, info={"metadata": Base.metadata})

    with session() as seeding:
        tx = FakeTx(seeding)
        admin.upsert_org_units(tx, TREE, None)
        load(tx, [row("13800000000", unit="fed", role="system_admin", name="系统管理员"),
                  row("13800000002", branch="b1"), row("13800000012", unit="u2")])
        seeding.commit()
        actor = tx.store.members_by_phone()["13800000000"].id
        expected = notices.remind(tx, actor, "month_end", "x", [], True, 1)[0]["recipients"]
    real = RosterStore.reminders_since

    def slow(store, since):  # widen the window between counting and logging
        counted = real(store, since)
        eventlet.sleep(0.2)
        return counted

    monkeypatch.setattr(RosterStore, "reminders_since", slow)

    def send():
        with session() as s:
            report, deliveries = notices.remind(FakeTx(s), actor, "month_end", "x", [], False, 1)
            s.commit()
        return len(deliveries)

    sent = [t.wait() for t in [eventlet.spawn(send), eventlet.spawn(send)]]
    assert expected > 0 and sorted(sent) == [0, expected]  # once each
    with session() as s:
        per_member = s.execute(select(Reminder.member_id, func.count())
                               .group_by(Reminder.member_id)).all()
    assert len(per_member) == expected and all(n == 1 for _, n in per_member)
    engine.dispose()
