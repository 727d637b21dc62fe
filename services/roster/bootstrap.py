"""A fresh install's first system administrator (issue 19): made by an operator with the
database at hand (`challenge admin create`), since nobody can log in to appoint one yet.

The member needs a place in the tree: the tree's root (created as `system` / 全系统 when the
tree is empty), or with `org` the organisation of that name or id (created under the root
when no node has that name). The role `system_admin` sits on the root, as a sheet's row
asking for it would (imports._role_node). Audited and announced like every other change.
"""
from __future__ import annotations

import uuid

from kernel.errors import BadInput, Conflict

from . import roles
from .directory import member_event
from .members import RowError, mask_phone, normalise_phone
from .models import Member, OrgUnit

ROOT_ID, ROOT_NAME = "system", "全系统"
# a first administrator takes part voluntarily (R2) until a member sheet says otherwise: a
# `required` default would put them in their unit's R18 denominator unasked
FIRST_CATEGORY, FIRST_PARTICIPATION = "non_party", "voluntary"
ROLE_ORDER = {"system_admin": 0, "organisation_admin": 1, "unit_admin": 2}


def root(tx) -> OrgUnit:
    """The tree's root, made (`system`, 全系统) when the tree is empty."""
    tops = [u for u in tx.store.units_in_order() if u.parent_id is None]
    if tops:
        return next((u for u in tops if u.kind == "system"), tops[0])
    node = OrgUnit(id=ROOT_ID, parent_id=None, kind="system", name=ROOT_NAME,
                   created_at=tx.now)
    tx.store.add(node)
    tx.store.flush()
    tx.store.audit("org_unit_created", actor=None, target=node.id, scope_id=node.id,
                   detail={"name": node.name, "kind": node.kind, "parent_id": None})
    return node


def _place(tx, top: OrgUnit, org: str | None) -> OrgUnit:
    if not org:
        return top
    units = tx.store.units()
    if org in units:
        return units[org]
    named = [u for u in units.values() if u.name == org]
    if len(named) > 1:
        raise BadInput(f"'{org}' names {len(named)} nodes of the tree; give its id",
                       fields={"org": ["ambiguous"]}, reason="ambiguous_node")
    if named:
        return named[0]
    node = OrgUnit(id=str(uuid.uuid4()), parent_id=top.id, kind="organisation", name=org,
                   created_at=tx.now)
    tx.store.add(node)
    tx.store.flush()
    tx.store.audit("org_unit_created", actor=None, target=node.id, scope_id=node.id,
                   detail={"name": org, "kind": "organisation", "parent_id": top.id})
    return node


def create_system_admin(tx, phone, name, org=None, another=False) -> dict:
    """Make (or promote) the member with `phone` a system administrator. Refused when one
    exists already unless `another` (a second is then an explicit choice)."""
    try:
        phone = normalise_phone(phone)
    except RowError as err:
        raise BadInput(err.message, fields={"phone": [err.message]},
                       reason="bad_phone") from None
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadInput("give the administrator's name (1–100 characters)",
                       fields={"name": ["required"]}, reason="name_missing")
    existing = [m for m, _ in list_admins_rows(tx.store) if m["role"] == "system_admin"]
    if existing and not another:
        raise Conflict("a system administrator exists already ("
                       + ", ".join(f"{a['name']} {a['phone']}" for a in existing)
                       + "); give --another to add one more, or let them appoint one",
                       reason="system_admin_exists")
    top = root(tx)
    member = tx.store.member_by_phone(phone)
    if member is None:
        place = _place(tx, top, org)
        member = Member(id=str(uuid.uuid4()), phone=phone, name=name, department=None,
                        org_unit_id=place.id, category=FIRST_CATEGORY,
                        participation=FIRST_PARTICIPATION, status="active",
                        disqualified=False, created_at=tx.now, updated_at=tx.now)
        tx.store.add(member)
        tx.store.flush()
        tx.emit("member_registered", member_event(member, tx.store.units()))
        created = True
    else:  # a member already: keeps their place and name, gains the role
        if member.status != "active" or member.disqualified:
            raise Conflict(f"{member.name} ({mask_phone(phone)}) is inactive or "
                           "disqualified", reason="member_inactive")
        created = False
    granted = roles.grant(tx, member.id, "system_admin", top.id, None,
                          detail={"via": "challenge admin create"})
    tx.store.audit("system_admin_created", actor=None, target=member.id, scope_id=top.id,
                   detail={"phone_masked": mask_phone(phone), "member_created": created,
                           "role_granted": granted, "another": bool(another)})
    return {"member_id": member.id, "name": member.name, "phone": member.phone,
            "org_unit_id": member.org_unit_id, "created": created, "granted": granted}


def list_admins_rows(store) -> list[tuple[dict, int]]:
    units = store.units()
    found = []
    for member_id, held in store.roles_by_member().items():
        member = store.member(member_id)
        for role, node_id in held:
            node = units.get(node_id)
            found.append(({"role": role, "org_unit_id": node_id,
                           "org_unit_name": node.name if node else None,
                           "member_id": member_id, "name": member.name,
                           "phone": member.phone, "status": member.status,
                           "disqualified": member.disqualified},
                          ROLE_ORDER.get(role, 9)))
    found.sort(key=lambda pair: (pair[1], pair[0]["org_unit_name"] or "", pair[0]["name"]))
    return found


def list_admins(store) -> list[dict]:
    """Every administrator role with who holds it, system administrators first."""
    return [row for row, _ in list_admins_rows(store)]
