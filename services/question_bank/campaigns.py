"""Use cases of campaigns as data (R5, R9, R10): a campaign sheet (one row a level) creates a
campaign as a draft or edits it, publishing makes it the members' campaign, and a past
campaign's bank is copied into a new one's levels. Plain functions over a unit of work.

A campaign is known by its year (one a year: `challenge bank copy --from 2018 --to 2019`).
Editing a published campaign follows the rules of editing a level (levels.update_level): a
level that has opened changes only with `force`, and the change is logged as forced."""
from __future__ import annotations

import uuid

from kernel.errors import BadInput, Conflict

from . import bank, campaign_sheet
from .levels import _campaign_event, campaign, campaign_view
from .models import Campaign, Level
from .questions import as_row

LEVEL_FIELDS = ("title", "theme", "opens_at", "time_limit_s", "draw_count", "mix")
CAMPAIGN_FIELDS = ("name", "time_zone", "starts_at", "ends_at")


def import_campaign(tx, actor, organisation_id, rows: list[dict], dry_run: bool,
                    force: bool = False, source: str | None = None) -> dict:
    """A campaign sheet applied whole or not at all (a schedule half applied makes no sense):
    the report counts levels created, updated, unchanged and removed, and names each bad row
    and column. A new year is a draft until published."""
    report = {"total": len(rows), "created": 0, "updated": 0, "unchanged": 0, "removed": 0,
              "errors": [], "dry_run": dry_run, "campaign": None}
    try:
        plan = campaign_sheet.parse(rows)
    except campaign_sheet.SheetErrors as bad:
        report["errors"] = bad.errors
        tx.discard()
        return report
    found = tx.store.campaign_of_year(plan["year"])
    if found is None:
        found = _create(tx, organisation_id, plan, report)
        changes = {"created": True}
    else:
        changes = _edit(tx, found, plan, force, report)
    if report["errors"] or dry_run:
        report["campaign"] = campaign_view(tx, found) if not report["errors"] else None
        tx.discard()
        return report
    tx.store.flush()
    report["campaign"] = campaign_view(tx, found)
    if changes:
        tx.store.audit("campaign_imported", actor=actor, target=found.id,
                       scope_id=found.organisation_id,
                       detail={"year": found.year, "source": source,
                               **{k: report[k] for k in ("created", "updated", "removed")},
                               **changes})
        if found.published_at is not None:
            tx.emit("level_updated", _campaign_event(tx, found))
    return report


def from_pattern(tx, actor, organisation_id, year: int, time_zone: str, name, dry_run) -> dict:
    """A new year's campaign from the seed's pattern (the admin page's form): the template's
    rows imported as a sheet would be; a year that exists is refused (edit it by its sheet)."""
    if tx.store.campaign_of_year(year) is not None:
        raise Conflict(f"a campaign for {year} exists: edit it by its sheet",
                       fields={"year": [year]}, reason="campaign_year_exists")
    rows = campaign_sheet.keyed(campaign_sheet.template_rows(year, time_zone))
    if name:
        rows[0]["name"] = name
    return import_campaign(tx, actor, organisation_id, rows, dry_run,
                           source=f"template {year}")


def _create(tx, organisation_id, plan: dict, report: dict) -> Campaign:
    if not organisation_id:
        raise BadInput("a campaign belongs to an organisation: import the organisation first",
                       fields={"organisation_id": ["required"]}, reason="no_organisation")
    created = Campaign(id=str(uuid.uuid4()), name=plan["name"], year=plan["year"],
                       time_zone=plan["time_zone"], starts_at=plan["starts_at"],
                       ends_at=plan["ends_at"], organisation_id=organisation_id,
                       published_at=None)
    tx.store.add(created)
    for level in plan["levels"]:
        tx.store.add(Level(campaign_id=created.id, bank_version=0, **level))
    report["created"] = len(plan["levels"])
    return created


def _edit(tx, found: Campaign, plan: dict, force: bool, report: dict) -> dict:
    """The sheet's changes to a stored campaign: free while it is a draft; once published,
    what has begun (a level that has opened, the campaign's start and zone once it has
    started) changes only with `force`. Returns the changes for the audit log."""
    live = found.published_at is not None
    forced = []

    def may_change(row_level, column, started, what):
        if live and started:
            if not force:
                report["errors"].append({
                    "row": row_level, "column": campaign_sheet.HEADERS[column],
                    "message": f"{what}已开始，会员正在闯关：确需修改请用 force（记录在案）"})
                return False
            forced.append(what)
        return True

    changed = {}
    started = found.starts_at <= tx.now
    for key in CAMPAIGN_FIELDS:
        if getattr(found, key) != plan[key]:
            column = {"starts_at": "starts_on", "ends_at": "ends_on"}.get(key, key)
            if key in ("name", "ends_at") or may_change(2, column, started, "活动"):
                changed[key] = [str(getattr(found, key)), str(plan[key])]
                setattr(found, key, plan[key])
    stored = {lv.number: lv for lv in tx.store.levels(found.id)}
    for row, level in enumerate(plan["levels"], start=2):
        existing = stored.pop(level["number"], None)
        if existing is None:
            if may_change(row, "level", level["opens_at"] <= tx.now, f"第{level['number']}关"):
                tx.store.add(Level(campaign_id=found.id, bank_version=0, **level))
                report["created"] += 1
            continue
        diff = [k for k in LEVEL_FIELDS if getattr(existing, k) != level[k]]
        if not diff:
            report["unchanged"] += 1
            continue
        if may_change(row, "opens_on" if "opens_at" in diff else diff[0],
                      existing.opens_at <= tx.now, f"第{level['number']}关"):
            for key in diff:
                setattr(existing, key, level[key])
            report["updated"] += 1
    for number, gone in sorted(stored.items()):
        if tx.store.questions(found.id, level=number):
            report["errors"].append({
                "row": None, "column": campaign_sheet.HEADERS["level"],
                "message": f"第{number}关已有题目，不能从表中删去（先把题目移到别的关卡）"})
        elif may_change(None, "level", gone.opens_at <= tx.now, f"第{number}关"):
            tx.store.delete(gone)
            report["removed"] += 1
    if not (changed or report["created"] or report["updated"] or report["removed"]):
        return {}
    return {"campaign_changes": changed, "forced": sorted(set(forced))}


def publish(tx, actor, campaign_id) -> dict:
    """A draft becomes the members' campaign (kernel/campaigns.py: the published one that
    starts last), so it is published only once every published campaign has ended, and it
    starts after them: members never lose the campaign they are playing. Emits
    `campaign_published` (attempts, ranking and awards take it from there)."""
    found = campaign(tx, campaign_id)
    if found.published_at is not None:
        raise Conflict(f"{found.name} is already published", reason="campaign_published")
    if not tx.store.levels(found.id):
        raise BadInput(f"{found.name} has no levels: import its sheet",
                       fields={"levels": ["empty"]}, reason="campaign_no_levels")
    for other in tx.store.published_campaigns():
        if other.ends_at >= tx.now or other.ends_at >= found.starts_at:
            raise Conflict(f"{other.name} runs until {other.ends_at.isoformat()}: publish "
                           f"{found.name} after it has ended, to start after it",
                           fields={"campaign_id": [other.id]}, reason="campaign_still_running")
    found.published_at = tx.now
    tx.store.audit("campaign_published", actor=actor, target=found.id,
                   scope_id=found.organisation_id, detail={"year": found.year})
    tx.store.flush()
    tx.emit("campaign_published", _campaign_event(tx, found))
    return campaign_view(tx, found)


def listing(tx) -> list[dict]:
    """Every campaign, newest first: published or a draft, the members' current one marked,
    with its levels and active questions counted."""
    current = tx.store.current_campaign()
    out = []
    for found in tx.store.campaigns():
        counts = tx.store.active_counts(found.id)
        out.append({"campaign_id": found.id, "name": found.name, "year": found.year,
                    "time_zone": found.time_zone, "starts_at": found.starts_at,
                    "ends_at": found.ends_at, "organisation_id": found.organisation_id,
                    "published_at": found.published_at,
                    "current": current is not None and current.id == found.id,
                    "levels": len(tx.store.levels(found.id)),
                    "active_questions": sum(counts.values())})
    return out


def sheet(tx, campaign_id) -> list[dict]:
    """A stored campaign as its sheet (the export that re-imports as an edit)."""
    found = campaign(tx, campaign_id)
    return campaign_sheet.as_rows(found, tx.store.levels(found.id))


def copy_bank(tx, actor, from_campaign_id, to_campaign_id, dry_run: bool) -> dict:
    """A past campaign's active questions into the same-numbered levels of another (real
    organisers reuse banks): the question import's path, so copying twice changes nothing
    the second time and each level's draw cache is renewed. Levels the target lacks are
    reported by row (a row a question, in the source's order)."""
    source, target = campaign(tx, from_campaign_id), campaign(tx, to_campaign_id)
    if source.id == target.id:
        raise BadInput("copy a bank from another campaign",
                       fields={"from_campaign_id": ["the same campaign"]}, reason="same_campaign")
    rows = []
    for question in tx.store.questions_matching(source.id, {"status": "active"}):
        row = as_row(question)
        row.pop("id"), row.pop("status")
        rows.append(row)
    return bank.import_questions(tx, target.id, rows, dry_run, actor,
                                 source=f"copy of {source.year} ({source.name})")


def setup(tx) -> dict:
    """What question_bank knows of a fresh install's checklist: a campaign exists (and is
    published), and the current one's level 1 has a bank to draw from."""
    current = tx.store.current_campaign()
    any_campaign = tx.store.any_campaign()
    ready = False
    if current is not None:
        first = tx.store.level(current.id, 1)
        ready = first is not None and tx.store.active_counts(current.id).get(1, 0) >= \
            first.draw_count
    return {"campaign": any_campaign is not None, "published": current is not None,
            "questions": ready, "campaign_id": current.id if current else None}
