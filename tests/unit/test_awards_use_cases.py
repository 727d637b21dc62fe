"""awards' use cases (grants.py, results.py) on the real store and unit of work over an
in-memory SQLite database: no container, no RPC (ranking's boards and the roster are handed
in, as the entrypoints hand them)."""
from datetime import datetime, timezone

import pytest

from kernel.errors import BadInput, Conflict, NotFound
from services.awards import grants, results
from services.awards.models import FlagReplica
from services.awards.policy import default_policy
from tests.unit.awards_uow import awards_work, committed_events

AT = datetime(2018, 3, 20, tzinfo=timezone.utc)


@pytest.fixture
def work(fake_clock):
    return awards_work()


def entry(i, disqualified=False):
    member = f"m{i:02d}"
    return {"member_id": member, "levels": 3, "total_ms": 100_000 + i, "name": f"n-{member}",
            "unit_name": "单位", "phone_masked": "138****0000", "disqualified": disqualified}


def close_month(work, n=40, disqualified=(), month="2018-03"):
    """Publish the default policy, then grant `month` from an n-member board in both scopes."""
    with work as tx:
        grants.adopt_default_policy(tx, "c", "fed")
    with work as tx:
        lines = grants.policy_to_grant(tx, "c", month)
    board = [entry(i, i in disqualified) for i in range(1, n + 1)]
    with work as tx:
        grants.grant_month(tx, "c", month, "s1", lines, {"system": board, "fed": board})
    return lines


def standing(work, month="2018-03"):
    with work as tx:
        return {(a["scope_id"], a["rank"]): (a["member_id"], a["amount_cny"], a["status"])
                for a in grants.awards_of_period(tx, "c", month)
                if a["status"] in ("granted", "paid")}


def test_a_closed_month_is_granted_under_the_default_policy(work):
    close_month(work)
    got = standing(work)
    assert got[("system", 1)] == ("m01", None, "granted")
    assert [got[("fed", p)][:2] for p in (1, 5, 6, 15, 16, 30)] == [
        ("m01", 300), ("m05", 300), ("m06", 200), ("m15", 200), ("m16", 100), ("m30", 100)]
    assert ("fed", 31) not in got and len(got) == 31
    assert len(committed_events(work, "award_granted")) == 31


def award_of(work, member, scope="fed", month="2018-03"):
    with work as tx:
        return next(a for a in grants.awards_of_period(tx, "c", month)
                    if a["member_id"] == member and a["scope_id"] == scope
                    and a["status"] != "revoked")


def pay(work, member):
    award_id = award_of(work, member)["id"]
    with work as tx:
        grants.mark_paid(tx, "finance", award_id)


def test_a_month_is_granted_once(work):
    lines = close_month(work)
    with work as tx:
        assert grants.policy_to_grant(tx, "c", "2018-03") is None
    # a concurrent worker that read the policy before the first commit: its grant is void
    with work as tx:
        grants.grant_month(tx, "c", "2018-03", "s2", lines, {"fed": [entry(99)]})
    assert len(standing(work)) == 31 and "m99" not in {m for m, _, _ in standing(work).values()}
    assert len(committed_events(work, "award_granted")) == 31


def test_disqualified_in_the_snapshot_is_skipped(work):
    close_month(work, disqualified={3})
    got = standing(work)
    assert got[("fed", 3)][:2] == ("m04", 300) and got[("fed", 30)][:2] == ("m31", 100)


def ids(work, month="2018-03"):
    with work as tx:
        return {a["member_id"]: a["id"] for a in grants.awards_of_period(tx, "c", month)
                if a["status"] != "revoked"}


def test_a_disqualification_changes_only_who_enters_leaves_or_changes_amount(work):
    """Issue 18 item 6: an award is (month, member, kind); disqualifying place 5 revokes 29
    and re-grants 29 on the old code, and flags the paid m07 (200 at place 7, still 200 at
    place 6) as no longer earned."""
    close_month(work)
    pay(work, "m07")
    before = ids(work)
    events_before = len(committed_events(work, "award_granted"))
    with work as tx:
        grants.disqualify(tx, "m05", AT)
    got = standing(work)
    assert "m05" not in {m for m, _, _ in got.values()}
    assert got[("fed", 5)][:2] == ("m06", 300) and got[("fed", 30)][:2] == ("m31", 100)
    assert got[("fed", 6)] == ("m07", 200, "paid")  # its place follows the board, silently
    assert award_of(work, "m07")["attention"] is None
    after = ids(work)
    untouched = [f"m{i:02d}" for i in [1, *range(7, 16), *range(17, 31)]]
    assert all(after[m] == before[m] for m in untouched)  # the same awards, not re-granted
    with work as tx:
        revoked = {a["member_id"]: a["reason"] for a in
                   grants.awards_of_period(tx, "c", "2018-03") if a["status"] == "revoked"}
    assert revoked == {"m05": "disqualified (R20)",
                       "m06": "amount changed (a disqualification)",
                       "m16": "amount changed (a disqualification)"}
    granted = committed_events(work, "award_granted")[events_before:]
    assert sorted((e["data"]["member_id"], e["data"]["amount_cny"]) for e in granted) == [
        ("m06", 300), ("m16", 200), ("m31", 100)]
    assert {e["data"]["reason"] for e in committed_events(work, "award_revoked")} >= {
        "disqualified (R20)"}
    revoked_events = committed_events(work, "award_revoked")
    with work as tx:  # the same decision again changes nothing
        grants.disqualify(tx, "m05", AT)
    assert committed_events(work, "award_revoked") == revoked_events


def test_a_paid_award_whose_amount_changed_says_what_is_owed_either_way(work):
    close_month(work)
    pay(work, "m06")  # 200 at place 6; 300 once place 5 is disqualified
    pay(work, "m05")  # 300, then nothing
    with work as tx:
        grants.disqualify(tx, "m05", AT)
    m06, m05 = award_of(work, "m06"), award_of(work, "m05")
    assert (m06["status"], m06["amount_cny"]) == ("paid", 200)
    assert "尚欠 100 元" in m06["attention"]
    assert m05["status"] == "paid" and "应追回 300 元" in m05["attention"]
    # the paid m06 is not granted a second award for the difference
    assert [m for m, _, _ in standing(work).values()].count("m06") == 1
    with work as tx:
        grants.reinstate(tx, "m05")
    assert award_of(work, "m06")["attention"] is None  # earned as paid again
    assert award_of(work, "m05")["attention"] is None


def test_a_paid_award_no_longer_earned_is_flagged_not_revoked(work):
    close_month(work)
    pay(work, "m05")
    with work as tx:
        grants.disqualify(tx, "m05", AT)
    paid = award_of(work, "m05")
    assert paid["status"] == "paid" and "应追回" in paid["attention"]


def test_a_reinstatement_gives_the_place_back(work):
    close_month(work)
    with work as tx:
        grants.disqualify(tx, "m30", AT)
    assert standing(work)[("fed", 30)][:2] == ("m31", 100)
    with work as tx:
        grants.reinstate(tx, "m30")
    assert standing(work)[("fed", 30)][:2] == ("m30", 100)
    with work as tx:
        [m31] = [a for a in grants.awards_of_period(tx, "c", "2018-03")
                 if a["member_id"] == "m31"]
    assert (m31["status"], m31["reason"]) == ("revoked", "place changed (a reinstatement)")


def test_only_a_granted_award_is_paid_and_a_refusal_changes_nothing(work):
    close_month(work)
    with work as tx, pytest.raises(NotFound):
        grants.mark_paid(tx, "finance", "no-such-award")
    with work as tx:
        award_id = grants.awards_of_period(tx, "c", "2018-03")[0]["id"]
        grants.mark_paid(tx, "finance", award_id)
    with pytest.raises(Conflict):
        with work as tx:
            grants.mark_paid(tx, "someone-else", award_id)
    with work as tx:
        [award] = [a for a in grants.awards_of_period(tx, "c", "2018-03")
                   if a["id"] == award_id]
    assert (award["status"], award["paid_by"]) == ("paid", "finance")


def test_the_board_figures_go_with_each_award(work):
    close_month(work)
    with work as tx:
        first = grants.awards_of_period(tx, "c", "2018-03")[0]
    assert {k: first[k] for k in grants.BOARD_FIGURES} == {
        "name": "n-m01", "unit_name": "单位", "phone_masked": "138****0000", "levels": 3,
        "total_ms": 100_001}


def test_a_board_is_read_until_enough_eligible_members():
    board = [entry(i, disqualified=i % 2 == 0) for i in range(1, 1001)]
    asked = []

    def page(limit, offset):
        asked.append(offset)
        return {"total": len(board), "entries": board[offset:offset + limit]}

    assert len(grants.read_board(page, 150)) == 400 and asked == [0, 200]
    asked.clear()
    assert len(grants.read_board(page, 10 ** 9)) == 1000 and asked[-1] == 800
    assert grants.read_board(lambda limit, offset: {"total": 0, "entries": []}, 5) == []


def test_the_boards_wanted_reach_as_deep_as_the_policy_and_a_margin():
    lines = default_policy("c", "fed")
    assert grants.boards_wanted(lines) == {"system": 30 + grants.BOARD_MARGIN,
                                           "fed": 30 + grants.BOARD_MARGIN}


def test_a_bad_policy_line_changes_nothing(work):
    with work as tx:
        grants.adopt_default_policy(tx, "c", None)
    with pytest.raises(BadInput) as bad:
        with work as tx:
            grants.set_policy(tx, "c", [{"period": "monthly", "scope": "system",
                                         "place_from": 3, "place_to": 1, "kind": "x"}])
    assert "place_to" in bad.value.fields
    with work as tx:
        assert [line.scope for line in tx.store.policy("c")] == [
            "federation", "federation", "federation", "system"]
        grants.adopt_default_policy(tx, "c", "other")  # a policy exists: kept
        assert len(tx.store.policy("c")) == 4


def test_a_month_closed_later_keeps_its_own_policy(work):
    close_month(work)
    with work as tx:
        grants.set_policy(tx, "c", [{"period": "monthly", "scope": "fed", "place_from": 1,
                                     "place_to": 1, "kind": "monthly_prize",
                                     "amount_cny": 1000}])
    with work as tx:  # a disqualification reconciles March under March's policy
        grants.disqualify(tx, "m40", AT)
    assert len(standing(work)) == 31


# -- the annual results ----------------------------------------------------------------------

NODES = [{"id": "system", "parent_id": None, "kind": "system", "name": "s"},
         {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "f"},
         {"id": "A", "parent_id": "fed", "kind": "unit", "name": "A"},
         {"id": "B", "parent_id": "fed", "kind": "unit", "name": "B"}]
ROSTER = [{"member_id": m, "org_path": ["system", "fed", unit], "participation": "required",
           "status": "active"} for m, unit in (("a1", "A"), ("a2", "A"), ("b1", "B"))]


def publish(work, final):
    with work as tx:
        results.publish_annual(tx, "c", "final", final, NODES, ROSTER, {"a1", "b1"}, 12)


def test_the_annual_results_are_published_once(work):
    with work as tx, pytest.raises(NotFound):
        results.annual_results(tx, "c")
    final = [dict(entry(1), member_id="a1", levels=12, disqualified=True),
             dict(entry(2), member_id="b1", levels=6)]
    publish(work, final)
    with work as tx:
        assert not results.annual_pending(tx, "c")
        got = results.annual_results(tx, "c")
    assert got["champion_member_id"] == "b1"  # a1 is disqualified
    assert [u["org_unit_id"] for u in got["units"]] == ["B", "A"] and got["branches"] == []
    publish(work, final)  # a concurrent or repeated publication adds nothing
    [published] = committed_events(work, "annual_results_published")
    assert published["data"]["excellent_units"] == ["B", "A"]
    assert len(committed_events(work, "award_granted")) == 3  # two units and the champion


def test_participation_scores_the_best_runs_so_far():
    table = results.participation("c", NODES, ROSTER, [{"member_id": "a1", "levels_passed": 12}],
                                  12)
    assert table["levels"] == 12
    assert [(u["org_unit_id"], u["score"]["exact"]) for u in table["units"]] == [
        ("A", "3/4"), ("B", "0")]


def test_the_spreadsheets_are_named_and_counted():
    ledger = results.month_ledger("2018-03", [], None)
    assert (ledger["filename"], ledger["rows"]) == ("awards-2018-03.xlsx", 0)
    annual = results.annual_xlsx({"campaign_id": "c", "champion_member_id": None,
                                  "units": [], "branches": []}, None, None)
    assert annual["filename"] == "annual-results.xlsx" and annual["content_b64"]


# -- issue 18: held for review, eligibility, the month's own tops, settings ----------------------

def flag(work, member, flag_id, reason="fast_pass"):
    with work as tx:
        grants.flag_raised(tx, {"attempt_id": f"a{flag_id}", "member_id": member,
                                "reason": reason, "detail": {"level": 1},
                                "flag_id": flag_id})


def review(work, member, flag_id, outcome, by="admin"):
    with work as tx:
        grants.flag_reviewed(tx, {"flag_id": flag_id, "attempt_id": f"a{flag_id}",
                                  "member_id": member, "outcome": outcome,
                                  "reviewed_by": by, "reviewed_at": AT})


def audit_actions(work):
    with work as tx:
        return [(e["action"], e["actor_id"]) for e in tx.store.audit_log(None, 500, 0)["items"]]


def test_a_flagged_winner_is_held_until_the_flag_is_cleared(work):
    """Issue 18 item 1: on the old code every award is granted and payable at once."""
    flag(work, "m03", 7)
    close_month(work)
    m03 = award_of(work, "m03")
    assert m03["status"] == "held" and m03["held_for"] == [
        {"flag_id": 7, "reason": "fast_pass", "level": 1, "state": "open"}]
    assert "待审核" in m03["remark"] and "答题用时过短" in m03["remark"]
    [event] = [e for e in committed_events(work, "award_granted")
               if e["data"]["member_id"] == "m03" and e["data"]["amount_cny"]]
    assert event["data"]["held"] is True
    with pytest.raises(Conflict) as refused:
        with work as tx:
            grants.mark_paid(tx, "finance", m03["id"])
    assert refused.value.reason == "award_held"
    review(work, "m03", 7, "cleared")
    assert award_of(work, "m03")["status"] == "granted"
    [released] = committed_events(work, "award_released")
    assert released["data"]["award_id"] == m03["id"]
    pay(work, "m03")
    assert ("award_released", "admin") in audit_actions(work)
    assert ("award_paid", "finance") in audit_actions(work)


def test_an_upheld_flag_holds_until_the_disqualification_moves_the_next_member_up(work):
    close_month(work)
    flag(work, "m03", 8, "bank_exposure")  # raised after the close: the granted award is held
    assert award_of(work, "m03")["status"] == "held"
    [held] = committed_events(work, "award_held")
    assert held["data"]["member_id"] == "m03"
    review(work, "m03", 8, "upheld")
    assert award_of(work, "m03")["status"] == "held"
    assert "复核认定异常" in award_of(work, "m03")["remark"]
    with work as tx:
        grants.disqualify(tx, "m03", AT, "admin")
    got = standing(work)
    assert got[("fed", 3)] == ("m04", 300, "granted") and got[("fed", 30)][:2] == ("m31", 100)
    assert "m03" not in {m for m, _, _ in got.values()}


def test_a_second_open_flag_keeps_the_award_held_and_a_review_may_come_first(work):
    flag(work, "m02", 1)
    flag(work, "m02", 2)
    close_month(work)
    review(work, "m02", 1, "cleared")
    assert award_of(work, "m02")["status"] == "held"  # flag 2 is still open
    review(work, "m02", 2, "cleared")
    assert award_of(work, "m02")["status"] == "granted"
    flag(work, "m02", 2)  # attempt_flagged redelivered after its review: still cleared
    assert award_of(work, "m02")["status"] == "granted"


def marked(i, **marks):
    return dict(entry(i), active=True, participation="required", bank_admin=False,
                passed_in_month=True) | marks


def test_ineligible_members_are_skipped_like_the_disqualified(work):
    """Issue 18 item 2 and "prizes for doing nothing": on the old code m01 (deactivated),
    m02 (withdrawn) and m04 (no pass this month) win."""
    with work as tx:
        grants.adopt_default_policy(tx, "c", "fed")
        lines = grants.policy_to_grant(tx, "c", "2018-03")
    board = [marked(1, active=False), marked(2, participation="withdrawn"),
             marked(3, bank_admin=True), marked(4, passed_in_month=False),
             *[marked(i) for i in range(5, 41)]]
    with work as tx:
        grants.grant_month(tx, "c", "2018-03", "s1", lines, {"system": board, "fed": board})
    got = standing(work)
    assert got[("system", 1)][0] == "m03"  # a bank administrator is eligible by default
    assert [got[("fed", p)][0] for p in (1, 2, 30)] == ["m03", "m05", "m33"]
    with work as tx:
        grants.set_settings(tx, "admin", "c", {"exclude_bank_admins": True,
                                               "monthly_needs_pass_in_month": False})
        lines = grants.policy_to_grant(tx, "c", "2018-04")
    with work as tx:
        grants.grant_month(tx, "c", "2018-04", "s2", lines, {"system": board, "fed": board})
    got = standing(work, "2018-04")
    assert [got[("fed", p)][0] for p in (1, 2)] == ["m04", "m05"]
    with work as tx:  # March keeps the settings it was granted under
        grants.disqualify(tx, "m40", AT)
    assert standing(work)[("fed", 1)][0] == "m03"


def test_settings_are_audited_and_checked(work):
    with work as tx:
        assert grants.settings(tx, "c")["monthly_needs_pass_in_month"] is True
    with work as tx:
        got = grants.set_settings(tx, "admin", "c", {"excellent_units": 5})
    assert got["excellent_units"] == 5 and got["updated_by"] == "admin"
    with pytest.raises(BadInput) as bad, work as tx:
        grants.set_settings(tx, "admin", "c", {"excellent_units": -1})
    assert "excellent_units" in bad.value.fields
    with work as tx:
        [entry_] = tx.store.audit_log(None, 10, 0)["items"]
    assert entry_["action"] == "award_settings_changed" and entry_["actor_id"] == "admin"
    assert entry_["detail"]["before"]["excellent_units"] == 3
    assert entry_["detail"]["after"]["excellent_units"] == 5


def test_the_month_is_granted_from_its_tops_when_they_reach_deep_enough():
    """Issue 18 item 12: no RPC to ranking when month_closed carries the boards' heads."""
    lines = default_policy("c", "fed")
    settings = grants.eligibility({})
    deep = [marked(i) for i in range(1, 61)]
    tops = [{"scope_id": "system", "depth": 300, "total": 500, "entries": deep},
            {"scope_id": "fed", "depth": 300, "total": 500, "entries": deep}]
    assert grants.boards_from_tops(tops, lines, settings) == {"system": deep, "fed": deep}
    assert grants.boards_from_tops(tops[:1], lines, settings) is None  # a scope missing
    shallow = [dict(top, entries=deep[:31]) for top in tops]
    no_pass = [dict(e, passed_in_month=False) for e in deep[:5]] + deep[5:31]
    assert grants.boards_from_tops(shallow, lines, settings) is not None
    assert grants.boards_from_tops([dict(top, entries=no_pass) for top in tops], lines,
                                   settings) is None  # 26 eligible for 30 places
    whole = [dict(top, entries=no_pass, total=31) for top in tops]  # the whole board
    assert grants.boards_from_tops(whole, lines, settings) is not None
    assert grants.boards_from_tops(None, lines, settings) is None


def test_a_closed_month_without_awards_is_found_and_granted_once(work):
    with work as tx:
        assert grants.missing_months(tx, "c", ["2018-03", "2018-04"]) == ["2018-03", "2018-04"]
    close_month(work)
    with work as tx:
        assert grants.missing_months(tx, "c", ["2018-03", "2018-04"]) == ["2018-04"]
    assert ("awards_month_granted", "system") in audit_actions(work)


def test_the_ledger_says_which_awards_are_held_and_counts_only_the_payable(work):
    import base64
    import io

    import openpyxl

    flag(work, "m01", 3)
    close_month(work)
    with work as tx:
        awards = grants.awards_of_period(tx, "c", "2018-03")
    ledger = results.month_ledger("2018-03", awards, None)
    rows = list(openpyxl.load_workbook(io.BytesIO(base64.b64decode(
        ledger["content_b64"]))).active.iter_rows(values_only=True))
    assert rows[1][9] == "状态"
    held = [r for r in rows[2:] if r and r[2] == "n-m01"]
    assert {r[9] for r in held} == {"待审核"} and all("答题用时过短" in r[10] for r in held)
    totals = {r[0]: r[8] for r in rows if r and r[0] in ("待审核", "待发放", "合计")}
    assert totals == {"待审核": 300, "待发放": 4700, "合计": 4700}


def test_a_granted_award_of_a_member_under_review_is_not_paid(work):
    """A flag whose hold ran before the award existed (a race with the grant): the award
    still reads granted, but finance cannot pay it before the review."""
    close_month(work)
    with work as tx:
        tx.store.add(FlagReplica(flag_id=9, member_id="m04", state="open", updated_at=AT))
    m04 = award_of(work, "m04")
    assert m04["status"] == "granted"
    with pytest.raises(Conflict) as refused, work as tx:
        grants.mark_paid(tx, "finance", m04["id"])
    assert refused.value.reason == "award_held"


def test_the_annual_champion_under_review_is_held_and_released_like_a_month(work):
    flag(work, "b1", 11)
    publish(work, [dict(entry(2), member_id="b1", levels=6)])
    with work as tx:
        [champion] = [a for a in grants.awards_of_period(tx, "c", results.ANNUAL)
                      if a["kind"] == "annual_champion"]
    assert champion["status"] == "held"
    [event] = [e for e in committed_events(work, "award_granted")
               if e["data"]["kind"] == "annual_champion"]
    assert event["data"]["held"] is True
    review(work, "b1", 11, "cleared")
    with work as tx:
        assert tx.store.award(champion["id"]).status == "granted"
