"""R17/R18 on a small example computed by hand (the numbers are written here)."""
from fractions import Fraction

from services.awards import annual

NODES = [
    {"id": "system", "parent_id": None, "kind": "system"},
    {"id": "fed", "parent_id": "system", "kind": "organisation"},
    {"id": "A", "parent_id": "fed", "kind": "unit"}, {"id": "B", "parent_id": "fed", "kind": "unit"},
    {"id": "C", "parent_id": "fed", "kind": "unit"}, {"id": "D", "parent_id": "fed", "kind": "unit"},
    {"id": "A1", "parent_id": "A", "kind": "branch"},  # a unit's branch: not an organ branch
    {"id": "ob1", "parent_id": "fed", "kind": "branch"},
    {"id": "ob2", "parent_id": "fed", "kind": "branch"},
]


def members(unit, n, participation="required", status="active", prefix=None, path=None):
    prefix = prefix or unit
    return [{"member_id": f"{prefix}{i}", "org_path": path or ["system", "fed", unit],
             "participation": participation, "status": status} for i in range(n)]


def test_excellence_by_hand():
    roster = (members("A", 2) + members("A", 1, path=["system", "fed", "A", "A1"], prefix="A1-")
              + members("A", 1, "voluntary", prefix="Av") + members("A", 1, "withdrawn",
                                                                     prefix="Aw")
              + members("A", 1, status="inactive", prefix="Ai")
              + members("B", 2) + members("C", 5) + members("D", 10)
              + members("ob1", 4, path=["system", "fed", "ob1"])
              + members("ob2", 2, path=["system", "fed", "ob2"]))
    # A: expected A0, A1, A1-0, Av0 (4); played A0 (6 levels), Av0 (3) and the withdrawn Aw0
    # B: expected 2, both played: 12 and 0 levels
    # C: expected 5, one played: 12 levels
    # D: expected 10, four played: 12, 12, 12, 3 levels (results 39/48 = 13/16)
    attempted = {"A0", "Av0", "Aw0", "B0", "B1", "C0", "D0", "D1", "D2", "D3", "ob10", "ob20",
                 "ob21"}
    levels = {"A0": 6, "Av0": 3, "Aw0": 12, "B0": 12, "C0": 12, "D0": 12, "D1": 12, "D2": 12,
              "D3": 3, "ob10": 12, "ob20": 6, "ob21": 6}
    out = annual.excellence(NODES, roster, attempted, levels, 12)
    units = {r["org_unit_id"]: r for r in out["unit"]}
    assert (units["A"]["expected"], units["A"]["participants"]) == (4, 2)
    assert units["A"]["participation"] == Fraction(1, 2)
    assert units["A"]["results"] == Fraction(3, 8)  # (6/12 + 3/12) / 2
    assert units["A"]["score"] == Fraction(7, 16)  # 0.4375
    assert units["B"]["score"] == Fraction(3, 4)  # 1 × 50% + (12/12 + 0) / 2 × 50%
    assert units["C"]["score"] == Fraction(3, 5)  # 1/5 × 50% + 1 × 50%
    assert units["D"]["score"] == Fraction(1, 5) + Fraction(13, 32)  # 2/5·½ + 13/16·½ = 0.60625
    assert [r["org_unit_id"] for r in out["unit"]] == ["B", "D", "C", "A"]
    assert [r["excellent"] for r in out["unit"]] == [True, True, True, False]
    branches = {r["org_unit_id"]: r for r in out["branch"]}
    assert set(branches) == {"ob1", "ob2"}  # A1 is inside a unit
    assert branches["ob1"]["score"] == Fraction(1, 8) + Fraction(1, 2)  # 1/4·½ + 1·½ = 0.625
    assert branches["ob2"]["score"] == Fraction(1, 2) + Fraction(1, 4)  # 1·½ + ½·½ = 0.75


def test_a_tie_goes_to_the_higher_participation():
    roster = members("A", 2) + members("B", 4)
    # A: 1 of 2 played, 12 of 12 levels: ½·½ + 1·½ = 0.75
    # B: 4 of 4 played, 6 of 12 each: 1·½ + ½·½ = 0.75, the higher participation
    out = annual.excellence(NODES[:4], roster, {"A0", "B0", "B1", "B2", "B3"},
                            {"A0": 12, "B0": 6, "B1": 6, "B2": 6, "B3": 6}, 12)
    assert [(r["org_unit_id"], r["score"]) for r in out["unit"]] == [
        ("B", Fraction(3, 4)), ("A", Fraction(3, 4))]


def test_the_champion_is_the_first_eligible_of_the_final_board():
    board = [{"member_id": "m1", "disqualified": True}, {"member_id": "m2", "disqualified": False}]
    assert annual.champion(board) == "m2" and annual.champion([]) is None


# -- issue 18 items 3 and 5 -------------------------------------------------------------------

def test_a_disqualified_participant_counts_for_participation_but_earns_no_results():
    roster = members("A", 2) + members("B", 2)
    roster[0]["disqualified"] = True  # A0 passed all 12 levels, then was disqualified (R20)
    out = annual.excellence(NODES[:5], roster, {"A0", "A1", "B0"},
                            {"A0": 12, "A1": 6, "B0": 6}, 12)
    units = {r["org_unit_id"]: r for r in out["unit"]}
    # A: both played (participation 1), results (0 + 6/12) / 2 = ¼ → ½ + ⅛ = 0.625
    assert (units["A"]["participants"], units["A"]["disqualified"]) == (2, 1)
    assert units["A"]["participation"] == 1 and units["A"]["results"] == Fraction(1, 4)
    assert units["A"]["levels_passed"] == 6 and units["A"]["score"] == Fraction(5, 8)
    # a unit whose only participant is disqualified scores on its participation alone
    alone = annual.excellence(NODES[:4], members("A", 2) + members("B", 1),
                              {"A0", "B0"}, {"A0": 12, "B0": 6}, 12)
    scores = {r["org_unit_id"]: r["score"] for r in alone["unit"]}
    assert scores["A"] == Fraction(3, 4)  # ½·½ + 1·½: the old reading, not disqualified
    marked = members("A", 2)
    marked[0]["disqualified"] = True
    alone = annual.excellence(NODES[:4], marked + members("B", 1), {"A0", "B0"},
                              {"A0": 12, "B0": 6}, 12)
    assert {r["org_unit_id"]: r["score"] for r in alone["unit"]}["A"] == Fraction(1, 4)


def tied_units():
    """A, B and C: C ahead; A and B equal on score, participation and results."""
    roster = members("A", 2) + members("B", 2) + members("C", 1) + members("D", 4)
    attempted = {"A0", "B0", "C0", "D0"}
    levels = {"A0": 6, "B0": 6, "C0": 12, "D0": 3}
    return roster, attempted, levels


def test_organisations_equal_on_every_figure_share_the_place_and_both_are_excellent():
    roster, attempted, levels = tied_units()
    out = annual.excellence(NODES[:6], roster, attempted, levels, 12, {"unit": 2, "branch": 3})
    # C 1; A and B ½·½ + ½·½ = ½ each, sharing place 2; D ¼·½ + ¼·½ = ¼, place 4
    assert [(r["org_unit_id"], r["rank"], r["excellent"]) for r in out["unit"]] == [
        ("C", 1, True), ("A", 2, True), ("B", 2, True), ("D", 4, False)]
    # the same with the edge at 1: only C; at 3: A and B (place 2) but not D (place 4)
    at_one = annual.excellence(NODES[:6], roster, attempted, levels, 12, {"unit": 1})
    assert [r["excellent"] for r in at_one["unit"]] == [True, False, False, False]
    at_three = annual.excellence(NODES[:6], roster, attempted, levels, 12, 3)
    assert [r["excellent"] for r in at_three["unit"]] == [True, True, True, False]


def test_equal_scores_go_to_participation_never_to_the_id():
    # A: 1 of 2 played, 12/12: ½·½ + 1·½ = ¾; B: 4 of 4 played, 6/12 each: 1·½ + ½·½ = ¾
    # B, whose id comes after A's, is ahead on participation and alone at the edge of 1
    roster = members("A", 2) + members("B", 4)
    out = annual.excellence(NODES[:4], roster, {"A0", "B0", "B1", "B2", "B3"},
                            {"A0": 12, "B0": 6, "B1": 6, "B2": 6, "B3": 6}, 12, 1)
    assert [(r["org_unit_id"], r["rank"], r["excellent"]) for r in out["unit"]] == [
        ("B", 1, True), ("A", 2, False)]


def test_the_members_who_left_each_denominator_are_listed_with_who_did_it():
    roster = members("A", 2) + members("B", 1)
    removal = {"member_id": "A9", "name": "王五", "phone_masked": "138****0009",
               "before": {"participation": "required", "status": "active", "org_unit_id": "A"},
               "after": {"participation": "withdrawn", "status": "active", "org_unit_id": "A"},
               "left": ["A", "fed", "system"], "at": "2018-06-01T02:00:00+00:00",
               "by": "x", "by_name": "系统管理员"}
    back = dict(removal, member_id="A1", name="李四")  # withdrawn, then required again
    out = annual.excellence(NODES[:4], roster, set(), {}, 12)
    rows = {r["org_unit_id"]: r for r in annual.with_removals(out["unit"], [removal, back],
                                                               roster)}
    assert [(r["member_id"], r["by_name"], r["counted_at_close"])
            for r in rows["A"]["removed"]] == [("A9", "系统管理员", False),
                                               ("A1", "系统管理员", True)]
    assert "left" not in rows["A"]["removed"][0] and rows["B"]["removed"] == []
