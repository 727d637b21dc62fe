"""Administrators' changes: the tree, a member's edit, appointments and roles, and the
disqualifications of R20 (with a member's own sign-up of R2). Each is checked against the
actor's part of the tree and audited in its transaction."""
from __future__ import annotations

from kernel.errors import BadInput, Conflict, Forbidden, NotFound, load

from . import access, denominators, roles
from .authority import (
    authority, require_count_keeper, require_cover, require_over, require_over_decider,
    require_system_admin,
)
from .directory import about, display, existing, member_event, member_out
from .imports import NOT_SELF_EDITABLE
from .models import Disqualification, OrgUnit
from .schemas import MemberChangesIn, OrgUnitIn, RoleChangeIn

EDITABLE = ("name", "department", "org_unit_id", "category", "participation", "status")


def upsert_org_units(tx, nodes, actor) -> int:
    """Add or rename nodes of the tree (system administrators; `actor=None` is the platform
    itself, e.g. the demo loader)."""
    nodes = [load(OrgUnitIn(), node, f"org unit {i + 1}") for i, node in enumerate(nodes)]
    if actor is not None:
        require_system_admin(tx.store, actor)
    known = tx.store.units()
    for node in nodes:
        if node["parent_id"] is not None and node["parent_id"] not in known:
            raise BadInput(f"org unit {node['id']}: parent {node['parent_id']} is unknown",
                           fields={"parent_id": [node["parent_id"]]}, reason="unknown_parent")
        unit = known.get(node["id"])
        if unit is None:
            unit = OrgUnit(created_at=tx.now, **node)
            tx.store.add(unit)
        else:
            unit.parent_id, unit.kind, unit.name = node["parent_id"], node["kind"], node["name"]
        known[node["id"]] = unit
    parents = {u.id: u.parent_id for u in known.values()}
    for node in nodes:
        if node["id"] in access.ancestors(parents, node["parent_id"]):
            raise BadInput(f"org unit {node['id']}: the tree would have a cycle",
                           fields={"parent_id": [node["parent_id"]]}, reason="cycle")
    tx.store.audit("org_units_upserted", actor=actor, target=None, scope_id=None,
                    detail={"nodes": nodes})
    return len(nodes)


def update_member(tx, actor, member_id, changes) -> dict:
    """An administrator's edit of one member (any of EDITABLE). A unit's administrator
    cannot leave the unit or become inactive until another is appointed (R4)."""
    store = tx.store
    changes = load(MemberChangesIn(), changes, "changes")
    member = existing(store, member_id)
    if member.id == actor:
        held = authority(store, actor)[1]
        if set(changes) & set(NOT_SELF_EDITABLE + ("status",)):
            raise Forbidden("your own place, category, participation and status are "
                            "changed by another administrator", reason="self_edit")
    else:
        held = require_over(store, actor, member)
    counts_before = denominators.standing(member)
    require_count_keeper(store, held, member, counts_before, dict(counts_before, **{
        k: v for k, v in changes.items() if k in counts_before}))
    units = store.units()
    parents = {u.id: u.parent_id for u in units.values()}
    if "org_unit_id" in changes:
        if changes["org_unit_id"] not in units:
            raise BadInput(f"no org unit {changes['org_unit_id']}",
                           fields={"org_unit_id": ["unknown org unit"]}, reason="unknown_unit")
        require_cover(store, actor, changes["org_unit_id"])
        require_unit_with_admin(store, units, parents, member.org_unit_id,
                                changes["org_unit_id"])
    before = {k: getattr(member, k) for k in EDITABLE}
    after = dict(before, **changes)
    if after == before:
        return member_out(store, member, units)
    for role in store.units_administered_by(member.id):
        leaves = role.org_unit_id not in access.ancestors(parents, after["org_unit_id"])
        if leaves or after["status"] != "active":
            raise Conflict(f"{member.name} is the administrator of "
                           f"{units[role.org_unit_id].name}; appoint another administrator "
                           "first (R4: exactly one per unit)",
                           fields={"org_unit_id" if leaves else "status": ["unit admin"]},
                           reason="admin_would_leave")
    for key, value in changes.items():
        setattr(member, key, value)
    member.updated_at = tx.now
    diff = {k: [before[k], after[k]] for k in EDITABLE if before[k] != after[k]}
    store.audit("member_updated", actor=actor, target=member.id,
                 scope_id=member.org_unit_id, detail=diff)
    denominators.record_left(tx, actor, member, counts_before, units)
    if before["status"] == "active" and after["status"] != "active":
        tx.emit("member_deactivated", {"member_id": member.id,
                                       "member": display(member, units)})
    tx.emit("member_updated", member_event(member, units))
    return member_out(store, member, units)


def require_unit_with_admin(store, units, parents, before, after) -> None:
    """R4 outside imports: nobody is moved into a unit that has no administrator yet (its
    first is appointed from outside, see set_unit_admin, or comes with its member sheet)."""
    kinds = {u.id: u.kind for u in units.values()}
    home = access.home_unit(parents, kinds, after)
    if home is not None and home != access.home_unit(parents, kinds, before) \
            and not store.units_with_admin([home]):
        raise Conflict(f"{units[home].name} has no administrator yet: appoint one first (R4)",
                       fields={"org_unit_id": ["unit without administrator"]},
                       reason="unit_without_admin")


def set_unit_admin(tx, actor, unit_id, member_id) -> dict:
    """Appoint a unit's administrator, replacing the one before (R4: never zero or two). A
    unit that has none yet (just created) may take its first from outside: the appointment
    moves them into the unit, as the administrator acting over them may."""
    store = tx.store
    unit = store.unit(unit_id)
    if unit is None:
        raise NotFound(f"no org unit {unit_id}")
    if unit.kind != "unit":
        raise BadInput(f"{unit.name} is a {unit.kind}, not a unit",
                       fields={"unit_id": ["not a unit"]}, reason="not_a_unit")
    held = authority(store, actor)[1]
    parents = store.parents()
    if not access.may_grant(parents, held, "unit_admin", unit_id):
        raise Forbidden(f"you may not appoint the administrator of {unit.name}",
                        reason="outside_scope")
    if member_id == actor:
        raise Forbidden("nobody appoints themself; ask another administrator",
                        reason="self_edit")
    member = existing(store, member_id)
    moving_in = unit_id not in access.ancestors(parents, member.org_unit_id)
    if moving_in and store.unit_admin_roles(unit_id):
        raise BadInput(f"{member.name} is not a member of {unit.name}",
                       fields={"member_id": ["not in this unit"]}, reason="not_in_unit")
    if member.status != "active":
        raise Conflict(f"{member.name} is inactive", fields={"member_id": ["inactive"]},
                       reason="member_inactive_here")
    if moving_in:
        _move_in_as_first_admin(tx, actor, unit, member)
    roles.appoint(tx, unit_id, member, actor)
    return member_out(store, member)


def _move_in_as_first_admin(tx, actor, unit, member) -> None:
    store = tx.store
    require_over(store, actor, member)
    if store.units_administered_by(member.id):
        raise Conflict(f"{member.name} administers another unit; appoint another "
                       "administrator there first (R4: exactly one per unit)",
                       fields={"member_id": ["unit admin"]}, reason="admin_would_leave")
    before, counts_before = member.org_unit_id, denominators.standing(member)
    member.org_unit_id, member.updated_at = unit.id, tx.now
    store.audit("member_updated", actor=actor, target=member.id, scope_id=unit.id,
                detail={"org_unit_id": [before, unit.id]})
    denominators.record_left(tx, actor, member, counts_before, store.units())
    tx.emit("member_updated", member_event(member, store.units()))


def change_role(tx, actor, member_id, change) -> dict:
    """Grant or revoke an organisation or system administrator role: only who may grant
    it there (access.may_grant), never to oneself (giving one up is allowed; the last
    system administrator stays)."""
    store = tx.store
    change = load(RoleChangeIn(), change, "change")
    held = authority(store, actor)[1]
    member = existing(store, member_id)
    node = store.unit(change["org_unit_id"])
    if node is None:
        raise NotFound(f"no org unit {change['org_unit_id']}")
    if change["role"] == "organisation_admin" and node.kind != "organisation":
        raise BadInput(f"{node.name} is a {node.kind}; organisation administrators sit on "
                       "an organisation", fields={"org_unit_id": ["not an organisation"]},
                       reason="not_an_organisation")
    if not access.may_grant(store.parents(), held, change["role"], node.id):
        raise Forbidden(f"you may not grant or revoke {change['role']} on {node.name}",
                        reason="may_not_grant_role")
    if change["grant"] and member.id == actor:
        raise Forbidden("nobody grants themself a role; ask another administrator",
                        reason="self_edit")
    if member.id != actor:
        require_over(store, actor, member)
    if change["grant"]:
        if member.status != "active":
            raise Conflict(f"{member.name} is inactive", fields={"member_id": ["inactive"]},
                           reason="member_inactive_here")
        roles.grant(tx, member.id, change["role"], node.id, actor)
    else:
        role = store.role(member.id, change["role"], node.id)
        if role is not None:
            if role.role == "system_admin" and store.system_admin_count() == 1:
                raise Conflict("the last system administrator cannot be removed",
                               reason="last_system_admin")
            roles.revoke(tx, role, actor)
    return member_out(store, member)


def set_participation(tx, member_id, participation) -> dict:
    """R2: a department-level or non-party cadre signs up (`voluntary`) or withdraws
    (`withdrawn`); party members under the committee take part as `required` (R1)."""
    member = existing(tx.store, member_id)
    if member.participation == "required":
        raise Conflict("party members under the committee take part as required (R1)",
                       fields={"participation": ["required members cannot change it"]},
                       reason="required_by_category")
    if member.participation != participation:
        before, counts_before = member.participation, denominators.standing(member)
        member.participation = participation
        member.updated_at = tx.now
        tx.store.audit("participation_changed", actor=member.id, target=member.id,
                        scope_id=member.org_unit_id,
                        detail={"participation": [before, member.participation]})
        denominators.record_left(tx, member.id, member, counts_before, tx.store.units())
        tx.emit("member_updated", member_event(member, tx.store.units()))
    return member_out(tx.store, member)


# -- R20: disqualification -------------------------------------------------------------------

def disqualify(tx, actor, member_id, reason, evidence=None, flag_ids=None) -> dict:
    """The member loses award eligibility; the decision is kept for the notice, with the
    evidence it rests on (the decider's account, the flags it cites)."""
    member = existing(tx.store, member_id)
    if member.id == actor:
        raise Forbidden("nobody decides their own case; ask another administrator",
                        reason="self_edit")
    require_over(tx.store, actor, member)
    if member.disqualified:
        raise Conflict(f"{member.name} is already disqualified", reason="already_disqualified")
    member.disqualified, member.updated_at = True, tx.now
    tx.store.add(Disqualification(member_id=member.id, reason=reason, decided_by=actor,
                                  decided_at=tx.now, evidence=evidence,
                                  flag_ids=sorted(set(flag_ids or [])) or None))
    tx.store.audit("member_disqualified", actor=actor, target=member.id,
                    scope_id=member.org_unit_id, detail={
                        "reason": reason, "evidence": evidence, "flag_ids": flag_ids or []})
    tx.emit("member_disqualified", about(tx.store, member.id, {
        "member_id": member.id, "reason": reason, "decided_at": tx.now, "decided_by": actor}))
    return member_out(tx.store, member)


def reinstate(tx, actor, member_id, reason) -> dict:
    """Undo a disqualification: never one's own, and only by the administrator who
    decided it or one whose part of the organisation covers theirs."""
    member = existing(tx.store, member_id)
    if member.id == actor:
        raise Forbidden("nobody reinstates themself; ask another administrator",
                        reason="self_reinstatement")
    held = require_over(tx.store, actor, member)
    open_case = tx.store.open_disqualification(member.id)
    if not member.disqualified or open_case is None:
        raise Conflict(f"{member.name} is not disqualified", reason="not_disqualified")
    require_over_decider(tx.store, actor, held, open_case.decided_by)
    member.disqualified, member.updated_at = False, tx.now
    open_case.reinstated_at, open_case.reinstated_by = tx.now, actor
    open_case.reinstate_reason = reason
    tx.store.audit("member_reinstated", actor=actor, target=member.id,
                    scope_id=member.org_unit_id, detail={"reason": reason})
    tx.emit("member_reinstated", about(tx.store, member.id, {"member_id": member.id}))
    return member_out(tx.store, member)
