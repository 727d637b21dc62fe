"""awards' use cases (grants.py, results.py) on the real store and unit of work over an
in-memory SQLite database: no container, no RPC (ranking's boards and the roster are handed
in, as the entrypoints hand them)."""
from datetime import datetime, timezone

import pytest

from kernel.errors import BadInput, Conflict, NotFound
from services.awards import grants, results
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


def test_a_disqualification_revokes_moves_up_and_flags_what_was_paid(work):
    close_month(work)
    pay(work, "m07")
    with work as tx:
        grants.disqualify(tx, "m05", AT)
    got = standing(work)
    assert "m05" not in {m for m, _, _ in got.values()}
    assert got[("fed", 5)][:2] == ("m06", 300) and got[("fed", 30)][:2] == ("m31", 100)
    assert got[("fed", 7)] == ("m07", 200, "paid")  # now 6th on the board: never changed
    assert "review by hand" in award_of(work, "m07")["attention"]
    assert ("fed", 6) not in got  # m07's new place is not granted twice
    with work as tx:
        awards = grants.awards_of_period(tx, "c", "2018-03")
    [m06] = [a for a in awards if a["member_id"] == "m06" and a["status"] == "revoked"]
    assert m06["reason"] == "place changed (a disqualification)"
    revoked = committed_events(work, "award_revoked")
    assert {e["data"]["reason"] for e in revoked} >= {"disqualified (R20)"}
    with work as tx:  # the same decision again changes nothing
        grants.disqualify(tx, "m05", AT)
    assert committed_events(work, "award_revoked") == revoked


def test_a_paid_award_no_longer_earned_is_flagged_not_revoked(work):
    close_month(work)
    pay(work, "m05")
    with work as tx:
        grants.disqualify(tx, "m05", AT)
    paid = award_of(work, "m05")
    assert paid["status"] == "paid" and "review by hand" in paid["attention"]


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
