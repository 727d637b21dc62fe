"""Who is acting, and over whom: access.py's pure rules asked of the stored tree and roles.

Each check returns what the caller needs next (the actor, the roles they act with, their
scopes) or raises Forbidden with the reason the pages translate. Read-only: the changes of
roles are roles.py's.
"""
from __future__ import annotations

from kernel.errors import Forbidden

from . import access, denominators


def authority(store, actor, roles=access.ADMIN_ROLES):
    """The acting member and the administrator roles they act with, or Forbidden. An
    inactive or disqualified member's roles authorise nothing until they are reactivated
    or reinstated (by someone else: see admin.reinstate)."""
    member = store.member(actor)
    held = [(r, u) for r, u in store.roles_of(actor) if r in roles] if member else []
    if member is None or member.status != "active" or not held:
        raise Forbidden("this needs an administrator's role", reason="not_an_admin")
    if member.disqualified:
        raise Forbidden("a disqualified administrator's roles are suspended until they "
                        "are reinstated", reason="roles_suspended")
    return member, held


def admin(store, actor, roles=access.ADMIN_ROLES):
    """The acting member and their scopes (None: everywhere), or Forbidden."""
    member, held = authority(store, actor, roles)
    return member, access.scopes_of(held)


def require_system_admin(store, actor) -> None:
    admin(store, actor, roles=("system_admin",))


def visible(parents: dict, scopes) -> list[str] | None:
    """Every node under the scopes (None: everywhere)."""
    if scopes is None:
        return None
    return sorted(set().union(*(access.subtree(parents, s) for s in scopes)))


def require_cover(store, actor, node_id) -> None:
    scopes = admin(store, actor)[1]
    if not access.covers(store.parents(), scopes, node_id):
        raise Forbidden("that member or unit is outside your part of the organisation",
                        reason="outside_scope")


def require_over(store, actor, member):
    """The actor acts on `member`'s node and on every node `member` administers."""
    held = authority(store, actor)[1]
    if not access.outranks(store.parents(), held, member.org_unit_id,
                           store.roles_of(member.id)):
        raise Forbidden(f"{member.name} is outside your part of the organisation, or "
                        "administers a part beyond yours", reason="outside_scope")
    return held


def require_count_keeper(store, held, member, before: dict, after: dict) -> None:
    """R18 (issue 18 item 4): a change into or out of `required`, or a required member's
    deactivation, is an organisation or system administrator's (`before`/`after`:
    denominators.standing)."""
    if denominators.changes_required(before, after) and not access.keeps_counts(
            store.parents(), held, member.org_unit_id):
        raise Forbidden(f"only an organisation or system administrator changes whether "
                        f"{member.name} is required to take part, or deactivates a required "
                        "member (R18: it changes the unit's participation rate)",
                        reason="required_needs_org_admin")


def require_over_decider(store, actor, held, decided_by) -> None:
    """A decision is undone by who made it or by an administrator above them."""
    if decided_by == actor:
        return
    decider = store.member(decided_by)
    if decider is None:  # the platform decided: a system administrator undoes it
        allowed = access.scopes_of(held) is None
    else:
        allowed = access.outranks(store.parents(), held, decider.org_unit_id,
                                  store.roles_of(decider.id))
    if not allowed:
        raise Forbidden("an administrator above you decided this; they or one above them "
                        "may reinstate", reason="decided_above_you")
