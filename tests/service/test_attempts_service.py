"""The attempts service through its entrypoints, on SQLite, with a fake clock and a fake bank."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import replace_dependencies

from kernel.errors import BadInput, Conflict, Forbidden, NotFound
from services.attempts.service import AttemptsService
from tests.service.helpers import call, deliver, outbox_events

LOCAL = timezone(timedelta(hours=8))
OPENS = [datetime(2018, 3, 12, tzinfo=LOCAL), datetime(2018, 4, 1, tzinfo=LOCAL)]
END = datetime(2018, 10, 31, 23, 59, 59, 999000, tzinfo=LOCAL)


class FakeBank:
    """draw_paper: 20 questions whose right answer is always A."""

    def __init__(self):
        self.draws = 0

    def draw_paper(self, campaign_id, level):
        self.draws += 1
        questions = [
            {"id": f"L{level}-q{i}", "number": i, "type": "single", "stem": f"stem {i}",
             "options": [{"key": "A", "text": "yes"}, {"key": "B", "text": "no"}]}
            for i in range(1, 21)
        ]
        return {"campaign_id": campaign_id, "level": level, "time_limit_s": 300,
                "questions": questions, "key": {q["id"]: ["A"] for q in questions}}


@pytest.fixture
def attempts(container_factory, migrated, fake_clock):
    container = container_factory(AttemptsService, migrated)
    bank = FakeBank()
    replace_dependencies(container, question_bank=bank)
    container.start()
    container.bank = bank
    fake_clock.set(datetime(2018, 3, 12, 9, 0, tzinfo=LOCAL))
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c2018", "name": "2018", "time_zone": "Asia/Shanghai",
        "starts_at": OPENS[0], "ends_at": END,
        "levels": [{"number": n + 1, "title": f"L{n + 1}", "theme": "t", "opens_at": at,
                    "time_limit_s": 300, "draw_count": 20} for n, at in enumerate(OPENS)],
    })
    deliver(container, "on_member_registered", "roster", "member_registered", {
        "member_id": "m1", "name": "王伟", "org_path": ["system", "federation"],
        "category": "party_member", "participation": "required", "status": "active",
    })
    return container


def right(paper):
    return {q["id"]: ["A"] for q in paper["questions"]}


def test_paper_has_no_key_and_starting_again_resumes(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    assert len(paper["questions"]) == 20
    assert "key" not in paper and all("answer" not in q for q in paper["questions"])
    fake_clock.advance(seconds=42)
    again = call(attempts, "start_attempt", "m1", 1)
    assert again["attempt_id"] == paper["attempt_id"] and again["deadline"] == paper["deadline"]
    assert attempts.bank.draws == 1
    assert [e["type"] for e in outbox_events(migrated, "attempts")] == [
        "run_started", "attempt_started"]


def test_pass_moves_the_run_on_and_emits_the_score(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=95, milliseconds=412)
    result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    assert result["passed"] and result["duration_ms"] == 95_412
    assert result["run"] == {"run_id": paper["run_id"], "levels_passed": 1,
                             "total_ms": 95_412, "current_level": 2}
    [passed] = outbox_events(migrated, "attempts", "attempt_passed")
    assert passed["data"]["run_levels_passed"] == 1
    assert passed["data"]["run_total_ms"] == 95_412
    assert not {"key", "answers"} & set(passed["data"])


def test_one_wrong_answer_fails_and_stays_on_the_level(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    answers = right(paper)
    answers[paper["questions"][7]["id"]] = ["B"]
    fake_clock.advance(seconds=30)
    result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], answers)
    assert not result["passed"] and result["correct"] == 19 and result["reason"] == "wrong_answers"
    assert "wrong" not in result  # default policy reveals the count only
    assert result["run"]["current_level"] == 1 and result["run"]["levels_passed"] == 0
    fake_clock.advance(seconds=1)
    retry = call(attempts, "start_attempt", "m1", 1)
    assert retry["attempt_id"] != paper["attempt_id"]
    fake_clock.advance(seconds=50)
    passed = call(attempts, "submit_attempt", "m1", retry["attempt_id"], right(retry))
    # R13: the failed attempt's 30 s count once level 1 is passed
    assert passed["run"]["total_ms"] == 30_000 + 50_000


def test_double_submit_returns_the_first_result(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=10)
    first = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    fake_clock.advance(seconds=10)
    second = call(attempts, "submit_attempt", "m1", paper["attempt_id"], {})
    assert first == second
    assert len(outbox_events(migrated, "attempts", "attempt_passed")) == 1


@pytest.mark.parametrize("late_ms, passed", [(-1, True), (0, True), (1, False)])
def test_deadline_plus_grace_edge(attempts, fake_clock, late_ms, passed):
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=300 + 10, milliseconds=late_ms)
    result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    assert result["passed"] is passed
    if not passed:
        assert result["reason"] == "timeout" and result["duration_ms"] == 300_000


def test_unsubmitted_attempt_expires_at_deadline_plus_grace(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=310)
    assert call(attempts, "expire_overdue") == 0
    fake_clock.advance(milliseconds=1)
    assert call(attempts, "expire_overdue") == 1
    [failed] = outbox_events(migrated, "attempts", "attempt_failed")
    assert failed["data"]["reason"] == "expired" and failed["data"]["duration_ms"] == 300_000
    assert failed["data"]["attempt_id"] == paper["attempt_id"]


def test_level_not_open_and_wrong_level_are_conflicts(attempts, fake_clock):
    with pytest.raises(Conflict, match="level 1"):
        call(attempts, "start_attempt", "m1", 2)
    paper = call(attempts, "start_attempt", "m1", 1)
    call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    fake_clock.set(datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL))
    with pytest.raises(Conflict, match="opens at"):
        call(attempts, "start_attempt", "m1", 2)
    fake_clock.set(datetime(2018, 4, 1, 0, 0, tzinfo=LOCAL))
    assert call(attempts, "start_attempt", "m1", 2)["level"] == 2


def test_unknown_member_and_bad_input(attempts):
    with pytest.raises(Forbidden):
        call(attempts, "start_attempt", "nobody", 1)
    with pytest.raises(BadInput) as bad:
        call(attempts, "start_attempt", "m1", "one")
    assert "level" in bad.value.fields
    with pytest.raises(NotFound):
        call(attempts, "submit_attempt", "m1", "no-such-attempt", {})
    paper = call(attempts, "start_attempt", "m1", 1)
    with pytest.raises(BadInput) as bad:
        call(attempts, "submit_attempt", "m1", paper["attempt_id"], {"not-on-paper": ["A"]})
    assert bad.value.fields == {"answers": ["not-on-paper"]}
    with pytest.raises(BadInput) as bad:
        call(attempts, "submit_attempt", "m1", paper["attempt_id"], {"x": ["AB"]})
    assert "answers" in bad.value.fields
    # nothing of the above closed the attempt
    assert call(attempts, "start_attempt", "m1", 1)["attempt_id"] == paper["attempt_id"]


def test_submit_for_another_members_attempt_is_not_found(attempts):
    deliver(attempts, "on_member_registered", "roster", "member_registered", {
        "member_id": "m2", "name": "李娜", "org_path": ["system"], "category": "non_party",
        "participation": "voluntary", "status": "active",
    })
    paper = call(attempts, "start_attempt", "m1", 1)
    with pytest.raises(NotFound):
        call(attempts, "submit_attempt", "m2", paper["attempt_id"], right(paper))


def test_restart_refused_until_every_open_level_is_passed(attempts, migrated, fake_clock):
    with pytest.raises(Conflict, match="up to level 1"):
        call(attempts, "restart_run", "m1")
    paper = call(attempts, "start_attempt", "m1", 1)
    with pytest.raises(Conflict, match="open before"):
        call(attempts, "restart_run", "m1")
    fake_clock.advance(seconds=40)
    call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    # R14: level 1 is all that is open in March, so a new run may start
    new = call(attempts, "restart_run", "m1")
    assert (new["run_number"], new["current_level"], new["levels_passed"]) == (2, 1, 0)
    progress = call(attempts, "progress", "m1")
    assert [(r["run_number"], r["active"], r["levels_passed"], r["total_ms"])
            for r in progress["runs"]] == [(1, False, 1, 40_000), (2, True, 0, 0)]
    assert progress["best_run"]["run_number"] == 1
    assert [e["data"]["run_number"] for e in outbox_events(migrated, "attempts", "run_started")
            ] == [1, 2]
    # in April level 2 opens: the new run must pass both before another restart
    fake_clock.set(datetime(2018, 4, 1, tzinfo=LOCAL))
    paper = call(attempts, "start_attempt", "m1", 1)
    call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    with pytest.raises(Conflict, match="up to level 2"):
        call(attempts, "restart_run", "m1")


def test_count_passes_at_the_month_cutoff(attempts, fake_clock):
    """R15: a pass at 23:59:59.999 local on the last day counts; one at 00:00:00 does not."""
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    for member, at in (("m1", cutoff), ("m2", cutoff + timedelta(milliseconds=1))):
        deliver(attempts, "on_member_registered", "roster", "member_registered", {
            "member_id": member, "name": member, "org_path": ["system"],
            "category": "party_member", "participation": "required", "status": "active"})
        fake_clock.set(at - timedelta(seconds=30))
        paper = call(attempts, "start_attempt", member, 1)
        fake_clock.set(at)
        assert call(attempts, "submit_attempt", member, paper["attempt_id"], right(paper))["passed"]
    assert call(attempts, "count_passes", "c2018", cutoff.isoformat()) == 1
    assert call(attempts, "count_passes", "c2018",
                (cutoff + timedelta(milliseconds=1)).isoformat()) == 2
    with pytest.raises(BadInput):
        call(attempts, "count_passes", "c2018", "2018-03-31T23:59:59")  # no offset


def test_export_passes_pages_through_every_pass_as_its_event(attempts, migrated, fake_clock):
    for i in range(3):
        paper = call(attempts, "start_attempt", "m1", 1)
        fake_clock.advance(seconds=10 + i)
        call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
        if i < 2:
            call(attempts, "restart_run", "m1")
    first = call(attempts, "export_passes", "c2018", limit=2)
    second = call(attempts, "export_passes", "c2018", after=first["next"], limit=2)
    assert len(first["passes"]) == 2 and len(second["passes"]) == 1
    assert call(attempts, "export_passes", "c2018", after=second["next"])["passes"] == []
    exported = first["passes"] + second["passes"]
    published = [e["data"] for e in outbox_events(migrated, "attempts", "attempt_passed")]
    assert exported == published


# -- answers saved as the member answers; the deadline (issue 18 items 8-9) -------------------

def instant(value):
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("late_ms, expired", [(0, 0), (1, 1)])
def test_the_deadline_submits_the_saved_answers_at_its_edge(attempts, migrated, fake_clock,
                                                             late_ms, expired):
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=57, milliseconds=250)
    saved = call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    assert saved["answered"] == 20
    fake_clock.advance(seconds=1)  # the same again (a retry): the time of the change stays
    again = call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    assert again["saved_at"] == saved["saved_at"]
    resumed = call(attempts, "start_attempt", "m1", 1)  # another device
    assert resumed["saved_answers"] == right(paper) and resumed["saved_at"] == saved["saved_at"]
    fake_clock.set(instant(paper["deadline"]) + timedelta(seconds=10, milliseconds=late_ms))
    assert call(attempts, "expire_overdue") == expired
    if not expired:
        return
    [passed] = outbox_events(migrated, "attempts", "attempt_passed")
    assert passed["data"]["duration_ms"] == 57_250 and passed["data"]["run_total_ms"] == 57_250
    assert instant(passed["data"]["submitted_at"]) == instant(paper["deadline"])
    history = call(attempts, "my_attempts", "m1")["items"][0]
    assert (history["status"], history["auto_submitted"]) == ("passed", True)


def test_saves_refused_off_the_paper_to_others_and_once_over(attempts, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    first = paper["questions"][0]["id"]
    for answers in ({"elsewhere": ["A"]}, {first: ["C"]}, {first: ["A", "B"]}):
        with pytest.raises(BadInput) as refused:
            call(attempts, "save_answers", "m1", paper["attempt_id"], answers)
        assert refused.value.reason == "answers_off_paper"
    with pytest.raises(BadInput) as refused:
        call(attempts, "save_answers", "m1", paper["attempt_id"], {first: ["AB"]})
    assert "answers" in refused.value.fields
    deliver(attempts, "on_member_registered", "roster", "member_registered", {
        "member_id": "m2", "name": "李娜", "org_path": ["system"], "category": "non_party",
        "participation": "voluntary", "status": "active"})
    with pytest.raises(NotFound):
        call(attempts, "save_answers", "m2", paper["attempt_id"], {})
    fake_clock.advance(seconds=300 + 10, milliseconds=1)
    with pytest.raises(Conflict) as refused:
        call(attempts, "save_answers", "m1", paper["attempt_id"], {first: ["A"]})
    assert refused.value.reason == "attempt_closed"


LAST_START = datetime(2018, 10, 31, 23, 58, 44, tzinfo=LOCAL)


@pytest.mark.parametrize("save_first", [True, False])
def test_an_attempt_started_at_23_58_44_on_the_last_day_ends_with_the_campaign(
        attempts, migrated, fake_clock, save_first):
    """R15 at the campaign's end: the deadline is 23:59:59.999 local, not 5 minutes later;
    what comes after it (grace or not) is graded on what was saved by then."""
    fake_clock.set(LAST_START)
    paper = call(attempts, "start_attempt", "m1", 1)
    assert instant(paper["deadline"]) == END
    assert instant(paper["month_cutoff"]) == END and paper["month"] == "2018-10"
    assert instant(paper["campaign_ends_at"]) == END
    if save_first:
        fake_clock.set(END)
        call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    fake_clock.set(END + timedelta(milliseconds=1))
    with pytest.raises(Conflict):
        call(attempts, "save_answers", "m1", paper["attempt_id"], {})
    fake_clock.set(END + timedelta(seconds=5))  # inside the grace of the deadline: too late
    result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    if save_first:
        assert result["passed"] and result["auto_submitted"]
        assert instant(result["submitted_at"]) == END  # October's: on the final board
        assert result["duration_ms"] == 75_999
        assert call(attempts, "count_passes", "c2018", END.isoformat()) == 1
    else:
        assert (result["passed"], result["reason"], result["duration_ms"]) == (
            False, "timeout", 75_999)


def test_a_months_count_submits_the_overdue_attempts_first(attempts, fake_clock):
    """ranking asks after the cutoff + settle; the expiry timer may not have run yet."""
    cutoff = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
    fake_clock.set(cutoff - timedelta(minutes=10))
    paper = call(attempts, "start_attempt", "m1", 1)
    fake_clock.advance(seconds=90)
    call(attempts, "save_answers", "m1", paper["attempt_id"], right(paper))
    fake_clock.set(cutoff + timedelta(seconds=300))
    assert call(attempts, "count_passes", "c2018", cutoff.isoformat()) == 1
    assert call(attempts, "progress", "m1")["open_attempt"] is None
