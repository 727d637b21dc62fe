"""The organisation sheet (issue 19): the tree from a sheet of 上级, 名称, 类型, 编码, one row a
node, parents above their children.

- 上级 names the parent: its 编码 (or id), its path from the top (`省总工会/省产业工会`) or its
  name when only one node has it; empty: the root (made when the tree is empty).
- 类型 is 组织/单位/支部 (organisation, unit, branch): nothing sits under a branch, no unit
  under a unit (R4's administrators are per unit).
- 编码 (optional, letters, digits, `.`, `_`, `-`, at most 36): the node's lasting name. A row
  is the node of its 编码 (a new node takes its 编码 as id), else the node of its path
  (上级 + 名称). With a 编码, a changed 上级 moves the node and a changed 名称 renames it;
  without one, a changed path is a new node.

Nodes keep their ids through moves and renames, so members keep their place (who belonged
where stays what it was); each creation, rename, move and change of kind is its own audit
entry, and the members under a moved or renamed node are announced again (`member_updated`:
their org_path and unit name). Rows are checked and applied one by one; a bad row is
reported by row and column with a `reason`, and the rows below it that need it fail too.
A dry run is rolled back. Only system administrators and organisation administrators
(strictly inside their organisation) import.
"""
from __future__ import annotations

import re
import uuid

from . import access
from .authority import authority
from .directory import member_event
from .models import OrgUnit

ORG_COLUMNS = {
    "上级": "parent", "上级组织": "parent", "parent": "parent",
    "名称": "name", "name": "name",
    "类型": "kind", "type": "kind", "kind": "kind",
    "编码": "code", "code": "code",
}
KINDS = {"组织": "organisation", "organisation": "organisation", "organization": "organisation",
         "单位": "unit", "unit": "unit", "支部": "branch", "branch": "branch"}
CODE = re.compile(r"[A-Za-z0-9._-]{1,36}")
# where each kind may sit: R4's administrators are per unit, so no unit inside a unit, and
# nothing under a branch
PARENT_KINDS = {"organisation": ("system", "organisation"), "unit": ("system", "organisation"),
                "branch": ("system", "organisation", "unit")}
COUNTS = ("total", "created", "updated", "unchanged")


class OrgRowError(Exception):
    def __init__(self, column: str, reason: str, message: str):
        super().__init__(message)
        self.column, self.reason, self.message = column, reason, message


def _text(row, key) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def parse_org_row(row: dict) -> dict:
    """One row's values, or OrgRowError naming the column. Pure."""
    name = _text(row, "name")
    if not name:
        raise OrgRowError("name", "name_missing", "the name (名称) is missing")
    if len(name) > 200 or "/" in name:
        raise OrgRowError("name", "bad_name", "a name has at most 200 characters and no '/'")
    kind_text = _text(row, "kind")
    kind = KINDS.get(kind_text.lower())
    if kind is None:
        raise OrgRowError("kind", "unknown_kind",
                          f"unknown kind '{kind_text}' (组织/单位/支部)")
    code = _text(row, "code") or None
    if code is not None and not CODE.fullmatch(code):
        raise OrgRowError("code", "bad_code", f"code '{code}': at most 36 letters, digits, "
                                              "'.', '_' or '-'")
    return {"name": name, "kind": kind, "code": code, "parent": _text(row, "parent") or None}


class _Tree:
    """The tree as the sheet changes it: nodes by id, by code, the paths of names."""

    def __init__(self, units: dict, root: OrgUnit):
        self.units, self.root = units, root

    def parents(self) -> dict:
        return {u.id: u.parent_id for u in self.units.values()}

    def by_code(self, code):
        return next((u for u in self.units.values() if u.code == code), None) \
            or self.units.get(code)

    def child(self, parent_id, name):
        return next((u for u in self.units.values()
                     if u.parent_id == parent_id and u.name == name), None)

    def path(self, node_id) -> str:
        names = [self.units[n].name for n in access.ancestors(self.parents(), node_id)
                 if n != self.root.id]
        return "/".join(reversed(names))

    def resolve_parent(self, ref):
        """The parent a 上级 cell names (OrgRowError when none or several)."""
        if ref is None:
            return self.root
        found = self.by_code(ref)
        if found is not None:
            return found
        if "/" in ref:
            node = self.root
            parts = [p.strip() for p in ref.strip("/").split("/")]
            if parts and parts[0] == self.root.name:
                parts = parts[1:]
            for part in parts:
                node = self.child(node.id, part)
                if node is None:
                    break
            if node is not None:
                return node
        else:
            named = [u for u in self.units.values() if u.name == ref]
            if len(named) == 1:
                return named[0]
            if len(named) > 1:
                raise OrgRowError("parent", "ambiguous_parent",
                                  f"'{ref}' names {len(named)} nodes: give its path "
                                  "(a/b) or its code")
        raise OrgRowError("parent", "unknown_parent",
                          f"no node '{ref}' (a parent's row goes above its children's)")


IMPORTERS = ("system_admin", "organisation_admin")


def importer_scopes(store, actor):
    """Where `actor` may import an organisation sheet (None: everywhere; Forbidden for a
    member who is neither a system nor an organisation administrator). `actor=None` is the
    platform itself (the demo loader, an operator's shell)."""
    if actor is None:
        return None
    return access.scopes_of(authority(store, actor, roles=IMPORTERS)[1])


def import_org(tx, rows, *, dry_run, actor, source, root) -> dict:
    """The report of applying the organisation sheet `rows` (data row i is sheet row i + 1)
    under `root` (bootstrap.root). A dry run's changes are discarded; `audit_org_import`
    records it afterwards."""
    scopes = importer_scopes(tx.store, actor)
    tree = _Tree(tx.store.units(), root)
    report = {"total": len(rows), "created": 0, "updated": 0, "unchanged": 0, "errors": [],
              "warnings": [], "dry_run": dry_run}
    seen, moved = {}, set()
    for index, row in enumerate(rows, start=2):
        try:
            data = parse_org_row(row)
            outcome = _apply(tx, tree, scopes, actor, data, index, seen, moved)
        except OrgRowError as err:
            report["errors"].append({"row": index, "column": err.column,
                                     "reason": err.reason, "value": _text(row, err.column),
                                     "message": err.message})
            continue
        report[outcome] += 1
    tx.store.flush()
    _announce_members(tx, tree, moved)
    report["warnings"] = units_without_admin(tx.store, tree.units, scopes)
    if dry_run:
        tx.discard()
    else:
        audit_org_import(tx, report, actor=actor, source=source)
    return report


def audit_org_import(tx, report, *, actor, source) -> None:
    """The import's audit entry (a dry run's in a transaction of its own)."""
    scopes = importer_scopes(tx.store, actor)
    tx.store.audit("org_import_dry_run" if report["dry_run"] else "org_imported",
                   actor=actor, target=source,
                   scope_id=scopes[0] if scopes and len(scopes) == 1 else None,
                   detail={k: report[k] for k in COUNTS} | {"errors": len(report["errors"])})


def units_without_admin(store, units: dict, scopes) -> list[dict]:
    """R4: the units (within `scopes`) that have no administrator yet."""
    parents = {u.id: u.parent_id for u in units.values()}
    unit_ids = [u.id for u in units.values() if u.kind == "unit"
                and access.covers(parents, scopes, u.id)]
    held = store.units_with_admin(unit_ids)
    return [{"unit_id": u, "name": units[u].name, "reason": "unit_without_admin"}
            for u in sorted(unit_ids, key=lambda i: (units[i].name, i)) if u not in held]


def _apply(tx, tree, scopes, actor, data, index, seen, moved) -> str:
    parent = tree.resolve_parent(data["parent"])
    key = data["code"] or (parent.id, data["name"])
    if key in seen:
        raise OrgRowError("code" if data["code"] else "name", "duplicate_row",
                          f"the same node as row {seen[key]}")
    node = tree.by_code(data["code"]) if data["code"] else None
    if node is None:
        node = tree.child(parent.id, data["name"])
        if node is not None and data["code"] and node.code not in (None, data["code"]):
            node = None  # another node's place: a new node of that name is refused below
    if node is not None and node.id == tree.root.id:
        raise OrgRowError("code", "root_in_sheet", "the root is not a row of the sheet")
    parents = tree.parents()
    if not access.covers(parents, scopes, parent.id) or (
            node is not None and (not access.covers(parents, scopes, node.id)
                                  or (scopes is not None and node.id in scopes))):
        raise OrgRowError("parent", "outside_scope",
                          "outside your part of the organisation (an organisation "
                          "administrator changes the nodes strictly inside theirs)")
    if parent.kind not in PARENT_KINDS[data["kind"]]:
        raise OrgRowError("parent", "bad_parent",
                          f"a {data['kind']} cannot sit under the {parent.kind} {parent.name}")
    clash = tree.child(parent.id, data["name"])
    if clash is not None and (node is None or clash.id != node.id):
        raise OrgRowError("name", "name_taken",
                          f"'{tree.path(clash.id)}' exists already (with another code)")
    seen[key] = index
    if node is None:
        return _create(tx, tree, actor, data, parent)
    return _update(tx, tree, actor, data, parent, node, moved)


def _create(tx, tree, actor, data, parent) -> str:
    code = data["code"]
    node_id = code if code and code not in tree.units else str(uuid.uuid4())
    node = OrgUnit(id=node_id, parent_id=parent.id, kind=data["kind"], name=data["name"],
                   code=code, created_at=tx.now)
    tx.store.add(node)
    tree.units[node.id] = node
    tx.store.audit("org_unit_created", actor=actor, target=node.id, scope_id=node.id,
                   detail={"name": node.name, "kind": node.kind, "parent_id": parent.id,
                           "code": code})
    return "created"


def _update(tx, tree, actor, data, parent, node, moved) -> str:
    changes = {}
    below = access.subtree(tree.parents(), node.id)
    if data["kind"] != node.kind:
        if len(below) > 1 or tx.store.member_count_in(below) or tx.store.roles_on(below):
            raise OrgRowError("kind", "kind_in_use", f"{node.name} has members or nodes "
                                                     f"below it: its kind stays {node.kind}")
        changes["kind"] = [node.kind, data["kind"]]
    if parent.id != node.parent_id:
        if parent.id in below:
            raise OrgRowError("parent", "cycle", f"{parent.name} is inside {node.name}")
        _check_move(tx.store, tree, node, parent, below)
        changes["parent_id"] = [node.parent_id, parent.id]
    if data["name"] != node.name:
        changes["name"] = [node.name, data["name"]]
    if data["code"] and node.code != data["code"]:
        changes["code"] = [node.code, data["code"]]
    if not changes:
        return "unchanged"
    path_before = tree.path(node.id)
    node.kind, node.parent_id, node.name = data["kind"], parent.id, data["name"]
    node.code = data["code"] or node.code
    action = ("org_unit_moved" if "parent_id" in changes else
              "org_unit_renamed" if "name" in changes else "org_unit_changed")
    tx.store.audit(action, actor=actor, target=node.id, scope_id=node.id,
                   detail=changes | {"path": [path_before, tree.path(node.id)]})
    if "parent_id" in changes or "name" in changes:
        moved.add(node.id)
    return "updated"


def _check_move(store, tree, node, parent, below) -> None:
    """R4 through a move: a unit's administrator stays inside their unit, and members are
    not moved into a unit that has no administrator yet."""
    parents = tree.parents()
    kinds = {u.id: u.kind for u in tree.units.values()}
    after = dict(parents, **{node.id: parent.id})
    for place, unit_id in store.unit_admins_placed_in(below):
        if unit_id not in access.ancestors(after, place):
            raise OrgRowError("parent", "admin_would_leave",
                              f"the administrator of {tree.units[unit_id].name} sits in "
                              f"{node.name}: appoint another administrator first (R4)")
    home_before = access.home_unit(parents, kinds, node.id)
    home_after = access.home_unit(after, kinds, node.id)
    if (home_after is not None and home_after != home_before
            and store.member_count_in(below)
            and not store.units_with_admin([home_after])):
        raise OrgRowError("parent", "unit_without_admin",
                          f"{tree.units[home_after].name} has no administrator yet: "
                          "members are moved into it once it has one (R4)")


def _announce_members(tx, tree, moved) -> None:
    """Members under a moved or renamed node keep their node; their path and unit's name
    changed: other services' replicas learn it from `member_updated`."""
    if not moved:
        return
    parents = tree.parents()
    below = set().union(*(access.subtree(parents, n) for n in moved))
    for member in tx.store.members_in(below):
        tx.emit("member_updated", member_event(member, tree.units))
