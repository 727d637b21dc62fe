"""R18's denominators as roster keeps them: who counts for a unit's or organ branch's
participation (an active member required to play, or a volunteer who signed up), which
changes only an organisation or system administrator makes (issue 18 item 4: a unit's
administrator cannot shrink their own denominator), and the record of every member who left
a node's count, which the annual results list with who did it and when.

The record is roster's audit log: a change that takes a member out of some node's count
writes one `member_left_count` entry naming the nodes left, in the change's transaction,
whichever path made it (an administrator's edit, a sheet, a volunteer's withdrawal)."""
from __future__ import annotations

from kernel.audit import SYSTEM_ACTOR

from . import access
from .members import mask_phone

EXPECTED = ("required", "voluntary")
LEFT = "member_left_count"  # the audit action


def counted(standing: dict) -> bool:
    """Whether a member with this participation and status is in R18's denominator."""
    return standing["status"] == "active" and standing["participation"] in EXPECTED


def standing(member) -> dict:
    """What R18's denominators depend on: participation, status and place."""
    return {"participation": member.participation, "status": member.status,
            "org_unit_id": member.org_unit_id}


def changes_required(before: dict, after: dict) -> bool:
    """Whether a change takes a member into or out of `required`, or deactivates a required
    member: what only an organisation or system administrator does (issue 18 item 4)."""
    was, now = before["participation"] == "required", after["participation"] == "required"
    return was != now or (was and before["status"] == "active" and after["status"] != "active")


def scored(parents: dict, kinds: dict, node_id) -> list[str]:
    """The nodes at or above `node_id` that R18 scores: units, and organ branches (branches
    not inside a unit)."""
    above = access.ancestors(parents, node_id)
    in_unit = any(kinds.get(n) == "unit" for n in above)
    return [n for n in above if kinds.get(n) == "unit"
            or (kinds.get(n) == "branch" and not in_unit)]


def nodes_left(parents: dict, kinds: dict, before: dict, after: dict) -> list[str]:
    """The scored nodes whose count the member was in before the change and is not in
    after it."""
    was = set(scored(parents, kinds, before["org_unit_id"])) if counted(before) else set()
    now = set(scored(parents, kinds, after["org_unit_id"])) if counted(after) else set()
    return sorted(was - now)


def record_left(tx, actor, member, before: dict, units: dict) -> None:
    """The audit entry of a change that took `member` out of some unit's or organ branch's
    count (none otherwise), in the change's transaction; `units`: the tree by id."""
    after = standing(member)
    left = nodes_left({u.id: u.parent_id for u in units.values()},
                      {u.id: u.kind for u in units.values()}, before, after)
    if left:
        tx.store.audit(LEFT, actor=actor, target=member.id, scope_id=before["org_unit_id"],
                       detail={"before": before, "after": after, "left": left})


def removals(store, since=None, until=None) -> list[dict]:
    """Every member who left a node's count between `since` and `until` (either None: no
    bound), oldest first, with who made the change (`by`: None for the platform itself)."""
    entries = store.audit_entries(LEFT, since, until)
    people = {m.id: m for m in store.members_with_ids(
        sorted({e["target"] for e in entries} | {e["actor_id"] for e in entries}))}
    out = []
    for entry in entries:
        member, by = people.get(entry["target"]), entry["actor_id"]
        by = None if by == SYSTEM_ACTOR else by
        out.append({
            "member_id": entry["target"], "name": member.name if member else None,
            "phone_masked": mask_phone(member.phone) if member else None,
            "before": entry["detail"]["before"], "after": entry["detail"]["after"],
            "left": entry["detail"]["left"], "at": entry["at"], "by": by,
            "by_name": people[by].name if by in people else None})
    return out
