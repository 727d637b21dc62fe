"""ranking's use cases (boards.py, months.py, replicas.py) on the real store over an
in-memory SQLite session and a fake unit of work: no container, no broker, milliseconds."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.errors import BadInput, Conflict, NotFound
from services.ranking import boards, months, replicas
from services.ranking.models import Base, MonthClose, SnapshotEntry, Standing
from services.ranking.store import RankingStore

LOCAL = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=LOCAL)
END = datetime(2018, 4, 30, 23, 59, 59, 999000, tzinfo=LOCAL)
MARCH_CUTOFF = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
SETTLE = timedelta(seconds=300)


class FakeTx:
    """What a use case sees of a unit of work: session, store, emit, now."""

    def __init__(self, session, now):
        self.session, self.store, self.now = session, RankingStore(session), now
        self.emitted = []

    def emit(self, type_, data):
        self.emitted.append((type_, data))


@pytest.fixture
def tx():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield FakeTx(session, datetime(2018, 3, 20, 9, 0, tzinfo=LOCAL))
    engine.dispose()


def publish(tx, campaign_id="c", starts_at=START):
    replicas.replicate_campaign(tx, {"campaign_id": campaign_id, "time_zone": "Asia/Shanghai",
                                     "starts_at": starts_at, "ends_at": END})


def register(tx, member_id, unit, status="active"):
    replicas.replicate_member(tx, {"member_id": member_id, "name": member_id,
                                   "org_path": ["fed", unit], "status": status})
    tx.session.flush()


def passed(tx, member, run, levels, total_ms, at, campaign_id="c"):
    boards.apply_pass(tx, {"attempt_id": f"{run}-{levels}", "member_id": member,
                           "campaign_id": campaign_id, "run_id": run,
                           "run_levels_passed": levels, "run_total_ms": total_ms,
                           "submitted_at": at})
    tx.session.flush()


def placed(tx, scope="system", **page):
    return [(e["member_id"], e["rank"])
            for e in boards.leaderboard(tx, scope, "c", **page)["entries"]]


@pytest.fixture
def three(tx):
    """m1 best, m2, m3 (m1 and m3 in unit a, m2 in unit b), all in March."""
    publish(tx)
    for member, unit in (("m1", "a"), ("m2", "b"), ("m3", "a")):
        register(tx, member, unit)
    at = START + timedelta(days=1)
    passed(tx, "m1", "r1", 2, 90_000, at)
    passed(tx, "m2", "r2", 1, 50_000, at)
    passed(tx, "m3", "r3", 1, 50_000, at + timedelta(minutes=1))  # a tie: the later is behind
    return tx


# -- the live boards -----------------------------------------------------------------------------

def test_the_board_is_in_r13_order_per_scope(three):
    assert placed(three) == [("m1", 1), ("m2", 2), ("m3", 3)]
    assert placed(three, "a") == [("m1", 1), ("m3", 2)]
    assert boards.leaderboard(three, "b", "c")["total"] == 1


def test_duplicate_and_out_of_order_passes_leave_the_best_run(three):
    at = START + timedelta(days=2)
    passed(three, "m2", "r9", 3, 400_000, at)
    passed(three, "m2", "r9", 2, 300_000, at - timedelta(minutes=5))  # arrives later
    passed(three, "m2", "r9", 3, 400_000, at)  # again
    standing = three.store.standing("c", "m2")
    assert (standing.levels, standing.total_ms, standing.run_id) == (3, 400_000, "r9")
    assert placed(three)[0] == ("m2", 1)


def test_a_page_knows_its_places_and_my_rank_agrees(three):
    replicas.set_disqualified(three, "m1", True)
    three.session.flush()
    assert placed(three, limit=1, offset=2) == [("m3", 2)]
    assert placed(three) == [("m1", None), ("m2", 1), ("m3", 2)]
    ranks = boards.my_rank(three, "m3")
    assert {s["scope_id"]: s["rank"] for s in ranks["scopes"]} == {
        "system": 2, "fed": 2, "a": 1}
    assert {s["rank"] for s in boards.my_rank(three, "m1")["scopes"]} == {None}


def test_an_inactive_member_is_off_the_boards_until_active_again(three):
    replicas.deactivate(three, "m1")
    three.session.flush()
    assert placed(three) == [("m2", 1), ("m3", 2)]
    assert {s["rank"] for s in boards.my_rank(three, "m1")["scopes"]} == {None}
    register(three, "m1", "a")
    assert placed(three)[0] == ("m1", 1)


def test_a_move_changes_the_scopes_a_member_counts_in(three):
    register(three, "m3", "b")
    assert placed(three, "a") == [("m1", 1)]
    assert placed(three, "b") == [("m2", 1), ("m3", 2)]


def test_the_current_campaign_starts_last_and_falls_back_to_the_standings(tx):
    register(tx, "m1", "a")
    passed(tx, "m1", "r1", 1, 1000, START, campaign_id="old")
    assert tx.store.current_campaign_id() == "old"  # no campaign replicated yet
    publish(tx, "c")
    publish(tx, "next", starts_at=START + timedelta(days=30))
    tx.session.flush()
    assert tx.store.current_campaign_id() == "next"
    assert boards.leaderboard(tx, "system")["campaign_id"] == "next"


def test_no_campaign_at_all_is_an_empty_board(tx):
    assert boards.leaderboard(tx, "system") == {
        "scope_id": "system", "campaign_id": None, "total": 0, "entries": [], "month": None}


def test_rebuild_replays_an_export_into_the_same_board(three):
    before = placed(three)
    exported = [{"attempt_id": r.attempt_id, "member_id": r.member_id, "campaign_id": "c",
                 "run_id": r.run_id, "run_levels_passed": r.levels,
                 "run_total_ms": r.total_ms, "submitted_at": r.at.isoformat()}
                for r in three.store.passes_until("c", END)]
    assert boards.wipe(three) == "c"
    assert placed(three) == []
    assert boards.replay(three, exported) == {"m1", "m2", "m3"}
    three.session.flush()
    boards.restate_all(three, "c", {"m1", "m2", "m3"})
    three.session.flush()
    assert placed(three) == before


# -- months (R15) ---------------------------------------------------------------------------------

def test_a_month_closes_only_after_its_cutoff_and_after_the_month_before(three):
    with pytest.raises(BadInput):
        months.check_close(three, "c", "2018-05")
    with pytest.raises(NotFound):
        months.check_close(three, "nope", "2018-03")
    three.now = MARCH_CUTOFF
    with pytest.raises(Conflict):
        months.check_close(three, "c", "2018-03")
    three.now = END + timedelta(days=1)
    with pytest.raises(Conflict, match="close 2018-03 first"):
        months.check_close(three, "c", "2018-04")
    assert months.check_close(three, "c", "2018-03") is None  # to close now
    done = months.close(three, "c", "2018-03", "admin-1", expected=3)
    assert months.check_close(three, "c", "2018-03") is done  # idempotent


def test_close_waits_while_ranking_lacks_passes_and_writes_nothing(three):
    three.now = MARCH_CUTOFF + SETTLE * 2
    with pytest.raises(Conflict, match="holds 3 of the 4 passes"):
        months.close(three, "c", "2018-03", "timer", expected=4)
    three.session.rollback()  # as the unit of work does on the way out
    assert three.session.scalar(select(func.count()).select_from(MonthClose)) == 0
    assert three.emitted == []


def test_a_close_writes_each_scopes_board_and_emits_month_closed(three):
    late = MARCH_CUTOFF + timedelta(milliseconds=1)
    passed(three, "m3", "r3", 3, 10_000, late)  # April's: not on March's board
    replicas.set_disqualified(three, "m2", True)
    replicas.deactivate(three, "m1")
    three.now = END + timedelta(days=1)
    march = months.close(three, "c", "2018-03", "timer", expected=3)
    assert (march.ranked_members, march.passes_counted, march.final) == (3, 3, False)
    board = months.snapshot_board(three, "c", "system", "2018-03", 50, 0)
    # issue 18: the member inactive at the close stays on the month's board, marked and
    # placeless like the disqualified
    assert [(e.member_id, e.rank, e.active, e.disqualified) for e in board["entries"]] == [
        ("m1", None, False, False), ("m2", None, True, True), ("m3", 1, True, False)]
    assert board["cutoff"] == MARCH_CUTOFF and board["total"] == 3
    assert {e.scope_id for e in three.session.scalars(select(SnapshotEntry))} == {
        "system", "fed", "a", "b"}
    april = months.close(three, "c", "2018-04", "timer", expected=4)
    assert [t for t, _ in three.emitted] == ["month_closed", "month_closed", "campaign_closed"]
    assert three.emitted[-1][1] == {"campaign_id": "c", "final_snapshot_id": april.snapshot_id}
    with pytest.raises(Conflict):
        months.snapshot_board(three, "c", "system", "2018-05", 50, 0)


def test_due_months_wait_for_the_settle_delay_and_skip_the_closed(three):
    three.now = MARCH_CUTOFF + SETTLE - timedelta(milliseconds=1)
    assert months.due(three, SETTLE) == [("c", [])]
    three.now = MARCH_CUTOFF + SETTLE
    assert months.due(three, SETTLE) == [("c", ["2018-03"])]
    three.now = END + SETTLE * 2
    assert months.due(three, SETTLE) == [("c", ["2018-03", "2018-04"])]
    months.close(three, "c", "2018-03", "timer", expected=3)
    assert months.due(three, SETTLE) == [("c", ["2018-04"])]


def test_the_calendar_lists_open_months_with_cutoffs_and_closed_ones_with_their_close(three):
    three.now = END + timedelta(days=1)
    march = months.close(three, "c", "2018-03", "admin-1", expected=3)
    assert months.calendar(three) == [march, {
        "campaign_id": "c", "month": "2018-04", "closed": False, "cutoff": END}]


def test_only_passes_up_to_the_cutoff_count_in_a_month(tx):
    publish(tx)
    register(tx, "m1", "a")
    passed(tx, "m1", "r1", 1, 60_000, MARCH_CUTOFF)
    passed(tx, "m1", "r1", 2, 120_000, MARCH_CUTOFF + timedelta(milliseconds=1))
    tx.now = END
    months.close(tx, "c", "2018-03", "timer", expected=1)
    [entry] = months.snapshot_board(tx, "c", "system", "2018-03", 50, 0)["entries"]
    assert entry.levels == 1
    assert tx.session.get(Standing, ("c", "m1")).levels == 2  # the live board moved on


def test_a_second_close_of_a_month_fails_and_finds_the_first(three):
    three.now = END
    first = months.close(three, "c", "2018-03", "timer", expected=3)
    three.session.commit()
    with pytest.raises(IntegrityError):  # the service answers with the first close
        months.close(three, "c", "2018-03", "admin-1", expected=3)
    three.session.rollback()
    assert months.closed_elsewhere(three, "c", "2018-03").snapshot_id == first.snapshot_id


# -- issue 18: what eligibility depends on, on the boards and on month_closed ---------------------

def role(tx, member_id, role_name, granted=True):
    data = {"member_id": member_id, "role": role_name, "org_unit_id": "fed", "by": "system"}
    (replicas.grant_role if granted else replicas.revoke_role)(tx, data)
    tx.session.flush()


def test_roles_and_participation_mark_the_live_board(three):
    replicas.replicate_member(three, {"member_id": "m2", "name": "m2", "org_path": ["fed", "b"],
                                      "status": "active", "participation": "withdrawn"})
    role(three, "m1", "system_admin")
    role(three, "m1", "system_admin")  # a redelivery changes nothing
    role(three, "m3", "unit_admin")  # cannot read the keys: not a bank administrator
    role(three, "m2", "organisation_admin")
    role(three, "m2", "organisation_admin", granted=False)
    role(three, "m2", "organisation_admin", granted=False)
    entries = boards.leaderboard(three, "system", "c")["entries"]
    assert [(e["member_id"], e["rank"], e["bank_admin"], e["participation"], e["active"])
            for e in entries] == [("m1", 1, True, None, True), ("m2", 2, False, "withdrawn", True),
                                  ("m3", 3, False, None, True)]


def test_month_closed_carries_each_boards_head_to_the_depth(three):
    replicas.replicate_campaign(three, {"campaign_id": "c", "time_zone": "Asia/Shanghai",
                                        "starts_at": START, "ends_at": END,
                                        "organisation_id": "fed"})
    replicas.set_disqualified(three, "m1", True)
    role(three, "m3", "organisation_admin")
    three.now = END + timedelta(days=1)
    months.close(three, "c", "2018-03", "timer", expected=3, top_depth=2)
    [(kind, data)] = three.emitted
    assert [(top["scope_id"], top["depth"], top["total"]) for top in data["tops"]] == [
        ("system", 2, 3), ("fed", 2, 3)]
    system = data["tops"][0]["entries"]
    assert [(e["member_id"], e["position"], e["disqualified"]) for e in system] == [
        ("m1", 1, True), ("m2", 2, False)]  # positions, the disqualified included
    assert set(system[0]) == set(months.TOP_FIELDS)
    assert all(e["passed_in_month"] and e["active"] for e in system)
    three.emitted.clear()
    months.close(three, "c", "2018-04", "timer", expected=3, top_depth=5)
    [(_, april), (_, _final)] = three.emitted
    [system, fed] = april["tops"]
    assert [(e["member_id"], e["passed_in_month"], e["bank_admin"]) for e in system["entries"]] \
        == [("m1", False, False), ("m2", False, False), ("m3", False, True)]  # no April play


def test_without_the_campaigns_organisation_only_the_whole_tree_is_carried(three):
    three.now = END + timedelta(days=1)
    months.close(three, "c", "2018-03", "timer", expected=3)
    [(_, data)] = three.emitted
    assert [(top["scope_id"], top["depth"], top["total"]) for top in data["tops"]] == [
        ("system", 300, 3)]
