"""roster's notices and SMS reminders (issue 23 item 6) on the real store over in-memory
SQLite: a notice reaches its audience between its from and until; an administrator posts
and withdraws inside their part only (never a superior's notice); a reminder goes to the
expected members of the sender's part who have not played, at most SMS_REMINDERS_PER_DAY in
any 24 hours each, logged and audited once sent (a preview writes nothing)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from kernel.errors import Forbidden
from services.roster import notices
from services.roster.models import audit_log
from tests.unit.test_roster_use_cases import NOW, engine, people, tx  # noqa: F401 (fixtures)


def post(tx, actor, audience, days=7, starts=NOW):
    return notices.post_notice(tx, actor, "通知", "内容", audience, starts,
                               starts + timedelta(days=days))


def shown(tx, member, at):
    tx.now = at
    return [n["notice"].id for n in notices.notices_for_member(tx, member)]


def test_a_notice_reaches_its_audience_from_its_start_until_its_end(tx, people):
    mine = post(tx, people["0001"], "u1")
    everyone = post(tx, people["0000"], None, days=1)
    assert shown(tx, people["0002"], NOW) == [everyone.id, mine.id]  # b1 is under u1
    assert shown(tx, people["0012"], NOW) == [everyone.id]  # u2: not u1's
    assert shown(tx, people["0002"], NOW - timedelta(microseconds=1)) == []
    assert shown(tx, people["0002"], NOW + timedelta(days=1)) == [mine.id]  # everyone's over
    assert shown(tx, people["0002"], NOW + timedelta(days=7)) == []


def test_notices_are_posted_and_withdrawn_inside_ones_part(tx, people):
    for audience in ("u2", None):
        with pytest.raises(Forbidden):
            post(tx, people["0001"], audience)
    superior = post(tx, people["0000"], "u1")
    with pytest.raises(Forbidden) as refused:
        notices.withdraw_notice(tx, people["0001"], superior.id)
    assert refused.value.reason == "decided_above_you"
    own = post(tx, people["0001"], "b1")
    assert notices.withdraw_notice(tx, people["0001"], own.id).withdrawn_at == NOW
    assert notices.withdraw_notice(tx, people["0000"], superior.id).withdrawn_at == NOW
    assert shown(tx, people["0002"], NOW) == []
    actions = [a for (a,) in tx.session.execute(select(audit_log.c.action))]
    assert actions.count("notice_posted") == 2 and actions.count("notice_withdrawn") == 2


def test_reminders_go_to_who_has_not_played_at_most_once_a_day(tx, people):
    text = notices.reminder_text("level_open", 2, None)
    played = [people["0002"]]
    preview, none = notices.remind(tx, people["0000"], "level_open", text, played, True, 1)
    assert none == [] and preview["batch"] is None
    assert (preview["expected_not_played"], preview["recipients"], preview["capped"]) == (4, 4, 0)
    report, deliveries = notices.remind(tx, people["0000"], "level_open", text, played, False, 1)
    assert report["recipients"] == 4 and len(deliveries) == 4
    assert {d.phone for d in deliveries} == {"13800000000", "13800000001", "13800000011",
                                             "13800000012"}
    assert deliveries[0].text == "【每月一关】第2关已开放，欢迎登录闯关。"
    again = notices.remind(tx, people["0000"], "month_end", "x", played, False, 1)[0]
    assert (again["recipients"], again["capped"]) == (0, 4)
    tx.now = NOW + timedelta(hours=24) - timedelta(microseconds=1)
    assert notices.remind(tx, people["0000"], "month_end", "x", [], True, 1)[0]["recipients"] == 1
    tx.now = NOW + timedelta(hours=24)  # the first batch is a full day old
    assert notices.remind(tx, people["0000"], "month_end", "x", [], True, 1)[0]["recipients"] == 5
    assert notices.remind(tx, people["0000"], "month_end", "x", [], True, 0)[0]["recipients"] == 0
    log = notices.reminder_log(tx, people["0000"], 50, 0, 1)
    assert [b["recipients"] for b in log["items"]] == [4] and log["per_day"] == 1
    with pytest.raises(Forbidden):  # a unit's administrator does not send reminders
        notices.remind(tx, people["0001"], "month_end", "x", [], True, 1)


def test_reminders_reach_only_the_campaigns_organisation(tx, people):
    # the system administrator's part is everything; the campaign's organisation is u1's
    report, deliveries = notices.remind(tx, people["0000"], "month_end", "x", [], False, 1,
                                        within="u1")
    assert {d.phone for d in deliveries} == {"13800000001", "13800000002"}
    assert report["expected_not_played"] == report["recipients"] == 2


def test_the_reminder_log_shows_the_batches_that_reached_ones_part(tx, people):
    notices.remind(tx, people["0000"], "month_end", "x", [], False, 1)  # sent from fed
    log = notices.reminder_log(tx, people["0001"], 50, 0, 1)  # u1's administrator
    assert [b["recipients"] for b in log["items"]] == [2]  # u1's two of the batch
    assert notices.reminder_log(tx, people["0000"], 50, 0, 1)["items"][0]["recipients"] == 5
