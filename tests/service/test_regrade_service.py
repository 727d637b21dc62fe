"""A regrade through attempts' entrypoint (issue 18 item 7; R12, R13), its events delivered to
ranking and question_bank: the board shows the regraded pass at its original time, the
question's statistics count the corrected grading, and a dry run emits nothing."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import replace_dependencies

from services.attempts.service import AttemptsService
from services.question_bank.service import QuestionBankService
from services.ranking.service import RankingService
from tests.service.helpers import call, deliver, entrypoint_hook, outbox_events

LOCAL = timezone(timedelta(hours=8))
OPENS = [datetime(2018, 3, 12, tzinfo=LOCAL), datetime(2018, 4, 1, tzinfo=LOCAL)]
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
BAD = "L1-q2"  # keyed A on every paper, though B is right


class FakeBank:
    """Papers of the same 20 questions, all keyed A; question_key: BAD's corrected key."""

    def draw_paper(self, campaign_id, level):
        questions = [{"id": f"L{level}-q{i}", "number": i, "type": "single", "stem": f"{i}",
                      "options": [{"key": "A", "text": "yes"}, {"key": "B", "text": "no"}]}
                     for i in range(1, 21)]
        return {"campaign_id": campaign_id, "level": level, "time_limit_s": 300,
                "questions": questions, "key": {q["id"]: ["A"] for q in questions}}

    def question_key(self, question_id):
        return {"question_id": question_id, "campaign_id": "c2018",
                "organisation_id": "federation", "level": 1, "type": "single",
                "options": ["yes", "no"], "right": ["no"], "voided": False}


class FakeRanking:
    def months(self, campaign_id):
        return [{"month": "2018-03", "closed": False, "cutoff": "2018-03-31T15:59:59.999+00:00"}]


MEMBERS = [("m1", "王伟"), ("m2", "李娜")]


@pytest.fixture
def platform(container_factory, migrated, fake_clock):
    attempts = container_factory(AttemptsService, migrated)
    replace_dependencies(attempts, question_bank=FakeBank(), ranking=FakeRanking())
    ranking = container_factory(RankingService, migrated)
    attempts.start()
    ranking.start()
    fake_clock.set(datetime(2018, 3, 20, 9, 0, tzinfo=LOCAL))
    deliver(attempts, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c2018", "name": "2018", "time_zone": "Asia/Shanghai",
        "starts_at": OPENS[0], "ends_at": END,
        "levels": [{"number": n + 1, "title": f"L{n + 1}", "theme": "t", "opens_at": at,
                    "time_limit_s": 300, "draw_count": 20} for n, at in enumerate(OPENS)]})
    for member_id, name in MEMBERS:
        registered = {"member_id": member_id, "name": name, "org_path": ["system", "fed"],
                      "category": "party_member", "participation": "required",
                      "status": "active", "phone_masked": "138****0001", "unit_name": "fed"}
        for container in (attempts, ranking):
            deliver(container, "on_member_registered", "roster", "member_registered",
                    registered)
    return attempts, ranking


def play(attempts, fake_clock, member, seconds, bad_answer):
    paper = call(attempts, "start_attempt", member, 1)
    fake_clock.advance(seconds=seconds)
    answers = {q["id"]: [bad_answer if q["id"] == BAD else "A"] for q in paper["questions"]}
    return call(attempts, "submit_attempt", member, paper["attempt_id"], answers)


def relay(migrated, source, target, handler, type_, seen):
    """Deliver `source`'s outbox events of `type_` not yet relayed to `target`."""
    for body in outbox_events(migrated, source, type_):
        if body["event_id"] not in seen:
            seen.add(body["event_id"])
            with entrypoint_hook(target, handler) as hook:
                hook(body)


def test_the_board_shows_the_regraded_pass_at_its_original_time(platform, migrated,
                                                                 fake_clock):
    attempts, ranking = platform
    failed = play(attempts, fake_clock, "m1", 40, "B")  # right, but the key says A
    assert not failed["passed"]
    fake_clock.advance(minutes=10)
    play(attempts, fake_clock, "m2", 90, "A")  # the wrong key's answer: a pass
    seen = set()
    relay(migrated, "attempts", ranking, "on_attempt_passed", "attempt_passed", seen)
    board = call(ranking, "leaderboard", "system")
    assert [e["member_id"] for e in board["entries"]] == ["m2"]

    dry = call(attempts, "regrade", "admin", BAD, dry_run=True)
    assert [p["member_id"] for p in dry["now_passed"]] == ["m1"]
    assert [p["member_id"] for p in dry["kept_passes"]] == ["m2"]
    assert outbox_events(migrated, "attempts", "attempt_regraded") == []

    fake_clock.advance(days=2)
    done = call(attempts, "regrade", "admin", BAD, dry_run=False)
    assert not done["dry_run"] and done["regraded"] == 2
    relay(migrated, "attempts", ranking, "on_attempt_regraded", "attempt_regraded", seen)
    entries = call(ranking, "leaderboard", "system")["entries"]
    assert [(e["member_id"], e["levels"], e["total_ms"]) for e in entries] == [
        ("m1", 1, 40_000), ("m2", 1, 90_000)]
    assert entries[0]["at"].startswith("2018-03-20T01:00:40")  # 09:00:40 in Shanghai
    progress = call(attempts, "progress", "m1")
    assert progress["active_run"]["current_level"] == 2

    again = call(attempts, "regrade", "admin", BAD, dry_run=False)  # idempotent
    assert again["regraded"] == 0 and again["unchanged"] == 2
    assert len(outbox_events(migrated, "attempts", "attempt_regraded")) == 2
    [entry] = call(attempts, "audit_log")["items"]
    assert (entry["action"], entry["actor_id"], entry["target"]) == (
        "attempts_regraded", "admin", BAD)


def test_statistics_take_the_first_grading_out_and_count_the_corrected_one(
        container_factory, platform, migrated, fake_clock):
    attempts, _ = platform
    bank = container_factory(QuestionBankService, migrated)
    bank.start()
    play(attempts, fake_clock, "m1", 40, "B")
    seen = set()
    relay(migrated, "attempts", bank, "on_attempt_failed", "attempt_failed", seen)
    call(attempts, "regrade", "admin", BAD, dry_run=False)
    relay(migrated, "attempts", bank, "on_attempt_regraded", "attempt_regraded", seen)
    with bank_session(migrated) as session:
        from services.question_bank.models import LevelMemberStat, QuestionStat
        stat = session.get(QuestionStat, BAD)
        assert (stat.shown, stat.graded, stat.right) == (1, 1, 1)
        other = session.get(QuestionStat, "L1-q1")
        assert (other.graded, other.right, other.sum_rest) == (1, 1, 19)
        member = session.get(LevelMemberStat, ("c2018", 1, "m1"))
        assert (member.attempts, member.passes, member.attempts_to_first_pass) == (1, 1, 1)


def bank_session(migrated):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    return Session(create_engine(migrated["QUESTION_BANK_DATABASE_URL"]))
