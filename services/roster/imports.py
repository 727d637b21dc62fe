"""Importing a member sheet (R3, R4): the good rows applied, the bad ones reported by row and
column, re-imports updating members by phone and never duplicating them.

The sheet is read in two passes. The first checks each row alone and against the rows before
it (the place exists and is the importer's, the phone is new to the sheet and not another
unit's, one administrator mark per unit, what the importer may grant). The second applies
the good rows of every unit that ends with exactly one administrator (R4); a unit that would
be left with none has none of its rows applied, and the report says why.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import eventlet

from . import access, denominators, roles
from .authority import authority
from .directory import member_event
from .members import RowError, parse_row
from .models import Member

# what a member's own row may not change: where, and whether, they take part (R1, R2)
NOT_SELF_EDITABLE = ("org_unit_id", "category", "participation")
COUNTS = ("total", "created", "updated", "unchanged", "skipped")


@dataclass
class Importer:
    """The administrator uploading a sheet: what their roles let its rows do."""
    member: Member
    held: list
    scopes: list | None = field(init=False)

    def __post_init__(self):
        self.scopes = access.scopes_of(self.held)


def importer_of(store, actor) -> Importer | None:
    """The administrator `actor` as an importer (Forbidden for a member without the roles);
    None: the platform itself (the demo loader, an operator's shell)."""
    return Importer(*authority(store, actor)) if actor is not None else None


@dataclass
class _Sheet:
    """What the first pass knows: the tree, the members and roles before the sheet, and the
    rows found good so far."""
    units: dict
    members: dict
    roles_of: dict
    scopes: list | None
    parents: dict = field(init=False)
    kinds: dict = field(init=False)
    by_name: dict = field(init=False)
    seen_phones: dict = field(default_factory=dict)
    admin_rows: dict = field(default_factory=dict)
    good: list = field(default_factory=list)

    def __post_init__(self):
        self.parents = {u.id: u.parent_id for u in self.units.values()}
        self.kinds = {u.id: u.kind for u in self.units.values()}
        self.by_name = {}
        for node in self.units.values():
            self.by_name.setdefault(node.name, []).append(node.id)


def import_members(tx, rows, *, dry_run, actor, source, unit) -> dict:
    """The report of applying `rows` (sheet rows as dicts: data row i is the sheet's row
    i + 1). Rows without a unit are in `unit` (id or name). A dry run's changes are
    discarded; `audit_import` records it afterwards."""
    importer = importer_of(tx.store, actor)
    sheet = _Sheet(tx.store.units(), tx.store.members_by_phone(), tx.store.roles_by_member(),
                   importer.scopes if importer else None)
    report = {"total": len(rows), "created": 0, "updated": 0, "unchanged": 0,
              "skipped": 0, "errors": [], "dry_run": dry_run}
    for index, row in enumerate(rows, start=2):
        _let_others_run(index)
        try:
            _check_row(sheet, importer, index, row, unit)
        except RowError as err:
            report["errors"].append(err.entry(index))
    orphans = _units_left_without_admin(tx.store, sheet)
    for unit_id in sorted(orphans):
        rows_of_unit = [i for i, _, _, home in sheet.good if home == unit_id]
        report["skipped"] += len(rows_of_unit)
        report["errors"].append({
            "row": None, "column": "remarks", "unit": unit_id,
            "reason": "unit_left_without_admin",
            "params": {"unit": sheet.units[unit_id].name, "n": len(rows_of_unit)},
            "message": f"unit {sheet.units[unit_id].name} would have no administrator: mark "
                       "exactly one of its rows 管理员 in the remarks (R4); none of its "
                       f"{len(rows_of_unit)} good row(s) were applied"})
    for index, data, place, home in sheet.good:
        _let_others_run(index, tx.store.flush)  # written a chunk at a time, not all at the end
        if home not in orphans:
            report[_apply(tx, sheet, data, place, home, actor)] += 1
    tx.store.flush()
    report["errors"].sort(key=lambda e: (e["row"] is None, e["row"] or 0))
    if dry_run:
        tx.discard()
    else:
        audit_import(tx, report, actor=actor, source=source, importer=importer)
    return report


def audit_import(tx, report, *, actor, source, importer) -> None:
    """The import's audit entry; a dry run is audited too (in a transaction of its own,
    after its changes were discarded): its report says who is on the sheet and where."""
    scopes = importer.scopes if importer else None
    tx.store.audit("members_import_dry_run" if report["dry_run"] else "members_imported",
                    actor=actor, target=source,
                    scope_id=scopes[0] if scopes and len(scopes) == 1 else None,
                    detail={k: report[k] for k in COUNTS} | {"errors": len(report["errors"])})


def _check_row(sheet, importer, index, row, default_unit) -> None:
    """One row of the first pass: RowError naming the column, or the row joins `good`."""
    if default_unit and not str(row.get("unit") or "").strip():
        row = dict(row, unit=default_unit)
    data = parse_row(row)
    parents, kinds, units = sheet.parents, sheet.kinds, sheet.units
    place_ref = data["branch"] or data["unit"]
    unit_ref = _resolve(data["unit"], units, sheet.by_name, "unit")
    place = _resolve(data["branch"], units, sheet.by_name, "branch") \
        if data["branch"] else unit_ref
    if data["branch"] and unit_ref not in access.ancestors(parents, place):
        raise RowError("branch", f"branch '{place_ref}' is not inside unit '{data['unit']}'",
                       "branch_outside_unit", place_ref, unit=data["unit"])
    if not access.covers(parents, sheet.scopes, place):
        raise RowError("unit", f"'{place_ref}' is outside your part of the organisation",
                       "place_outside_scope", place_ref)
    home = access.home_unit(parents, kinds, place)
    if data["phone"] in sheet.seen_phones:
        raise RowError("phone", f"phone {data['phone']} is already on row "
                                f"{sheet.seen_phones[data['phone']]}", "phone_repeated",
                       data["phone"], other=sheet.seen_phones[data["phone"]])
    known = sheet.members.get(data["phone"])
    if known is not None:
        known_home = access.home_unit(parents, kinds, known.org_unit_id)
        if (known_home or known.org_unit_id) != (home or place):
            raise _elsewhere(data["phone"], known, units[known_home or known.org_unit_id],
                             access.covers(parents, sheet.scopes, known.org_unit_id))
    if data["unit_admin"]:
        if home is None:
            raise RowError("remarks", f"'{place_ref}' is not inside a unit; unit "
                                      "administrators belong to a unit (R4)",
                           "admin_outside_unit", place_ref)
        if home in sheet.admin_rows:
            raise RowError("remarks", f"unit {units[home].name} already has its "
                                      f"administrator on row {sheet.admin_rows[home]} "
                                      "(R4: exactly one per unit)", "second_admin",
                           unit=units[home].name, other=sheet.admin_rows[home])
    if data["higher_role"]:
        data["role_node"] = _role_node(data["higher_role"], place, parents, kinds)
    if importer is not None:
        _row_authority(importer, data, _values(data, place), home, known, parents,
                       sheet.roles_of.get(known.id, []) if known else [])
    sheet.seen_phones[data["phone"]] = index
    if data["unit_admin"]:
        sheet.admin_rows[home] = index
    sheet.good.append((index, data, place, home))


def _units_left_without_admin(store, sheet) -> set:
    touched = {home for _, _, _, home in sheet.good if home}
    has_admin = store.units_with_admin(touched)
    return {u for u in touched if u not in sheet.admin_rows and u not in has_admin}


def _apply(tx, sheet, data, place, home, actor) -> str:
    """One good row of the second pass: created, updated or unchanged."""
    member = sheet.members.get(data["phone"])
    values = _values(data, place)
    if member is None:
        member = Member(id=str(uuid.uuid4()), phone=data["phone"], status="active",
                        disqualified=False, created_at=tx.now, updated_at=tx.now, **values)
        tx.store.add(member)
        sheet.members[data["phone"]] = member
        outcome, event = "created", "member_registered"
    elif any(getattr(member, k) != v for k, v in values.items()):
        counts_before = denominators.standing(member)
        for k, v in values.items():
            setattr(member, k, v)
        member.updated_at = tx.now
        denominators.record_left(tx, actor, member, counts_before, sheet.units)
        outcome, event = "updated", "member_updated"
    else:
        outcome, event = "unchanged", None
    if event:
        tx.emit(event, member_event(member, sheet.units))
    if data["unit_admin"]:
        tx.store.flush()  # the member's row before their role's
        roles.appoint(tx, home, member, actor)
    if data["higher_role"]:
        tx.store.flush()
        roles.grant(tx, member.id, data["higher_role"], data["role_node"], actor)
    return outcome


def _resolve(ref, units, by_name, column):
    """An org unit named by id, or else by a name that is unambiguous."""
    if ref in units:
        return ref
    ids = by_name.get(ref, [])
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise RowError(column, f"'{ref}' names {len(ids)} org units; use the unit's id",
                       "ambiguous_place", ref, n=len(ids))
    raise RowError(column, f"unknown {column} '{ref}'",
                   "unknown_branch" if column == "branch" else "unknown_unit", ref)


def _values(data, place) -> dict:
    """A sheet row's member fields as the member table holds them."""
    return {"name": data["name"], "department": data["department"], "org_unit_id": place,
            "category": data["category"], "participation": data["participation"]}


def _elsewhere(phone, known, other_unit, visible) -> str:
    """A row error for a phone already registered in another unit. Who holds it and where
    are said only to an administrator who may see that member: a sheet must not be a way to
    look up any phone's owner."""
    if visible:
        return RowError("phone", f"phone {phone} belongs to {known.name} of "
                                 f"{other_unit.name}; move them in the member editor if that "
                                 "is intended", "phone_in_unit", phone, name=known.name,
                        unit=other_unit.name)
    return RowError("phone", f"phone {phone} belongs to a member of another unit",
                    "phone_elsewhere", phone)


def _role_node(role, place, parents, kinds) -> str:
    """Where a sheet's higher role sits: a system administrator at the root, an organisation
    administrator at the row's organisation."""
    above = access.ancestors(parents, place)
    if role == "system_admin":
        return above[-1]
    node = next((n for n in above if kinds.get(n) == "organisation"), None)
    if node is None:
        raise RowError("role", "organisation administrators belong to an organisation; "
                               "this row's place is in none", "role_outside_organisation")
    return node


def _row_authority(importer, data, values, home, known, parents, their_roles):
    """One row of an administrator's sheet, against what the administrator may do (RowError
    otherwise): grant only the roles they may grant (access.may_grant), never to themself;
    leave their own place and participation to another administrator; change no
    administrator whose part of the organisation is beyond theirs; take nobody into or out of
    `required` unless an organisation or system administrator over them (R18's
    denominators)."""
    own = known is not None and known.id == importer.member.id
    asked = [("unit_admin", home, data["admin_column"])] if data["unit_admin"] else []
    if data["higher_role"]:
        asked.append((data["higher_role"], data["role_node"], "role"))
    for role, node, column in asked:
        if (role, node) in their_roles:
            continue  # held already: the row grants nothing
        if not access.may_grant(parents, importer.held, role, node):
            raise RowError(column, f"you may not grant the role {role} here",
                           "may_not_grant_role")
        if own:
            raise RowError(column, "nobody grants themself a role; ask another administrator",
                           "self_grant")
    changed = [k for k, v in values.items() if known is not None and getattr(known, k) != v]
    if own:
        fixed = [k for k in changed if k in NOT_SELF_EDITABLE]
        if fixed:
            column = {"org_unit_id": "branch" if data["branch"] else "unit"}.get(fixed[0],
                                                                              fixed[0])
            raise RowError(column, "your own place, category and participation are changed "
                                   "by another administrator", "self_edit")
    elif changed and their_roles and not access.outranks(parents, importer.held,
                                                         known.org_unit_id, their_roles):
        raise RowError("phone", f"phone {data['phone']} belongs to an administrator of a part "
                                "of the organisation beyond yours; only an administrator "
                                "above them may change them", "admin_beyond_scope",
                       data["phone"])
    if "participation" in changed and denominators.changes_required(
            denominators.standing(known), dict(denominators.standing(known),
                                               participation=values["participation"])) \
            and not access.keeps_counts(parents, importer.held, known.org_unit_id):
        raise RowError("participation", "only an organisation or system administrator changes "
                                        "whether a member is required to take part (R18: it "
                                        "changes the unit's participation rate); without a "
                                        "participation column it follows the category",
                       "required_needs_org_admin", values["participation"])


def _let_others_run(row_index, flush=None, every=250):
    """A 20,000-row sheet is seconds of Python: yield to the hub every `every` rows (after
    writing what the last ones changed, when `flush` is given) so the other services of the
    process (the embedded platform) go on answering members."""
    if row_index % every == 0:
        if flush is not None:
            flush()
        eventlet.sleep(0)
