"""R17 and R18, as the design reads them. Pure; exact arithmetic (fractions), so ties are ties.

- Individual champion (R17): the first eligible member of the final standings.
- Organisation excellence (R18), separately for subordinate units (nodes of kind `unit`) and
  for organ branches (nodes of kind `branch` not inside a unit):
  participation = expected members with at least one attempt ÷ expected members, where the
  expected are the active members required to play plus the volunteers who signed up;
  results = the mean, over those participants, of levels passed ÷ the campaign's levels
  (levels from the final standings; a participant with no pass counts 0);
  score = 50% participation + 50% results; ties go to the higher participation, then the
  node id. The first `top` of each kind with a score above 0 are excellent.
"""
from __future__ import annotations

from fractions import Fraction

EXPECTED = ("required", "voluntary")


def organisations(nodes: list[dict]) -> dict[str, list[str]]:
    parents = {n["id"]: n["parent_id"] for n in nodes}
    kinds = {n["id"]: n["kind"] for n in nodes}

    def inside_unit(node_id):
        node_id = parents.get(node_id)
        while node_id is not None:
            if kinds.get(node_id) == "unit":
                return True
            node_id = parents.get(node_id)
        return False

    return {"unit": sorted(n for n, k in kinds.items() if k == "unit"),
            "branch": sorted(n for n, k in kinds.items() if k == "branch" and not inside_unit(n))}


def champion(final_board: list[dict]) -> str | None:
    return next((e["member_id"] for e in final_board if not e["disqualified"]), None)


def excellence(nodes, roster, attempted: set, levels: dict, total_levels: int,
               top: int = 3) -> dict[str, list[dict]]:
    out = {}
    for kind, ids in organisations(nodes).items():
        rows = []
        for org in ids:
            expected = [m["member_id"] for m in roster if org in m["org_path"]
                        and m["status"] == "active" and m["participation"] in EXPECTED]
            playing = [m for m in expected if m in attempted]
            participation = Fraction(len(playing), len(expected)) if expected else Fraction(0)
            results = (sum(Fraction(levels.get(m, 0), total_levels) for m in playing)
                       / len(playing)) if playing and total_levels else Fraction(0)
            score = participation / 2 + results / 2
            rows.append({"org_unit_id": org, "expected": len(expected),
                         "participants": len(playing),
                         "levels_passed": sum(levels.get(m, 0) for m in playing),
                         "participation": participation, "results": results, "score": score})
        rows.sort(key=lambda r: (-r["score"], -r["participation"], r["org_unit_id"]))
        for place, row in enumerate(rows, 1):
            row["rank"] = place
            row["excellent"] = place <= top and row["score"] > 0
        out[kind] = rows
    return out


def as_json(rows: list[dict]) -> list[dict]:
    """Fractions as exact strings and rounded floats, for storage and display."""
    return [dict(row, **{key: {"exact": str(row[key]), "value": round(float(row[key]), 6)}
                         for key in ("participation", "results", "score")}) for row in rows]
