"""attempts' regrade (regrade.py; issue 18 item 7; R12, R13, R15) on the real store over an
in-memory SQLite session and a fake unit of work, with a fake clock: a question keyed
wrongly fails everyone who draws it under R12 until the key is corrected and the papers are
graded again."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kernel import events as contract
from kernel.knobs import read_all
from services.attempts import play, records, regrade, replicas
from services.attempts.models import Attempt, Base, Run, audit_log
from services.attempts.store import AttemptsStore

LOCAL = timezone(timedelta(hours=8))
OPENS = [datetime(2018, 3, 12, tzinfo=LOCAL), datetime(2018, 4, 1, tzinfo=LOCAL)]
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
MARCH = datetime(2018, 3, 20, 9, 0, tzinfo=LOCAL)
MARCH_CUTOFF = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
BAD = "L1q2"  # keyed 甲 (A on every paper here), though 乙 is right


class FakeTx:
    def __init__(self, session, now):
        self.session, self.store, self.now = session, AttemptsStore(session), now
        self.emitted = []

    def emit(self, type_, data):
        contract.build("attempts", type_, data, self.now)  # refuses what breaks the contract
        self.emitted.append((type_, data))


class World:
    def __init__(self, session):
        self.session, self.now, self.events = session, MARCH, []
        self.knobs = read_all({})
        self.do(replicas.campaign_changed, {
            "campaign_id": "c", "time_zone": "Asia/Shanghai", "starts_at": OPENS[0],
            "ends_at": END, "levels": [{"number": n, "opens_at": at, "time_limit_s": 300,
                                        "draw_count": 3} for n, at in enumerate(OPENS, 1)]})
        for member in ("m1", "m2"):
            self.do(replicas.member_changed, member, "active", ["system", "u1"])

    def do(self, use_case, *args, discard=False):
        tx = FakeTx(self.session, self.now)
        result = use_case(tx, *args)
        if discard:
            self.session.rollback()
        else:
            self.session.commit()
            self.events += tx.emitted
        return result

    def start(self, member="m1", level=1, ids=(1, 2, 3)):
        check = self.do(play.check_start, self.knobs, member, level)
        ids = [f"L{level}q{i}" for i in ids]
        paper = {"time_limit_s": 300, "questions": [
            {"id": qid, "number": n, "type": "single", "stem": qid, "options": [
                {"key": "A", "text": "甲"}, {"key": "B", "text": "乙"}]}
            for n, qid in enumerate(ids, 1)], "key": {qid: ["A"] for qid in ids}}
        return self.do(play.begin_attempt, self.knobs, member, level, check.campaign_id,
                       paper)["attempt"]

    def play(self, member="m1", level=1, ids=(1, 2, 3), seconds=30, answer_bad="B",
             answer_rest="A"):
        """An attempt answered right but for BAD (answered `answer_bad`)."""
        attempt = self.start(member, level, ids)
        self.later(seconds=seconds)
        answers = {qid: [answer_bad if qid == BAD else answer_rest] for qid in attempt.key}
        return self.do(play.submit_attempt, self.knobs, member, attempt.id, answers)

    def regrade(self, question=None, months=(), dry_run=False):
        question = question or key_fixed()
        self.events = []
        return self.do(regrade.regrade, self.knobs, "admin-1", question, list(months),
                       dry_run, discard=dry_run)

    def attempt(self, attempt_id) -> Attempt:
        return self.session.get(Attempt, attempt_id)

    def run(self, member="m1") -> Run:
        return self.session.scalars(select(Run).where(Run.member_id == member,
                                                      Run.active.is_(True))).one()

    def later(self, **delta):
        self.now += timedelta(**delta)


def key_fixed(voided=False):
    """question_bank.question_key for BAD once its key says 乙 (or once it is voided)."""
    return {"question_id": BAD, "campaign_id": "c", "organisation_id": "federation",
            "level": 1, "type": "single", "options": ["甲", "乙"],
            "right": ["甲"] if voided else ["乙"], "voided": voided}


@pytest.fixture
def world():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.info["metadata"] = Base.metadata  # the audit log's table
        yield World(session)
    engine.dispose()


def test_a_dry_run_reports_who_changes_and_writes_nothing(world):
    failed = world.play()["attempt"]
    assert failed.status == "failed" and failed.correct == 2
    report = world.regrade(dry_run=True)
    assert report["dry_run"] and report["regraded"] == 1
    assert [p["attempt_id"] for p in report["now_passed"]] == [failed.id]
    assert report["runs"][0]["levels_after"] == 1
    world.session.expire_all()
    assert world.attempt(failed.id).status == "failed"
    assert world.attempt(failed.id).key[BAD] == ["A"]
    assert world.run().current_level == 1 and world.run().levels_passed == 0
    assert world.events == []
    assert world.session.execute(select(audit_log)).all() == []


def test_a_failure_on_the_wrong_key_alone_passes_at_its_original_time(world):
    failed = world.play(seconds=42)["attempt"]
    submitted = failed.submitted_at
    world.later(days=3)  # the key is corrected days later
    report = world.regrade()
    world.session.expire_all()
    attempt = world.attempt(failed.id)
    assert (attempt.status, attempt.correct, attempt.submitted_at) == ("passed", 3, submitted)
    assert attempt.key[BAD] == ["B"] and attempt.regraded_at == world.now
    run = world.run()  # R13: the run moves on; its time is the attempt's own
    assert (run.current_level, run.levels_passed, run.total_ms) == (2, 1, 42_000)
    assert run.last_pass_at == submitted
    [(kind, data)] = world.events
    assert kind == "attempt_regraded"
    assert (data["passed_before"], data["passed_after"]) == (False, True)
    assert (data["wrong_before"], data["wrong_after"]) == ([BAD], [])
    assert data["run_passes"] == [{"levels": 1, "total_ms": 42_000, "at": submitted,
                                   "attempt_id": failed.id}]
    [entry] = world.session.execute(select(audit_log)).all()
    assert (entry.actor_id, entry.action, entry.target) == ("admin-1", "attempts_regraded", BAD)
    assert failed.id in entry.detail and report["regrade_id"] in entry.detail
    world.now = datetime(2018, 4, 1, 9, 0, tzinfo=LOCAL)  # level 2 is open to the member
    assert world.start(level=2).level == 2


def test_later_attempts_at_the_level_are_superseded_and_leave_the_runs_time(world):
    first = world.play(seconds=40)["attempt"]  # fails on BAD
    world.later(minutes=5)
    second = world.play(ids=(1, 3, 4), seconds=50, answer_rest="B")["attempt"]  # wrong
    world.later(minutes=5)
    third = world.play(ids=(1, 3, 4), seconds=60)["attempt"]  # passes without BAD
    world.later(days=1)
    assert world.run().total_ms == 150_000
    report = world.regrade()
    world.session.expire_all()
    run = world.run()
    assert (run.levels_passed, run.total_ms, run.last_pass_at) == (
        1, 40_000, first.submitted_at)
    assert report["runs"][0]["superseded"] == [second.id, third.id]
    assert world.attempt(third.id).status == "passed"  # kept in the history, superseded
    assert world.attempt(third.id).superseded and world.attempt(second.id).superseded
    assert world.do(lambda tx: tx.store.passes_until("c", world.now)) == 1


def test_a_voided_question_counts_as_right_whatever_was_answered(world):
    passed = world.play(answer_bad="A")["attempt"]  # 甲, the key then: a pass
    failed = world.play(member="m2", answer_bad="B")["attempt"]
    report = world.regrade(key_fixed(voided=True))
    world.session.expire_all()
    assert {p["attempt_id"] for p in report["now_passed"]} == {failed.id}
    assert world.attempt(failed.id).status == "passed"
    assert world.attempt(failed.id).voided_question_ids == [BAD]
    # m1's pass is right either way: its paper notes the void, its grading stands
    assert report["unchanged"] == 1 and report["regraded"] == 1
    assert world.attempt(passed.id).voided_question_ids == [BAD]
    assert report["kept_passes"] == [] and len(world.events) == 1


def test_a_pass_the_corrected_key_would_fail_is_kept_and_listed(world):
    passed = world.play(answer_bad="A")["attempt"]  # 甲 was the key then
    report = world.regrade()
    world.session.expire_all()
    assert [p["attempt_id"] for p in report["kept_passes"]] == [passed.id]
    assert world.attempt(passed.id).status == "passed"
    assert world.run().levels_passed == 1
    [(kind, data)] = world.events  # statistics learn of the corrected grading
    assert (data["passed_before"], data["passed_after"]) == (True, True)
    assert data["wrong_after"] == [BAD] and "run_passes" not in data


def test_a_closed_month_is_listed_not_rewritten(world):
    failed = world.play(seconds=40)["attempt"]  # 20 March, fails on BAD
    world.now = datetime(2018, 4, 3, 9, 0, tzinfo=LOCAL)  # March closed meanwhile
    world.play(ids=(1, 3, 4), seconds=70)  # passes in April
    report = world.regrade(months=[{"month": "2018-03", "cutoff": MARCH_CUTOFF.isoformat()}])
    assert report["closed_months"] == [{
        "month": "2018-03", "member_id": "m1", "levels_before": 0, "total_ms_before": None,
        "levels_after": 1, "total_ms_after": 40_000}]
    assert world.attempt(failed.id).status == "passed"  # live results are corrected


def test_a_second_regrade_changes_nothing(world):
    world.play()
    world.regrade()
    again = world.regrade()
    assert (again["regraded"], again["unchanged"], again["now_passed"]) == (0, 1, [])
    assert world.events == []
    assert len(world.session.execute(select(audit_log)).all()) == 1


def test_an_open_attempt_waits_for_a_later_regrade(world):
    failed = world.play()["attempt"]
    world.later(minutes=1)
    open_one = world.start(ids=(2, 3, 4))  # the run is still at level 1, playing it again
    report = world.regrade()
    assert {p["attempt_id"] for p in report["pending"]} == {open_one.id, failed.id}
    assert report["now_passed"] == [] and world.attempt(failed.id).status == "failed"


def test_a_paper_whose_options_were_edited_is_listed_not_guessed(world):
    failed = world.play()["attempt"]
    edited = dict(key_fixed(), options=["甲", "丙"], right=["丙"])
    report = world.regrade(edited)
    assert [p["attempt_id"] for p in report["unmatched"]] == [failed.id]
    assert world.attempt(failed.id).status == "failed"


def test_later_levels_keep_their_times_shifted_and_ranking_gets_every_record(world):
    first = world.play(seconds=40)["attempt"]  # level 1 fails on BAD
    world.later(minutes=5)
    second = world.play(ids=(1, 3, 4), seconds=60)["attempt"]  # level 1 passes
    world.now = datetime(2018, 4, 2, 9, 0, tzinfo=LOCAL)
    third = world.play(level=2, ids=(1, 2, 3), seconds=80)["attempt"]  # level 2 passes
    assert (world.run().levels_passed, world.run().total_ms) == (2, 180_000)
    world.regrade()
    world.session.expire_all()
    assert (world.run().levels_passed, world.run().total_ms) == (2, 120_000)
    [(_, data)] = world.events
    assert data["run_passes"] == [
        {"levels": 1, "total_ms": 40_000, "at": first.submitted_at, "attempt_id": first.id},
        {"levels": 2, "total_ms": 120_000, "at": third.submitted_at, "attempt_id": third.id}]
    # ranking's rebuild reads the same: the superseded pass is not exported
    exported = world.do(records.export_passes, "c", None, 10)["passes"]
    assert [(p["attempt_id"], p["run_levels_passed"], p["run_total_ms"]) for p in exported] == [
        (first.id, 1, 40_000), (third.id, 2, 120_000)]
    assert second.id not in {p["attempt_id"] for p in exported}
