"""A worker's reply is built from what its transaction loaded: once a unit of work has
committed, the worker sends no statement to the database (a query there took a connection,
a round trip and a rollback per call: 10% of attempts' CPU per submit, issue 20)."""
import greenlet
from sqlalchemy import event
from sqlalchemy.engine import Engine

from challenge import demo
from kernel import uow
from tests.thin_path import play


def test_the_thin_path_queries_nothing_after_a_commit(embedded, monkeypatch):
    committed = set()  # the green threads whose last unit of work has committed
    after = []
    enter, leave = uow.Work.__enter__, uow.Work.__exit__

    def entering(self):
        committed.discard(greenlet.getcurrent())
        return enter(self)

    def leaving(self, *exc):
        out = leave(self, *exc)
        committed.add(greenlet.getcurrent())
        return out

    def executing(conn, cursor, statement, *args):
        if greenlet.getcurrent() in committed:
            after.append(statement)

    monkeypatch.setattr(uow.Work, "__enter__", entering)
    monkeypatch.setattr(uow.Work, "__exit__", leaving)
    event.listen(Engine, "before_cursor_execute", executing)
    try:
        members = demo.member_rows()
        outcome = play(embedded["base"], embedded["sms"], members[1]["phone"],
                       members[2]["phone"])
    finally:
        event.remove(Engine, "before_cursor_execute", executing)
    assert outcome["result"]["passed"]
    assert committed, "no unit of work was watched"
    assert after == []
