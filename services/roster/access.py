"""Who may act where (R4, architecture "Roles"). Pure: the tree comes in as {id: parent_id}.

A unit administrator acts inside their unit's subtree; an organisation administrator inside
their organisation's; a system administrator everywhere. R4's "exactly one administrator per
unit" concerns nodes of kind `unit`.
"""
from __future__ import annotations

ADMIN_ROLES = ("unit_admin", "organisation_admin", "system_admin")


def ancestors(parents: dict, node_id: str) -> list[str]:
    """The node and every node above it, from the node up to the root."""
    path, seen = [], set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        path.append(node_id)
        node_id = parents.get(node_id)
    return path


def subtree(parents: dict, root_id: str) -> set[str]:
    children: dict = {}
    for node, parent in parents.items():
        children.setdefault(parent, []).append(node)
    found, stack = set(), [root_id]
    while stack:
        node = stack.pop()
        if node in found:
            continue
        found.add(node)
        stack.extend(children.get(node, []))
    return found


def home_unit(parents: dict, kinds: dict, node_id: str) -> str | None:
    """The nearest node of kind `unit` at or above `node_id` (None: not inside a unit)."""
    return next((n for n in ancestors(parents, node_id) if kinds.get(n) == "unit"), None)


def scopes_of(roles: list[tuple[str, str]]) -> list[str] | None:
    """The roots an administrator acts under; None means everywhere (system administrator)."""
    if any(role == "system_admin" for role, _ in roles):
        return None
    return sorted({unit for role, unit in roles if role in ADMIN_ROLES})


def covers(parents: dict, scopes: list[str] | None, node_id: str) -> bool:
    if scopes is None:
        return True
    return any(root in scopes for root in ancestors(parents, node_id))


def may_grant(parents: dict, held: list[tuple[str, str]], role: str, node_id: str) -> bool:
    """Whether an administrator holding `held` may grant or remove `role` on `node_id`.

    A system administrator grants anything; nobody else grants `system_admin`. An
    organisation administrator appoints unit administrators below them and organisation
    administrators strictly below them (no peers). A unit administrator hands their own
    unit over to its next administrator (R4) and appoints nothing else.
    """
    for held_role, held_node in held:
        if held_role == "system_admin":
            return True
        if role == "system_admin":
            continue
        above = ancestors(parents, node_id)
        if held_role == "organisation_admin":
            if held_node in (above if role == "unit_admin" else above[1:]):
                return True
        elif held_role == "unit_admin" and role == "unit_admin" and held_node == node_id:
            return True
    return False


def keeps_counts(parents: dict, held: list[tuple[str, str]], node_id: str) -> bool:
    """Whether `held` includes an organisation or system administrator's role over
    `node_id`: only they take a member into or out of `required` or deactivate a required
    member (R18's denominators; a unit's administrator would be shrinking their own)."""
    higher = [(r, u) for r, u in held if r in ("organisation_admin", "system_admin")]
    return bool(higher) and covers(parents, scopes_of(higher), node_id)


def outranks(parents: dict, held: list[tuple[str, str]], node_id: str,
             their_roles: list[tuple[str, str]]) -> bool:
    """Whether an administrator holding `held` acts on a member placed at `node_id` who holds
    `their_roles`: on the member's node and on every node the member administers. A unit
    administrator cannot deactivate or disqualify (and so disarm) the system administrator
    who happens to sit in their unit."""
    scopes = scopes_of(held)
    if not covers(parents, scopes, node_id):
        return False
    theirs = scopes_of([(r, u) for r, u in their_roles if r in ADMIN_ROLES])
    if theirs is None:
        return scopes is None
    return all(covers(parents, scopes, root) for root in theirs)
