"""awards' annual use cases (R17–R19) and the spreadsheets finance and organisers download.

The scoring itself is `annual.py` (pure); the workbooks are `ledger.py`. What other services
know (the final board, the org tree, the roster, who played, how many levels) is gathered by
the entrypoint outside any transaction and handed in."""
from __future__ import annotations

import base64
import uuid

from kernel.errors import NotFound

from . import annual, grants
from .ledger import annual_workbook, workbook
from .models import AnnualScore, Award, GrantedPeriod

ANNUAL = "annual"  # the period of R17/R18's awards


def annual_pending(tx, campaign_id: str) -> bool:
    """Whether the campaign's annual results are still to be published (once per campaign)."""
    return tx.store.granted_period(campaign_id, ANNUAL) is None


def final_month(months: list[dict], final_snapshot_id: str) -> str:
    """The month whose snapshot closed the campaign, among ranking's months."""
    return next(m["month"] for m in months if m.get("snapshot_id") == final_snapshot_id)


def excellent_per_kind(tx, campaign_id: str) -> dict:
    """R18's number of excellent organisations per kind, from the campaign's settings."""
    settings = tx.store.settings(campaign_id)
    return {"unit": settings["excellent_units"], "branch": settings["excellent_branches"]}


def publish_annual(tx, campaign_id: str, final_snapshot_id: str, final: list[dict],
                   nodes: list[dict], roster: list[dict], attempted: set,
                   total_levels: int, removals: list[dict] = ()) -> None:
    """The champion and the excellent units and organ branches (as many per kind as the
    settings say, more when a place at the edge is shared), with every organisation's
    figures kept and the members who left its denominator during the campaign (`removals`,
    roster's `scoring_removals`); a concurrent publication of the same campaign leaves this
    one without effect."""
    levels = {e["member_id"]: e["levels"] for e in final}
    # R18/R20: disqualified at the close by roster, or as the final board marks them
    marked = {e["member_id"] for e in final if e.get("disqualified")}
    roster = [dict(m, disqualified=bool(m.get("disqualified")) or m["member_id"] in marked)
              for m in roster]
    top = excellent_per_kind(tx, campaign_id)
    tables = annual.excellence(nodes, roster, attempted, levels, total_levels, top)
    champion = annual.champion(final)
    scored = {kind: annual.as_json(annual.with_removals(rows, list(removals), roster))
              for kind, rows in tables.items()}
    granted = GrantedPeriod(campaign_id=campaign_id, period=ANNUAL,
                            snapshot_id=final_snapshot_id,
                            policy=[{"kind": "annual", "excellent_units": top["unit"],
                                     "excellent_branches": top["branch"],
                                     "levels": total_levels}], granted_at=tx.now)
    scores = [AnnualScore(campaign_id=campaign_id, kind=kind, org_unit_id=row["org_unit_id"],
                          rank=row["rank"], figures=row)
              for kind, rows in scored.items() for row in rows]
    if not tx.store.claim_period(granted, scores):
        tx.discard()
        return
    winners = {}
    for kind, rows in scored.items():
        for row in rows:
            if row["excellent"]:
                winners.setdefault(kind, []).append(row["org_unit_id"])
                _grant_annual(tx, campaign_id, f"excellent_{kind}", row["rank"],
                              org_unit_id=row["org_unit_id"])
    if champion:
        _grant_annual(tx, campaign_id, "annual_champion", 1, member_id=champion)
    tx.emit("annual_results_published", {
        "campaign_id": campaign_id, "champion_member_id": champion,
        "excellent_units": winners.get("unit", []),
        "excellent_branches": winners.get("branch", [])})


def _grant_annual(tx, campaign_id, kind, rank, member_id=None, org_unit_id=None):
    # a member's award is held while they have a flag under review, as a month's (R20)
    held = bool(member_id) and tx.store.under_review(member_id)
    award = Award(id=str(uuid.uuid4()), campaign_id=campaign_id, period=ANNUAL, kind=kind,
                  rank=rank, amount_cny=None, member_id=member_id, org_unit_id=org_unit_id,
                  scope_id=None, status="held" if held else "granted", granted_at=tx.now)
    tx.store.add(award)
    data = {"award_id": award.id, "campaign_id": campaign_id, "period": ANNUAL,
            "kind": kind, "rank": rank, "amount_cny": None, "held": held}
    data.update(grants.winner(tx, campaign_id, ANNUAL, member_id) if member_id
                else {"org_unit_id": org_unit_id})
    tx.emit("award_granted", data)


def annual_results(tx, campaign_id: str) -> dict:
    """The champion and each organisation's score with every figure behind it."""
    awards = tx.store.awards_of_period(campaign_id, ANNUAL)
    scores = sorted(tx.store.annual_scores(campaign_id),
                    key=lambda s: (s.kind, s.rank, s.org_unit_id))  # a shared place by id
    if not scores and not awards:
        raise NotFound("no annual results yet: they follow the campaign's last month",
                       reason="no_annual_results")
    return {"campaign_id": campaign_id,
            "champion_member_id": next((a["member_id"] for a in awards
                                        if a["kind"] == "annual_champion"), None),
            "units": [s.figures for s in scores if s.kind == "unit"],
            "branches": [s.figures for s in scores if s.kind == "branch"]}


def participation(campaign_id: str, nodes: list[dict], roster: list[dict],
                  played: list[dict], total_levels: int) -> dict:
    """R19, live: each unit's and organ branch's members expected to play, how many have
    played, and the score R18 would give them if the campaign closed now (levels from each
    participant's best run so far)."""
    levels = {p["member_id"]: p["levels_passed"] for p in played}
    tables = annual.excellence(nodes, roster, set(levels), levels, total_levels, top=0)
    return {"campaign_id": campaign_id, "levels": total_levels,
            "units": annual.as_json(tables["unit"]),
            "branches": annual.as_json(tables["branch"])}


# -- spreadsheets ------------------------------------------------------------------------------

def annual_xlsx(results: dict, names: dict | None, champion_name: str | None) -> dict:
    """The annual results as XLSX (base64), org unit names from the caller."""
    return _xlsx("annual-results.xlsx", annual_workbook(results, names or {}, champion_name))


def month_ledger(period: str, awards: list[dict], departments: dict | None) -> dict:
    """The month's ledger for finance as XLSX (Chinese headers, totals), base64."""
    return dict(_xlsx(f"awards-{period}.xlsx", workbook(period, awards, departments or {})),
                rows=len(awards))


def _xlsx(filename: str, data: bytes) -> dict:
    return {"filename": filename, "content_b64": base64.b64encode(data).decode()}
