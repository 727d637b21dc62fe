"""What organisers hand on (issue 23): the live contest's shortlist (R6, R17) and the units'
reports month by month (R19). Pure functions of what the entrypoint gathered from ranking,
roster and attempts outside any transaction.

- The shortlist is the head of the whole tree's board (the live one, or a closed month's
  snapshot) in R13's order, as many *eligible* members as the settings' `shortlist_size`:
  eligible as a prize is (policy.ineligible: disqualified, and as the campaign's settings
  say, inactive, withdrawn, bank administrators), except that R17's contest is the year's
  cumulative result, so a pass inside the month is not asked for.
- A unit's (or organ branch's) figures at a closed month's cutoff are R18's (annual.py)
  over who had started an attempt by the cutoff and the levels they held on that month's
  snapshot; "now" is the live participation table's. The roster is today's (who is
  expected is not kept month by month)."""
from __future__ import annotations

from datetime import datetime

from . import annual
from .policy import ineligible


def contest_eligibility(settings: dict) -> dict:
    """The campaign's eligibility settings as the live contest reads them (R17: the
    cumulative result; no pass inside a month is asked for)."""
    return {"exclude_inactive": bool(settings.get("exclude_inactive")),
            "exclude_withdrawn": bool(settings.get("exclude_withdrawn")),
            "exclude_bank_admins": bool(settings.get("exclude_bank_admins")),
            "monthly_needs_pass_in_month": False}


def shortlist(entries: list[dict], settings: dict, size: int) -> list[dict]:
    """The first `size` eligible entries of a board, placed 1..n in its order."""
    eligible = [e for e in entries if ineligible(e, settings) is None][:size]
    return [dict(entry, place=place) for place, entry in enumerate(eligible, 1)]


def _when(value) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _figures(row: dict) -> dict:
    return {"org_unit_id": row["org_unit_id"], "expected": row["expected"],
            "participants": row["participants"], "levels_passed": row["levels_passed"],
            "participation": round(float(row["participation"]), 6),
            "results": round(float(row["results"]), 6), "score": round(float(row["score"]), 6),
            "rank": row["rank"]}


def unit_report(campaign_id: str, nodes: list[dict], roster: list[dict], played: list[dict],
                total_levels: int, months: list[dict]) -> dict:
    """Each unit and organ branch: its figures now and at every closed month's cutoff, and
    the expected members who have not started an attempt yet (whom to chase)."""
    first = {p["member_id"]: _when(p.get("first_started_at")) for p in played}
    now_levels = {p["member_id"]: p["levels_passed"] for p in played}
    periods = [("now", set(first), now_levels)]
    for month in months:
        cut = _when(month["cutoff"])
        started = {m for m, at in first.items() if at is None or at <= cut}
        periods.append((month["month"], started, month["levels"]))
    orgs: dict[str, dict] = {}
    for period, started, levels in periods:
        tables = annual.excellence(nodes, roster, started, levels, total_levels, top=0)
        for kind, rows in tables.items():
            for row in rows:
                org = orgs.setdefault(row["org_unit_id"], {
                    "org_unit_id": row["org_unit_id"], "kind": kind, "months": []})
                if period == "now":
                    org["now"] = _figures(row)
                else:
                    org["months"].append(dict(_figures(row), month=period))
    not_played = [{"member_id": m["member_id"], "org_path": m["org_path"]}
                  for m in roster if annual.expected(m) and m["member_id"] not in first]
    return {"campaign_id": campaign_id, "levels": total_levels,
            "months": [m["month"] for m in months],
            "organisations": sorted(orgs.values(), key=lambda o: (o["kind"] != "unit",
                                                                  o["now"]["rank"],
                                                                  o["org_unit_id"])),
            "not_played": not_played}
