"""What roster answers: the tree, members as the API and the events show them, the lists
administrators page through (each inside the asker's part of the tree), the notice of R20
and the audit log."""
from __future__ import annotations

from datetime import timedelta

from kernel.errors import Forbidden, NotFound

from . import access
from .authority import admin, require_cover, visible
from .members import mask_phone, phone_digits


def path(parents: dict, unit_id) -> list[str]:
    """The nodes from the root down to `unit_id`."""
    return list(reversed(access.ancestors(parents, unit_id)))


def member_out(store, member, units=None) -> dict:
    """A member as the API shows them (MemberOut); `units` (the tree) when the caller has it."""
    units = units or store.units()
    places = path({u.id: u.parent_id for u in units.values()}, member.org_unit_id)
    return {
        "member_id": member.id, "name": member.name, "department": member.department,
        "phone_masked": mask_phone(member.phone), "org_path": places,
        "org_path_names": [units[unit_id].name for unit_id in places],
        "unit_id": member.org_unit_id, "unit_name": units[member.org_unit_id].name,
        "category": member.category, "participation": member.participation,
        "status": member.status, "disqualified": member.disqualified,
        "roles": [{"role": r, "org_unit_id": u} for r, u in store.roles_of(member.id)],
    }


def member_event(member, units) -> dict:
    """member_registered / member_updated's data."""
    return {
        "member_id": member.id, "name": member.name,
        "org_path": path({u.id: u.parent_id for u in units.values()}, member.org_unit_id),
        "category": member.category, "participation": member.participation,
        "status": member.status, "phone_masked": mask_phone(member.phone),
        "unit_name": units[member.org_unit_id].name, "member": display(member, units),
    }


def about(store, member_id, data: dict) -> dict:
    """An event's data about one member, with who they are (`member`) for other agencies."""
    member = store.member(member_id)
    return data if member is None else data | {"member": display(member, store.units())}


def display(member, units) -> dict:
    """Who a member is to another agency (kernel.events.MemberDisplay): their name, masked
    phone, their unit (the nearest unit at or above their place) and their branch if they
    sit in one."""
    parents = {u.id: u.parent_id for u in units.values()}
    nearest = {}
    for node_id in access.ancestors(parents, member.org_unit_id):
        nearest.setdefault(units[node_id].kind, units[node_id])
    unit, branch = nearest.get("unit"), nearest.get("branch")
    return {"name": member.name, "phone_masked": mask_phone(member.phone),
            "unit_id": unit.id if unit else None, "unit_name": unit.name if unit else None,
            "branch_id": branch.id if branch else None,
            "branch_name": branch.name if branch else None}


def existing(store, member_id):
    member = store.member(member_id)
    if member is None:
        raise NotFound("no such member")
    return member


def org_tree(store) -> list[dict]:
    """Every node with its parent, kind, name, code, member count, (units) administrator
    and warnings (`unit_without_admin`, R4)."""
    counts = store.member_counts()
    admins = store.admin_of_each_unit()
    names = store.names(admins.values())
    return [{
        "id": u.id, "parent_id": u.parent_id, "kind": u.kind, "name": u.name,
        "members": counts.get(u.id, 0),
        "admin": ({"member_id": admins[u.id], "name": names.get(admins[u.id])}
                  if u.id in admins else None),
        "code": u.code,
        # R4: a unit without its administrator (members are moved in once it has one)
        "warnings": ["unit_without_admin"] if u.kind == "unit" and u.id not in admins else [],
    } for u in store.units_in_order()]


def authorize(store, actor, node_id, roles) -> dict:
    """The actor's administrator roles if one of `roles` covers `node_id`; else Forbidden."""
    member, scopes = admin(store, actor, roles)
    parents = store.parents()
    if node_id is not None and not access.covers(parents, scopes, node_id):
        raise Forbidden(f"{node_id} is outside your part of the organisation",
                        reason="outside_scope")
    return {"member_id": member.id, "name": member.name, "scopes": scopes,
            "visible": visible(parents, scopes),
            "roles": [{"role": r, "org_unit_id": u} for r, u in store.roles_of(member.id)]}


def get_member(store, member_id, actor) -> dict:
    member = existing(store, member_id)
    if actor is not None:
        require_cover(store, actor, member.org_unit_id)
    return member_out(store, member)


def play_status(store, member_id) -> dict:
    row = store.play_status(member_id) if isinstance(member_id, str) else None
    if row is None:
        raise NotFound("no such member")
    return {"status": row[0], "disqualified": row[1]}


def list_members(store, actor, limit, offset, query, unit_id, status, disqualified) -> dict:
    """Members by name, paged; filtered by a search (name or phone digits), a subtree,
    status and disqualification; an administrator sees their own subtree only."""
    parents = store.parents()
    allowed = None
    if actor is not None:
        scopes = admin(store, actor)[1]
        if scopes is not None:
            allowed = set(visible(parents, scopes))
    if unit_id:
        if unit_id not in parents:
            raise NotFound(f"no org unit {unit_id}")
        inside = access.subtree(parents, unit_id)
        allowed = inside if allowed is None else allowed & inside
    # phones are stored as ASCII digits: a full-width search finds them too
    total, rows = store.search_members(
        within=allowed, text=query, digits=phone_digits(query) if query else None,
        status=status, disqualified=disqualified, limit=limit, offset=offset)
    units = store.units()
    return {"total": total, "items": [member_out(store, m, units) for m in rows]}


# A change is stamped with its transaction's start and seen only once committed: `as_of`
# stays this far behind the read, so a change committed during it (a long import) is
# still at or after the next `since` (read again, at worst, never lost).
AS_OF_MARGIN = timedelta(minutes=2)


def agency_roster(store, now, since, limit, offset) -> dict:
    """The roster as another agency may read it (docs/agencies.md): members changed since
    `since`, oldest change first, each as the events name them; `as_of` is the next since."""
    total, rows = store.members_changed_since(since, limit, offset)
    units = store.units()
    return {"total": total, "items": [agency_member(m, units) for m in rows],
            "as_of": now - AS_OF_MARGIN}


def agency_member_of(store, member_id) -> dict:
    return agency_member(existing(store, member_id), store.units())


def agency_member(member, units) -> dict:
    return {"member_id": member.id, "member": display(member, units),
            "org_path": path({u.id: u.parent_id for u in units.values()}, member.org_unit_id),
            "category": member.category, "participation": member.participation,
            "status": member.status, "disqualified": member.disqualified,
            "updated_at": member.updated_at}


def roster_for_scoring(store) -> list[dict]:
    """Every member's place, participation and status (R18's denominators) and whether
    they are disqualified (R18: a participant whose results count 0)."""
    parents = store.parents()
    return [{"member_id": m.id, "participation": m.participation, "status": m.status,
             "disqualified": m.disqualified, "org_path": path(parents, m.org_unit_id)}
            for m in store.members_in_order()]


def member_places(store, member_ids) -> dict:
    """Where each of these members sits (org unit, department) and their name."""
    ids = [str(m) for m in (member_ids or [])][:10_000]
    return {m.id: {"name": m.name, "org_unit_id": m.org_unit_id,
                   "department": m.department or ""} for m in store.members_with_ids(ids)}


def disqualifications(store, actor) -> list[dict]:
    """Every decision, newest first, with names (the notice of R20); an administrator
    sees their own subtree's."""
    parents = store.parents()
    scopes = admin(store, actor)[1] if actor is not None else None
    units = store.units()
    names: dict = {}
    rows = []
    for case, member in store.disqualifications():
        if not access.covers(parents, scopes, member.org_unit_id):
            continue
        for who in (case.decided_by, case.reinstated_by):
            if who and who not in names:
                person = store.member(who)
                names[who] = person.name if person else who
        rows.append({
            "member_id": member.id, "name": member.name,
            "phone_masked": mask_phone(member.phone), "unit_id": member.org_unit_id,
            "unit_name": units[member.org_unit_id].name,
            "reason": case.reason, "decided_at": case.decided_at.isoformat(),
            "decided_by": case.decided_by, "decided_by_name": names[case.decided_by],
            "reinstated_at": case.reinstated_at.isoformat() if case.reinstated_at else None,
            "reinstated_by": case.reinstated_by,
            "reinstated_by_name": names.get(case.reinstated_by),
            "reinstate_reason": case.reinstate_reason,
            "evidence": case.evidence, "flag_ids": case.flag_ids or [],
        })
    return rows


def audit_log(store, actor, limit, offset) -> dict:
    scopes = admin(store, actor)[1]
    seen = None if scopes is None else visible(store.parents(), scopes)
    return store.audit_log(seen, limit, offset)
