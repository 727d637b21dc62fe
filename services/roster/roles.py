"""Granting and removing roles, by any path (a sheet, the member editor, an appointment):
each change its own audit entry and its own event, in the change's transaction."""
from __future__ import annotations

from kernel import audit

from .directory import about
from .models import Role


def grant(tx, member_id, role, node_id, actor, detail=None) -> bool:
    """Give `member_id` the role on `node_id` (False: they hold it already)."""
    if tx.store.role(member_id, role, node_id) is not None:
        return False
    tx.store.add(Role(member_id=member_id, role=role, org_unit_id=node_id))
    _changed(tx, "role_granted", member_id, role, node_id, actor, detail)
    return True


def revoke(tx, role, actor) -> None:
    tx.store.delete(role)
    _changed(tx, "role_revoked", role.member_id, role.role, role.org_unit_id, actor)


def appoint(tx, unit_id, member, actor) -> None:
    """Make `member` the unit's one administrator (R4), replacing any other."""
    current = tx.store.unit_admin_roles(unit_id)
    if [r.member_id for r in current] == [member.id]:
        return
    for role in current:
        revoke(tx, role, actor)
    tx.store.flush()  # the one-administrator index: the old one out before the new one in
    grant(tx, member.id, "unit_admin", unit_id, actor,
          detail={"replaced": [r.member_id for r in current]})


def _changed(tx, action, member_id, role, node_id, actor, detail=None) -> None:
    """Who, whom, which role, where: the audit entry and the event of one change."""
    change = {"member_id": member_id, "role": role, "org_unit_id": node_id}
    tx.store.audit(action, actor=actor, target=member_id, scope_id=node_id,
                    detail=change | (detail or {}))
    tx.emit(action, about(tx.store, member_id, change | {"by": actor or audit.SYSTEM_ACTOR}))
