"""R17 and R18, as the design reads them. Pure; exact arithmetic (fractions), so ties are ties.

- Individual champion (R17): the first eligible member of the final standings.
- Organisation excellence (R18), separately for subordinate units (nodes of kind `unit`) and
  for organ branches (nodes of kind `branch` not inside a unit):
  participation = expected members with at least one attempt ÷ expected members, where the
  expected are the active members required to play plus the volunteers who signed up;
  results = the mean, over those participants, of levels passed ÷ the campaign's levels
  (levels from the final standings; a participant with no pass counts 0, and so does a
  disqualified participant (R20): they took part, so they count for participation, but their
  results earn their organisation nothing);
  score = 50% participation + 50% results. Equal scores go to the higher participation, then
  the higher results; organisations equal on all three share the place (1, 2, 2, 4), never
  split by id. Every organisation of a kind placed within its `top` (the awards settings'
  `excellent_units` / `excellent_branches`) with a score above 0 is excellent, so a shared
  place at the edge makes more than `top` excellent.
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


def expected(member: dict) -> bool:
    """R18's denominator: an active member required to play or a volunteer who signed up."""
    return member["status"] == "active" and member["participation"] in EXPECTED


def excellence(nodes, roster, attempted: set, levels: dict, total_levels: int,
               top: int | dict = 3) -> dict[str, list[dict]]:
    """Each kind's organisations with their figures, best first; `top` is the number of
    excellent organisations per kind ({"unit": n, "branch": m}), or one number for both."""
    tops = top if isinstance(top, dict) else {"unit": top, "branch": top}
    out = {}
    for kind, ids in organisations(nodes).items():
        rows = []
        for org in ids:
            members = [m for m in roster if org in m["org_path"] and expected(m)]
            playing = [m for m in members if m["member_id"] in attempted]
            # R20: a disqualified participant took part, but their levels count 0
            counted = {m["member_id"]: 0 if m.get("disqualified") else
                       levels.get(m["member_id"], 0) for m in playing}
            participation = (Fraction(len(playing), len(members)) if members
                             else Fraction(0))
            results = (sum(Fraction(n, total_levels) for n in counted.values())
                       / len(playing)) if playing and total_levels else Fraction(0)
            score = participation / 2 + results / 2
            rows.append({"org_unit_id": org, "expected": len(members),
                         "participants": len(playing),
                         "disqualified": sum(1 for m in playing if m.get("disqualified")),
                         "levels_passed": sum(counted.values()),
                         "participation": participation, "results": results, "score": score})
        out[kind] = placed(rows, tops.get(kind, 0))
    return out


def placed(rows: list[dict], top: int) -> list[dict]:
    """R18's order: score, then participation, then results; equal on all three share the
    place (standard competition ranking: 1, 2, 2, 4); excellent: placed within `top` with a
    score above 0. Rows equal on all three are listed by id, for a stable page only."""
    def merit(row):
        return (row["score"], row["participation"], row["results"])

    rows.sort(key=lambda r: (tuple(-x for x in merit(r)), r["org_unit_id"]))
    for index, row in enumerate(rows):
        shared = index and merit(rows[index - 1]) == merit(row)
        row["rank"] = rows[index - 1]["rank"] if shared else index + 1
        row["excellent"] = row["rank"] <= top and row["score"] > 0
    return rows


def with_removals(rows: list[dict], removals: list[dict], roster: list[dict]) -> list[dict]:
    """Each organisation's `removed`: the members who left its R18 denominator during the
    campaign (roster's `scoring_removals`: `left` names every node whose denominator they
    left), with who removed them and when, and whether they count again at the close."""
    counted = {(m["member_id"], node) for m in roster if expected(m) for node in m["org_path"]}
    for row in rows:
        org = row["org_unit_id"]
        row["removed"] = [
            {key: removal.get(key) for key in ("member_id", "name", "phone_masked", "before",
                                               "after", "at", "by", "by_name")}
            | {"counted_at_close": (removal["member_id"], org) in counted}
            for removal in removals if org in removal["left"]]
    return rows


def as_json(rows: list[dict]) -> list[dict]:
    """Fractions as exact strings and rounded floats, for storage and display."""
    return [dict(row, **{key: {"exact": str(row[key]), "value": round(float(row[key]), 6)}
                         for key in ("participation", "results", "score")}) for row in rows]
