"""awards' annual use case (results.publish_annual) on the real store over in-memory SQLite:
R18's number of excellent units and organ branches comes from the campaign's settings, a
place shared at the edge makes both excellent, a disqualified participant earns their unit
no results (issue 18 items 3 and 5)."""
import pytest

from services.awards import results
from tests.unit.awards_uow import awards_work, committed_events

NODES = [{"id": "system", "parent_id": None, "kind": "system"},
         {"id": "fed", "parent_id": "system", "kind": "organisation"}] + [
    {"id": unit, "parent_id": "fed", "kind": "unit"} for unit in "ABCD"] + [
    {"id": branch, "parent_id": "fed", "kind": "branch"} for branch in ("ob1", "ob2")]


def member(member_id, node, disqualified=False):
    return {"member_id": member_id, "org_path": ["system", "fed", node],
            "participation": "required", "status": "active", "disqualified": disqualified}


# A and B: 1 of 2 played, 6 of 12 levels (½·½ + ½·½ = ½ each, sharing place 2); C: 1 of 1,
# 12 levels (1); D: 1 of 2 played, all 12 levels, but disqualified (½·½ + 0 = ¼);
# ob1 1 of 1 at 6 levels (¾), ob2 1 of 1 at 3 levels (⅝)
ROSTER = [member("a1", "A"), member("a2", "A"), member("b1", "B"), member("b2", "B"),
          member("c1", "C"), member("d1", "D", disqualified=True), member("d2", "D"),
          member("o1", "ob1"), member("o2", "ob2")]
FINAL = [{"member_id": m, "levels": n, "disqualified": m == "d1"}
         for m, n in (("d1", 12), ("c1", 12), ("a1", 6), ("b1", 6), ("o1", 6), ("o2", 3))]
PLAYED = {"a1", "b1", "c1", "d1", "o1", "o2"}


@pytest.fixture
def work(fake_clock):
    return awards_work()


def publish(work, units=None, branches=None):
    if units is not None:
        with work as tx:
            row = tx.store.settings_row("c")
            row.excellent_units, row.excellent_branches = units, branches
    with work as tx:
        results.publish_annual(tx, "c", "final", FINAL, NODES, ROSTER, PLAYED, 12)
    with work as tx:
        return results.annual_results(tx, "c")


def test_the_number_of_excellent_organisations_is_the_campaigns_setting(work):
    published = publish(work, units=1, branches=1)
    assert [(u["org_unit_id"], u["rank"], u["excellent"]) for u in published["units"]] == [
        ("C", 1, True), ("A", 2, False), ("B", 2, False), ("D", 4, False)]
    assert [(b["org_unit_id"], b["excellent"]) for b in published["branches"]] == [
        ("ob1", True), ("ob2", False)]
    [event] = committed_events(work, "annual_results_published")
    assert (event["data"]["excellent_units"], event["data"]["excellent_branches"]) == (
        ["C"], ["ob1"])


def test_a_place_shared_at_the_edge_makes_both_excellent_and_the_disqualified_earn_nothing(
        work):
    published = publish(work, units=2, branches=0)
    units = {u["org_unit_id"]: u for u in published["units"]}
    assert [(u["org_unit_id"], u["rank"], u["excellent"]) for u in published["units"]] == [
        ("C", 1, True), ("A", 2, True), ("B", 2, True), ("D", 4, False)]
    assert units["D"]["score"]["exact"] == "1/4" and units["D"]["disqualified"] == 1
    assert not any(b["excellent"] for b in published["branches"])
    granted = [(e["data"]["kind"], e["data"]["rank"], e["data"].get("org_unit_id"))
               for e in committed_events(work, "award_granted")
               if e["data"]["kind"] != "annual_champion"]
    assert sorted(granted) == [("excellent_unit", 1, "C"), ("excellent_unit", 2, "A"),
                               ("excellent_unit", 2, "B")]


def test_without_settings_three_of_each_kind(work):
    published = publish(work)
    assert [u["org_unit_id"] for u in published["units"] if u["excellent"]] == ["C", "A", "B"]
    assert [b["org_unit_id"] for b in published["branches"] if b["excellent"]] == [
        "ob1", "ob2"]
