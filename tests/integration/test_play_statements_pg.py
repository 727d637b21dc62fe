"""tests/service/test_play_statements.py's counts on PostgreSQL, where a save and a submit
take the attempt (and the run) for update in the statement that reads them."""
from datetime import datetime, timezone

from nameko.testing.services import replace_dependencies

from kernel import bus
from kernel.migrations import upgrade
from services.attempts.service import AttemptsService
from tests.service.helpers import call, deliver
from tests.service.test_attempts_service import END, OPENS, FakeBank, right
from tests.service.test_play_statements import counted, kinds


def test_play_on_postgres_in_few_statements(container_factory, pg_url, fake_clock,
                                            monkeypatch):
    bus.reset()
    config = {"AMQP_URI": bus.EMBEDDED_URI, "DATABASE_URL": pg_url,
              "OUTBOX_POLL_SECONDS": 0.05}
    upgrade(config, ["attempts"])
    attempts = container_factory(AttemptsService, config)
    replace_dependencies(attempts, question_bank=FakeBank())
    attempts.start()
    fake_clock.set(datetime(2018, 3, 12, 9, 0, tzinfo=timezone.utc))
    deliver(attempts, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c2018", "name": "2018", "time_zone": "Asia/Shanghai",
        "starts_at": OPENS[0], "ends_at": END,
        "levels": [{"number": n + 1, "title": f"L{n + 1}", "theme": "t", "opens_at": at,
                    "time_limit_s": 300, "draw_count": 20} for n, at in enumerate(OPENS)]})
    deliver(attempts, "on_member_registered", "roster", "member_registered", {
        "member_id": "m1", "name": "王伟", "org_path": ["system"], "category": "party_member",
        "participation": "required", "status": "active"})

    with counted(monkeypatch) as start:
        paper = call(attempts, "start_attempt", "m1", 1)
    assert kinds(start) == ["SELECT"] * 3 + ["INSERT"] * 3
    fake_clock.advance(seconds=30)
    with counted(monkeypatch) as save:
        call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    assert kinds(save) == ["SELECT", "UPDATE"]
    assert save["statements"][0].endswith("FOR UPDATE OF attempts")
    with counted(monkeypatch) as submit:
        result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    assert result["passed"] and result["duration_ms"] == 30_000
    assert sorted(kinds(submit)) == ["INSERT", "SELECT", "UPDATE", "UPDATE"]
    assert submit["statements"][0].endswith("FOR UPDATE OF attempts, runs")
