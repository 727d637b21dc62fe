"""The fixed SQL of play, counted (issue 20: half of attempts' CPU per submit was its SQL).

A start, a save and a submit each read what they check in one statement (the member's
replica, the campaign, the run and the attempt together); the gateway's `play_status` asks
roster for one indexed row. The counts are a regression guard: a query added on the way
shows here, whatever the machine's speed. Statements are counted from the workers' units of
work only (the outbox relay's are not a request's)."""
import contextlib
from datetime import timedelta

import greenlet
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from kernel import uow
from kernel.errors import Conflict
from tests.service.helpers import call, outbox_events
from tests.service.test_attempts_service import OPENS, attempts, right  # noqa: F401 (fixture)
from tests.service.test_roster_admin import ids, roster  # noqa: F401 (fixture)


@contextlib.contextmanager
def counted(monkeypatch):
    """{"statements": [...], "transactions": n} of the units of work run inside."""
    seen = {"statements": [], "transactions": 0}
    workers = set()
    enter = uow.Work.__enter__

    def entering(self):
        workers.add(greenlet.getcurrent())
        seen["transactions"] += 1
        return enter(self)

    def executing(conn, cursor, statement, *args):
        if greenlet.getcurrent() in workers:
            seen["statements"].append(" ".join(statement.split()))

    monkeypatch.setattr(uow.Work, "__enter__", entering)
    event.listen(Engine, "before_cursor_execute", executing)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", executing)
        monkeypatch.setattr(uow.Work, "__enter__", enter)


def kinds(seen):
    return [s.split()[0] for s in seen["statements"]]


def test_a_start_a_save_and_a_submit_in_few_statements(attempts, fake_clock, monkeypatch):
    with counted(monkeypatch) as first:  # the first start opens run 1 too
        paper = call(attempts, "start_attempt", "m1", 1)
    # member + campaign + run + open attempt; the pace | campaign + run; outbox, attempt, run
    assert (kinds(first), first["transactions"]) == (["SELECT"] * 3 + ["INSERT"] * 3, 2)

    fake_clock.advance(seconds=30)
    with counted(monkeypatch) as save:
        call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    assert kinds(save) == ["SELECT", "UPDATE"]  # attempt + member + campaign; the answers

    fake_clock.advance(seconds=30)
    with counted(monkeypatch) as submit:
        result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    assert result["passed"]
    # attempt + member + campaign + run; the event, the attempt, the run's score
    assert sorted(kinds(submit)) == ["INSERT", "SELECT", "UPDATE", "UPDATE"]
    assert kinds(submit)[0] == "SELECT" and submit["transactions"] == 1

    with counted(monkeypatch) as again:  # the first result, read
        assert call(attempts, "submit_attempt", "m1", paper["attempt_id"], {}) == result
    assert kinds(again) == ["SELECT"]

    fake_clock.set(OPENS[1] + timedelta(hours=1))
    with counted(monkeypatch) as second:  # the run exists: no run written
        call(attempts, "start_attempt", "m1", 2)
    assert (kinds(second), second["transactions"]) == (["SELECT"] * 3 + ["INSERT"] * 2, 2)


def test_a_refused_start_keeps_the_overdue_attempt_it_submitted(attempts, migrated,
                                                                fake_clock):
    """The start reads, expires and checks in one transaction: a refusal after an overdue
    attempt was submitted on the way commits that submission all the same."""
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=30)
    call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    fake_clock.advance(seconds=400)  # past deadline + grace; nobody has expired it yet
    with pytest.raises(Conflict) as refused:
        call(attempts, "start_attempt", "m1", 1)  # passed on the way: the run is at 2
    assert refused.value.reason == "not_current_level"
    [passed] = outbox_events(migrated, "attempts", "attempt_passed")
    assert (passed["data"]["attempt_id"], passed["data"]["duration_ms"]) == (
        paper["attempt_id"], 30_000)
    assert call(attempts, "expire_overdue") == 0


def test_play_status_is_one_statement(roster, monkeypatch):  # noqa: F811 (fixture)
    member = ids(roster)["0002"]
    with counted(monkeypatch) as seen:
        assert call(roster, "play_status", member) == {"status": "active",
                                                        "disqualified": False}
    assert len(seen["statements"]) == 1 and seen["statements"][0].startswith(
        "SELECT members.status, members.disqualified FROM members WHERE members.id = ")
