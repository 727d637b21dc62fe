"""A member who may play no more (deactivated, or disqualified under R20): attempts voids the
open attempt and refuses play, ranking takes an inactive member off the live boards (and puts
them back on reactivation; a closed month's board keeps them, marked and placeless) while a
disqualified one stays there, marked and placeless."""
from datetime import timedelta

import pytest
from nameko.testing.services import replace_dependencies
from sqlalchemy import create_engine, select

from kernel.errors import Forbidden
from services.attempts.models import Attempt, Run
from services.ranking.service import RankingService
from tests.service.helpers import call, deliver, outbox_events
from tests.service.test_attempts_service import attempts, right  # noqa: F401 (fixture)
from tests.service.test_ranking_service import T0, board, passed

MEMBER = {"member_id": "m1", "name": "王伟", "org_path": ["system", "federation"],
          "category": "party_member", "participation": "required", "status": "active"}


def rows(config, model):
    engine = create_engine(config["ATTEMPTS_DATABASE_URL"])
    with engine.connect() as conn:
        found = [dict(row._mapping) for row in conn.execute(select(model.__table__))]
    engine.dispose()
    return found


def refused(container, reason, method, *args):
    with pytest.raises(Forbidden) as caught:
        call(container, method, *args)
    assert caught.value.reason == reason
    return caught.value


def test_deactivation_voids_the_open_attempt_and_ends_play(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    runs_before = rows(migrated, Run)
    deliver(attempts, "on_member_deactivated", "roster", "member_deactivated",
            {"member_id": "m1"})
    [attempt] = rows(migrated, Attempt)
    assert (attempt["status"], attempt["reason"]) == ("voided", "member_inactive")
    assert attempt["correct"] is None and attempt["submitted_at"] is None
    fake_clock.advance(seconds=60)
    refused(attempts, "member_inactive", "submit_attempt", "m1", paper["attempt_id"],
            right(paper))
    refused(attempts, "member_inactive", "start_attempt", "m1", 1)
    refused(attempts, "member_inactive", "restart_run", "m1")
    # nothing graded: no pass or fail, the run as it was, the attempt still voided
    assert outbox_events(migrated, "attempts", "attempt_passed") == []
    assert outbox_events(migrated, "attempts", "attempt_failed") == []
    assert rows(migrated, Run) == runs_before
    assert [a["status"] for a in rows(migrated, Attempt)] == ["voided"]
    assert call(attempts, "progress", "m1")["open_attempt"] is None
    history = call(attempts, "my_attempts", "m1")["items"]
    assert [a["status"] for a in history] == ["voided"]


def test_member_updated_saying_inactive_voids_too_and_reactivation_plays_again(
        attempts, migrated, fake_clock):
    call(attempts, "start_attempt", "m1", 1)
    deliver(attempts, "on_member_updated", "roster", "member_updated",
            dict(MEMBER, status="inactive"))  # before member_deactivated arrives
    assert [a["status"] for a in rows(migrated, Attempt)] == ["voided"]
    deliver(attempts, "on_member_deactivated", "roster", "member_deactivated",
            {"member_id": "m1"})  # the second word of the same change changes nothing
    assert [a["status"] for a in rows(migrated, Attempt)] == ["voided"]
    deliver(attempts, "on_member_updated", "roster", "member_updated", MEMBER)
    paper = call(attempts, "start_attempt", "m1", 1)
    result = call(attempts, "submit_attempt", "m1", paper["attempt_id"], right(paper))
    assert result["passed"] and result["run"]["levels_passed"] == 1


def test_disqualification_voids_and_refuses_until_reinstated(attempts, migrated, fake_clock):
    paper = call(attempts, "start_attempt", "m1", 1)
    deliver(attempts, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m1", "reason": "stole the bank", "decided_at": fake_clock.now(),
        "decided_by": "admin"})
    [attempt] = rows(migrated, Attempt)
    assert (attempt["status"], attempt["reason"]) == ("voided", "member_disqualified")
    refused(attempts, "member_disqualified", "submit_attempt", "m1", paper["attempt_id"],
            right(paper))
    refused(attempts, "member_disqualified", "start_attempt", "m1", 1)
    assert outbox_events(migrated, "attempts", "attempt_passed") == []
    deliver(attempts, "on_member_reinstated", "roster", "member_reinstated",
            {"member_id": "m1"})
    again = call(attempts, "start_attempt", "m1", 1)
    assert again["attempt_id"] != paper["attempt_id"]


def test_a_decision_that_overtakes_the_registration_is_kept(attempts, migrated, fake_clock):
    deliver(attempts, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m2", "reason": "r", "decided_at": fake_clock.now(),
        "decided_by": "admin"})
    refused(attempts, "may_not_play", "start_attempt", "m2", 1)  # not registered yet
    deliver(attempts, "on_member_registered", "roster", "member_registered",
            dict(MEMBER, member_id="m2"))
    refused(attempts, "member_disqualified", "start_attempt", "m2", 1)


# -- ranking ------------------------------------------------------------------------------------

class AllPassesHeld:
    """attempts as ranking's month close asks it: the three passes below."""

    def count_passes(self, campaign_id, until):
        return 3


@pytest.fixture
def ranking(container_factory, migrated, fake_clock):
    container = container_factory(RankingService, migrated)
    replace_dependencies(container, attempts=AllPassesHeld())
    container.start()
    fake_clock.set(T0)
    for member_id, place in [("m1", "unit-a"), ("m2", "unit-b"), ("m3", "unit-a")]:
        deliver(container, "on_member_registered", "roster", "member_registered", dict(
            MEMBER, member_id=member_id, org_path=["system", "fed", place]))
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "2018", "time_zone": "Asia/Shanghai",
        "starts_at": T0 - timedelta(days=8), "ends_at": T0 + timedelta(days=200),
        "levels": []})
    for i, member in enumerate(["m1", "m2", "m3"]):
        passed(container, member, f"r{i}", 1, 10_000 * (i + 1), i)
    return container


def placed(ranking, scope="system"):
    return [(e["member_id"], e["rank"]) for e in board(ranking, scope)["entries"]]


def ranks(ranking, member):
    return {s["scope_id"]: s["rank"] for s in call(ranking, "my_rank", member)["scopes"]}


def test_an_inactive_member_leaves_the_live_boards_until_reactivated(ranking):
    deliver(ranking, "on_member_deactivated", "roster", "member_deactivated",
            {"member_id": "m1"})
    assert placed(ranking) == [("m2", 1), ("m3", 2)]
    assert placed(ranking, "unit-a") == [("m3", 1)]
    assert board(ranking)["total"] == 2
    assert ranks(ranking, "m1") == {"system": None, "fed": None, "unit-a": None}
    assert ranks(ranking, "m3")["system"] == 2
    deliver(ranking, "on_member_updated", "roster", "member_updated",
            dict(MEMBER, org_path=["system", "fed", "unit-a"]))
    assert placed(ranking) == [("m1", 1), ("m2", 2), ("m3", 3)]
    assert ranks(ranking, "m1")["system"] == 1


def test_member_updated_saying_inactive_is_enough(ranking):
    deliver(ranking, "on_member_updated", "roster", "member_updated",
            dict(MEMBER, member_id="m2", status="inactive",
                 org_path=["system", "fed", "unit-b"]))
    assert placed(ranking) == [("m1", 1), ("m3", 2)]


def test_a_disqualified_member_stays_marked_without_a_place(ranking):
    deliver(ranking, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m1", "reason": "r", "decided_at": T0, "decided_by": "admin"})
    entries = board(ranking)["entries"]
    assert [(e["member_id"], e["rank"], e["disqualified"]) for e in entries] == [
        ("m1", None, True), ("m2", 1, False), ("m3", 2, False)]
    assert ranks(ranking, "m1")["system"] is None


def test_the_months_board_keeps_the_inactive_marked_and_placeless(ranking, fake_clock):
    """Issue 18 (reversing issue 16 for the month's record): the month's board shows everyone
    with a result by the cutoff; a member inactive at the close is marked, takes no place
    (the live board did not show them) and month_closed's tops say so."""
    deliver(ranking, "on_member_deactivated", "roster", "member_deactivated",
            {"member_id": "m1"})
    fake_clock.set(T0 + timedelta(days=13))  # April: March is over
    close = call(ranking, "close_month", "c", "2018-03")
    assert close["ranked_members"] == 3
    snapshot = board(ranking, month="2018-03")["entries"]
    assert [(e["member_id"], e["rank"], e["active"]) for e in snapshot] == [
        ("m1", None, False), ("m2", 1, True), ("m3", 2, True)]
    [event] = outbox_events(ranking.config, "ranking", "month_closed")
    [system] = [top for top in event["data"]["tops"] if top["scope_id"] == "system"]
    assert [(e["member_id"], e["active"]) for e in system["entries"]] == [
        ("m1", False), ("m2", True), ("m3", True)]
    assert placed(ranking) == [("m2", 1), ("m3", 2)]  # the live board still leaves m1 out
