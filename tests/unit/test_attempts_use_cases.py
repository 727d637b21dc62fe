"""attempts' use cases (play.py, watch.py, records.py, replicas.py) on the real store over an
in-memory SQLite session and a fake unit of work: no container, no bus, milliseconds each.

The fake transaction commits what a use case wrote and rolls back when it raises, as
`with self.uow as tx` does; its events are checked against the contract as `tx.emit` does."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kernel import events as contract
from kernel.errors import BadInput, Conflict, Forbidden, NotFound, RateLimited
from kernel.knobs import read_all
from services.attempts import play, records, replicas, watch
from services.attempts.models import Attempt, Base, Flag
from services.attempts.store import AttemptsStore

LOCAL = timezone(timedelta(hours=8))
OPENS = [datetime(2018, 3, 12, tzinfo=LOCAL), datetime(2018, 4, 1, tzinfo=LOCAL)]
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
MARCH = datetime(2018, 3, 12, 9, 0, tzinfo=LOCAL)


class FakeTx:
    def __init__(self, session, now):
        self.session, self.store, self.now = session, AttemptsStore(session), now
        self.emitted = []

    def emit(self, type_, data):
        contract.build("attempts", type_, data, self.now)  # refuses what breaks the contract
        self.emitted.append((type_, data))


class World:
    """One member's play against a two-level campaign, a transaction per call."""

    def __init__(self, session, campaign=True, **knobs):
        self.session, self.now = session, MARCH
        self.knobs = read_all({key: str(value) for key, value in knobs.items()})
        self.events = []
        if campaign:
            self.publish()
        for member, unit in (("m1", "u1"), ("m2", "u2")):
            self.do(replicas.member_changed, member, "active", ["system", unit])

    def publish(self):
        self.do(replicas.campaign_changed, {
            "campaign_id": "c", "time_zone": "Asia/Shanghai", "starts_at": OPENS[0],
            "ends_at": END, "levels": [{"number": n, "opens_at": at, "time_limit_s": 300,
                                        "draw_count": 3} for n, at in enumerate(OPENS, 1)]})

    def do(self, use_case, *args):
        tx = FakeTx(self.session, self.now)
        try:
            result = use_case(tx, *args)
        except Exception:
            self.session.rollback()
            raise
        self.session.commit()
        self.events += tx.emitted
        return result

    def types(self):
        return [type_ for type_, _ in self.events]

    def start(self, member="m1", level=1, bank_size=None, ids=range(1, 4)):
        """Start, or resume; the paper shows questions `ids` of the level's bank."""
        check = self.do(play.check_start, self.knobs, member, level)
        if check.resume is not None:
            return check.resume["attempt"]
        ids = [f"L{level}q{i}" for i in ids]
        paper = {"time_limit_s": 300, "bank_size": bank_size,
                 "questions": [{"id": qid, "number": n, "type": "single",
                                "options": [{"key": k, "text": k} for k in "ABC"]}
                               for n, qid in enumerate(ids, 1)],
                 "key": {qid: ["A"] for qid in ids}}
        return self.do(play.begin_attempt, self.knobs, member, level, check.campaign_id,
                       paper)["attempt"]

    def submit(self, attempt, right=True, member="m1"):
        answers = {qid: ["A" if right else "B"] for qid in attempt.key}
        return self.do(play.submit_attempt, self.knobs, member, attempt.id, answers)

    def play(self, member="m1", seconds=30, right=True):
        attempt = self.start(member)
        self.later(seconds=seconds)
        return self.submit(attempt, right, member)

    def later(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def world(session):
    return World(session)


# -- who may play, and what ----------------------------------------------------------------

def test_only_a_known_active_member_not_disqualified_may_start_or_submit(world):
    with pytest.raises(Forbidden) as refused:
        world.start("nobody")
    assert refused.value.reason == "may_not_play"
    attempt = world.start("m2")
    world.do(replicas.member_disqualified, "m2")
    for act in (lambda: world.start("m2"), lambda: world.submit(attempt, member="m2")):
        with pytest.raises(Forbidden) as refused:
            act()
        assert refused.value.reason == "member_disqualified"
    world.do(replicas.member_reinstated, "m2")
    world.do(replicas.member_changed, "m2", "inactive")
    with pytest.raises(Forbidden) as refused:
        world.start("m2")
    assert refused.value.reason == "member_inactive"


def test_no_campaign_no_start(session):
    world = World(session, campaign=False)
    with pytest.raises(NotFound):
        world.start()
    world.publish()
    assert world.start().level == 1


def test_the_first_start_opens_run_1_and_starting_again_resumes(world):
    attempt = world.start()
    assert world.types() == ["run_started", "attempt_started"]
    assert (attempt.level, attempt.started_at, attempt.deadline) == (
        1, MARCH, MARCH + timedelta(seconds=300))
    world.later(seconds=30)
    assert world.start().id == attempt.id
    assert world.types() == ["run_started", "attempt_started"]  # nothing new


@pytest.mark.parametrize("now, level, reason", [
    (MARCH, 2, "not_current_level"),
    (END + timedelta(milliseconds=1), 1, "campaign_ended"),
])
def test_a_level_that_is_not_the_members_to_play_now_is_refused(world, now, level, reason):
    world.now = now
    with pytest.raises(Conflict) as refused:
        world.start(level=level)
    assert refused.value.reason == reason
    assert world.session.query(Attempt).count() == 0


def test_level_2_opens_at_its_instant(world):
    world.submit(world.start())
    world.now = OPENS[1] - timedelta(milliseconds=1)
    with pytest.raises(Conflict) as refused:
        world.start(level=2)
    assert refused.value.reason == "level_not_open"
    world.now = OPENS[1]
    assert world.start(level=2).level == 2


# -- grading -------------------------------------------------------------------------------

def test_all_right_passes_and_moves_the_run_on_once(world):
    attempt = world.start()
    world.later(seconds=42)
    graded = world.submit(attempt)
    assert graded["attempt"].status == "passed" and graded["attempt"].duration_ms == 42_000
    assert (graded["run"].levels_passed, graded["run"].current_level) == (1, 2)
    passed = dict(world.events)["attempt_passed"]
    assert (passed["run_levels_passed"], passed["run_total_ms"]) == (1, 42_000)
    world.later(seconds=5)
    again = world.submit(attempt, right=False)  # the first result stands
    assert again["attempt"].status == "passed" and world.types().count("attempt_passed") == 1


def test_a_failure_reveals_what_the_knob_allows(session):
    world = World(session, ATTEMPTS_REVEAL="wrong_numbers")
    graded = world.submit(world.start(), right=False)
    assert graded["attempt"].status == "failed" and graded["attempt"].reason == "wrong_answers"
    assert graded["wrong"] == [1, 2, 3] and "answers" not in graded
    plain = World(session)  # the default: the count right only
    assert "wrong" not in plain.play("m2", right=False)


def test_answers_off_the_paper_are_refused_and_the_attempt_stays_open(world):
    attempt = world.start()
    with pytest.raises(BadInput) as refused:
        world.do(play.submit_attempt, world.knobs, "m1", attempt.id, {"elsewhere": ["A"]})
    assert refused.value.fields == {"answers": ["elsewhere"]}
    assert world.session.get(Attempt, attempt.id).status == "open"
    with pytest.raises(NotFound):
        world.submit(attempt, member="m2")  # not theirs: as if it did not exist


def test_late_submission_times_out_and_an_unsubmitted_one_expires(world):
    attempt = world.start()
    world.later(seconds=300 + 10, milliseconds=1)  # deadline + grace + 1 ms
    graded = world.submit(attempt)
    assert (graded["attempt"].reason, graded["attempt"].duration_ms) == ("timeout", 300_000)
    second = world.start()
    world.later(seconds=310)
    assert world.do(play.expire_overdue, world.knobs) == 0  # at deadline + grace: not yet
    world.later(milliseconds=1)
    assert world.do(play.expire_overdue, world.knobs) == 1
    assert world.session.get(Attempt, second.id).reason == "expired"


def test_a_start_fails_an_overdue_open_attempt_first(world):
    first = world.start()
    world.later(minutes=10)
    assert world.start().id != first.id
    assert world.session.get(Attempt, first.id).reason == "expired"


# -- restart (R14) and progress (R8, R13) ----------------------------------------------------

def test_restart_waits_for_every_open_level_and_no_open_attempt(world):
    with pytest.raises(Conflict) as refused:
        world.do(play.restart_run, world.knobs, "m1")
    assert refused.value.reason == "restart_not_allowed"
    attempt = world.start()
    with pytest.raises(Conflict) as refused:
        world.do(play.restart_run, world.knobs, "m1")
    assert refused.value.reason == "attempt_open"
    world.later(seconds=50)
    world.submit(attempt)
    new = world.do(play.restart_run, world.knobs, "m1")
    assert (new.run_number, new.active, new.current_level) == (2, True, 1)
    world.play(seconds=30)  # run 2 passes level 1 faster: it is the best run (R13)
    progress = world.do(records.progress, "m1")
    assert [r.active for r in progress["runs"]] == [False, True]
    assert progress["best_run"].run_number == 2 and progress["open_attempt"] is None


def test_a_run_with_no_pass_is_not_a_best_run(world):
    world.play(right=False)
    assert world.do(records.progress, "m1")["best_run"] is None


# -- deactivation voids ----------------------------------------------------------------------

@pytest.mark.parametrize("decision", [
    lambda w: w.do(replicas.member_changed, "m1", "inactive"),
    lambda w: w.do(replicas.member_disqualified, "m1"),
])
def test_a_member_who_may_play_no_more_has_the_open_attempt_voided_silently(world, decision):
    attempt = world.start()
    before = list(world.events)
    decision(world)
    assert world.session.get(Attempt, attempt.id).status == "voided"
    assert world.events == before  # no pass, no fail, no statistics


# -- R20 --------------------------------------------------------------------------------------

def test_starts_per_hour_and_the_wait_after_a_failure(session):
    world = World(session, ATTEMPT_STARTS_PER_HOUR=2, ATTEMPT_WAIT_AFTER_FAILURE_SECONDS=30)
    world.play(seconds=0, right=False)
    with pytest.raises(RateLimited) as limited:
        world.start()
    assert (limited.value.reason, limited.value.retry_after) == ("wait_after_failure", 30)
    world.later(seconds=30)
    world.play(seconds=0, right=False)
    world.later(seconds=30)
    with pytest.raises(RateLimited) as limited:  # the first start leaves the hour at 3600 s
        world.start()
    assert (limited.value.reason, limited.value.retry_after) == ("starts_per_hour", 3540)
    assert world.types().count("attempt_started") == 2


def test_a_harvested_bank_is_flagged_once(session):
    world = World(session, FLAG_BANK_SHARE=0.5)
    world.submit(world.start(bank_size=20, ids=range(1, 7)), right=False)
    world.submit(world.start(bank_size=20, ids=range(5, 11)), right=False)  # 10 of 20 seen
    world.submit(world.start(bank_size=20, ids=range(9, 15)), right=False)  # flagged already
    flags = [(f.reason, f.detail) for f in world.session.query(Flag)]
    assert flags == [("bank_exposure", {"seen": 10, "bank_size": 20, "share": 0.5,
                                        "level": 1})]
    assert world.types().count("attempt_flagged") == 1


def test_a_fast_pass_is_flagged_not_refused(world):
    graded = world.play(seconds=1)  # under 1.5 s a question for 3 questions
    assert graded["attempt"].status == "passed"
    flags = [(f.reason, f.detail) for f in world.session.query(Flag)]
    assert flags == [("fast_pass", {"duration_ms": 1000, "floor_ms": 4500, "questions": 3,
                                    "level": 1})]


def test_a_flag_is_reviewed_only_inside_the_reviewers_part_of_the_tree(world):
    world.play(seconds=1)  # fast: flagged
    page = world.do(watch.flags_page, ["u2"], 50, 0, None)
    assert page == {"total": 0, "items": []}
    flag = world.do(watch.flags_page, ["u1"], 50, 0, False)["items"][0]
    with pytest.raises(Forbidden):
        world.do(watch.review_flag, "admin-2", flag.id, "seen", ["u2"])
    assert world.session.get(Flag, flag.id).reviewed_at is None
    with pytest.raises(NotFound):
        world.do(watch.review_flag, "admin-1", flag.id + 1, "seen", None)
    with pytest.raises(Forbidden) as own:  # nobody clears their own play (and prize)
        world.do(watch.review_flag, flag.member_id, flag.id, "mine is fine", None)
    assert own.value.reason == "self_review"
    assert world.session.get(Flag, flag.id).reviewed_at is None
    world.do(watch.review_flag, "admin-1", flag.id, "seen", ["u1"], "upheld")
    assert world.do(watch.flags_page, None, 50, 0, False)["total"] == 0
    assert world.session.get(Flag, flag.id).reviewed_by == "admin-1"
    assert world.session.get(Flag, flag.id).outcome == "upheld"
    [(_, raised)] = [e for e in world.events if e[0] == "attempt_flagged"]
    [(_, reviewed)] = [e for e in world.events if e[0] == "flag_reviewed"]
    assert raised["flag_id"] == reviewed["flag_id"] == flag.id
    assert (reviewed["outcome"], reviewed["member_id"]) == ("upheld", flag.member_id)


# -- what other services ask ----------------------------------------------------------------

def test_passes_export_a_page_at_a_time_as_their_events(world):
    for member in ("m1", "m2"):
        world.play(member, seconds=20)
    first = world.do(records.export_passes, "c", None, 1)
    second = world.do(records.export_passes, "c", first["next"], 1)
    assert world.do(records.export_passes, "c", second["next"], 1)["passes"] == []
    events = [data for type_, data in world.events if type_ == "attempt_passed"]
    assert first["passes"] + second["passes"] == events
    played = world.do(records.participants, "c")
    assert [{k: v for k, v in p.items() if k != "first_started_at"} for p in played] == [
        {"member_id": "m1", "attempts": 1, "levels_passed": 1},
        {"member_id": "m2", "attempts": 1, "levels_passed": 1}]
    # when each first started one: before their pass was submitted (R19's month by month)
    submitted = {e["member_id"]: e["submitted_at"] for e in events}
    assert all(p["first_started_at"] < submitted[p["member_id"]] for p in played)


# -- answers saved as the member answers (issue 18 item 8) -----------------------------------

def save(world, attempt, answers, member="m1"):
    return world.do(play.save_answers, world.knobs, member, attempt.id, answers)


def right_answers(attempt):
    return {qid: ["A"] for qid in attempt.key}


def test_saved_answers_are_submitted_by_the_deadline_and_pass_timed_by_the_last_save(world):
    """A phone that died after answering everything right: the deadline submits the saves."""
    attempt = world.start()
    world.later(seconds=40)
    save(world, attempt, right_answers(attempt))
    world.later(seconds=20)
    save(world, attempt, right_answers(attempt))  # a retry of the same answers: time kept
    world.later(seconds=300 - 60 + 10)  # deadline + grace: not yet
    assert world.do(play.expire_overdue, world.knobs) == 0
    world.later(milliseconds=1)
    assert world.do(play.expire_overdue, world.knobs) == 1
    closed = world.session.get(Attempt, attempt.id)
    assert (closed.status, closed.auto_submitted, closed.duration_ms) == ("passed", True, 40_000)
    assert closed.submitted_at == attempt.deadline and closed.answers == right_answers(attempt)
    passed = dict(world.events)["attempt_passed"]
    assert (passed["duration_ms"], passed["run_total_ms"], passed["submitted_at"]) == (
        40_000, 40_000, attempt.deadline)
    assert world.do(records.progress, "m1")["active_run"].current_level == 2


def test_the_last_save_wins_and_wrong_saves_fail_as_a_submission_would(world):
    attempt = world.start()
    world.later(seconds=30)
    save(world, attempt, right_answers(attempt))
    world.later(seconds=30)
    last = dict(right_answers(attempt), **{"L1q2": ["B"]})
    view = save(world, attempt, last)
    assert view["attempt"].saved_at == MARCH + timedelta(seconds=60)
    world.later(minutes=10)
    world.do(play.expire_overdue, world.knobs)
    failed = dict(world.events)["attempt_failed"]
    assert (failed["reason"], failed["correct"], failed["duration_ms"]) == (
        "wrong_answers", 2, 60_000)
    assert failed["wrong_question_ids"] == ["L1q2"]


def test_with_nothing_saved_the_expiry_is_as_before(world):
    attempt = world.start()
    save(world, attempt, {"L1q1": []})  # a question answered, then cleared: nothing saved
    world.later(seconds=311)
    world.do(play.expire_overdue, world.knobs)
    failed = dict(world.events)["attempt_failed"]
    assert (failed["reason"], failed["duration_ms"]) == ("expired", 300_000)
    assert world.session.get(Attempt, attempt.id).auto_submitted is False


def test_resuming_on_another_device_shows_the_saved_answers(world):
    attempt = world.start()
    world.later(seconds=25)
    save(world, attempt, {"L1q1": ["A"], "L1q3": ["C", "C"]})
    world.later(seconds=5)
    view = world.do(play.check_start, world.knobs, "m1", 1).resume
    assert view["attempt"].id == attempt.id
    assert view["attempt"].saved_answers == {"L1q1": ["A"], "L1q3": ["C"]}
    assert view["attempt"].saved_at == MARCH + timedelta(seconds=25)


def test_a_late_submission_is_graded_on_the_saves_as_the_deadline_would(world):
    attempt = world.start()
    world.later(seconds=30)
    save(world, attempt, right_answers(attempt))
    world.later(seconds=300 - 30 + 10, milliseconds=1)  # past deadline + grace
    graded = world.submit(attempt, right=False)  # what arrives late does not count
    assert (graded["attempt"].status, graded["attempt"].duration_ms) == ("passed", 30_000)
    assert graded["attempt"].auto_submitted is True


@pytest.mark.parametrize("answers, field", [
    ({"elsewhere": ["A"]}, ["elsewhere"]),          # not on this paper
    ({"L1q1": ["Z"]}, ["L1q1"]),                    # not one of its options
    ({"L1q1": ["A"], "L1q2": ["A", "B"]}, ["L1q2"]),  # two options on a single-choice question
])
def test_saves_are_bounded_by_the_paper(world, answers, field):
    attempt = world.start()
    with pytest.raises(BadInput) as refused:
        save(world, attempt, answers)
    assert (refused.value.reason, refused.value.fields) == ("answers_off_paper",
                                                             {"answers": field})
    assert world.session.get(Attempt, attempt.id).saved_answers is None


def test_only_the_owner_saves_and_only_while_the_attempt_may_be_submitted(world):
    attempt = world.start()
    with pytest.raises(NotFound):
        save(world, attempt, {}, member="m2")
    world.later(seconds=310)  # deadline + grace: still in time
    save(world, attempt, {"L1q1": ["A"]})
    world.later(milliseconds=1)
    with pytest.raises(Conflict) as refused:
        save(world, attempt, {"L1q1": ["B"]})
    assert refused.value.reason == "attempt_closed"
    second = world.start()  # the first is submitted by its deadline on the way
    world.submit(second)
    with pytest.raises(Conflict) as refused:
        save(world, second, {})
    assert refused.value.reason == "attempt_closed"
    world.do(replicas.member_disqualified, "m1")
    with pytest.raises(Forbidden):
        save(world, second, {})


# -- the deadline and the month (issue 18 item 9; R15) ----------------------------------------

LAST_DAY = datetime(2018, 10, 31, 23, 58, 44, tzinfo=LOCAL)


def test_an_attempt_cannot_run_past_the_campaigns_end(world):
    """Started at 23:58:44 on the campaign's last day: its deadline is the end, 23:59:59.999
    local, not 5 minutes on; nothing is saved or submitted after it, grace or not."""
    world.now = LAST_DAY
    attempt = world.start()
    assert attempt.deadline == END
    view = world.do(play.check_start, world.knobs, "m1", 1).resume
    assert (view["month"], view["month_cutoff"], view["campaign_ends_at"]) == (
        "2018-10", END, END)
    world.now = END
    save(world, attempt, right_answers(attempt))  # at the very end: in time
    world.now = END + timedelta(milliseconds=1)
    with pytest.raises(Conflict):
        save(world, attempt, {})
    graded = world.submit(attempt)  # within the grace of its deadline, but past the end
    assert graded["attempt"].status == "passed" and graded["attempt"].auto_submitted
    assert graded["attempt"].submitted_at == END  # October's: on the final board
    assert graded["attempt"].duration_ms == 75_999


def test_with_nothing_saved_past_the_end_it_times_out_in_the_time_it_had(world):
    world.now = LAST_DAY
    attempt = world.start()
    world.now = END + timedelta(seconds=5)
    graded = world.submit(attempt)
    assert (graded["attempt"].reason, graded["attempt"].duration_ms) == ("timeout", 75_999)


def test_a_deadline_past_the_months_cutoff_counts_in_the_next_month(world):
    """R15: submitted by 23:59:59.999 local counts in March; the deadline's submission of an
    attempt that ran on into April is April's."""
    from kernel import r15
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    world.now = datetime(2018, 3, 31, 23, 58, 44, tzinfo=LOCAL)
    attempt = world.start()
    view = world.do(play.check_start, world.knobs, "m1", 1).resume
    assert (view["month"], view["month_cutoff"]) == ("2018-03", cutoff)
    assert attempt.deadline > cutoff
    world.now = cutoff
    save(world, attempt, right_answers(attempt))
    world.now = attempt.deadline + timedelta(seconds=11)
    assert world.do(play.passes_by, world.knobs, "c", cutoff) == 0
    closed = world.session.get(Attempt, attempt.id)
    assert closed.status == "passed" and r15.month_of(closed.submitted_at,
                                                       "Asia/Shanghai") == "2018-04"


def test_a_month_counts_the_deadline_submissions_the_timer_has_not_reached(world):
    """ranking asks for a month's passes after its cutoff + settle: an attempt whose
    deadline came before the cutoff is submitted first, and counts."""
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    world.now = datetime(2018, 3, 31, 23, 50, tzinfo=LOCAL)
    attempt = world.start()
    world.later(seconds=100)
    save(world, attempt, right_answers(attempt))
    world.now = cutoff + timedelta(seconds=300)
    assert world.session.get(Attempt, attempt.id).status == "open"
    assert world.do(play.passes_by, world.knobs, "c", cutoff) == 1
