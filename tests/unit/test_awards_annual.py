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
