"""roster: the organisation tree, members and their roles (R1–R4), phone login, and the
disqualifications of R20. Every administrator's change is checked against the actor's part of
the tree and written to the audit log in the same transaction."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import eventlet
from nameko.dependency_providers import Config
from sqlalchemy import func, or_, select

from kernel import audit, sheets
from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import rpc
from kernel.errors import BadInput, Conflict, Forbidden, NotFound, RateLimited, Unauthorized, load
from kernel.outbox import Outbox
from kernel.logs import WorkerContext
from kernel.signing import SecretRequired

from . import access, login
from .members import (
    SHEET_COLUMNS, RowError, mask_phone, normalise_phone, parse_row, phone_digits,
)
from .models import Base, Disqualification, LoginCode, Member, OrgUnit, Role
from .schemas import (
    AuditIn, CodeIn, DecisionIn, ImportIn, MemberChangesIn, MemberFilterIn, MemberOut,
    OrgUnitIn, ParticipationIn, RoleChangeIn,
)
from .sms import sender_for

INVALID_CODE = "invalid or expired code"
EDITABLE = ("name", "department", "org_unit_id", "category", "participation", "status")


class RosterService(entrypoints.Answers):
    name = "roster"
    logs = WorkerContext()  # the correlation id and service in every log line

    db = Database("roster", Base)
    events = Outbox()
    clock = Clock()
    config = Config()
    secret = SecretRequired()  # holds CHALLENGE_SECRET: no start without a usable one

    # -- the tree --------------------------------------------------------------------------

    @rpc
    def upsert_org_units(self, nodes, actor=None):
        """Add or rename nodes of the tree (system administrators; `actor=None` is the
        platform itself, e.g. the demo loader)."""
        nodes = [load(OrgUnitIn(), node, f"org unit {i + 1}") for i, node in enumerate(nodes)]
        if actor is not None:
            self._require_system_admin(actor)
        known = {u.id: u for u in self.db.scalars(select(OrgUnit))}
        now = self.clock.now()
        for node in nodes:
            if node["parent_id"] is not None and node["parent_id"] not in known:
                raise BadInput(f"org unit {node['id']}: parent {node['parent_id']} is unknown",
                               fields={"parent_id": [node["parent_id"]]})
            unit = known.get(node["id"])
            if unit is None:
                unit = OrgUnit(created_at=now, **node)
                self.db.add(unit)
            else:
                unit.parent_id, unit.kind, unit.name = node["parent_id"], node["kind"], node["name"]
            known[node["id"]] = unit
        parents = {u.id: u.parent_id for u in known.values()}
        for node in nodes:
            if node["id"] in access.ancestors(parents, node["parent_id"]):
                raise BadInput(f"org unit {node['id']}: the tree would have a cycle",
                               fields={"parent_id": [node["parent_id"]]})
        audit.record(self.db, "org_units_upserted", actor=actor, target=None,
                     scope_id=None, detail={"nodes": nodes})
        self.db.commit()
        return len(nodes)

    @rpc
    def org_tree(self):
        """Every node with its parent, kind, name, member count and (units) administrator."""
        counts = dict(self.db.execute(select(Member.org_unit_id, func.count())
                                      .group_by(Member.org_unit_id)).all())
        admins = {role.org_unit_id: role.member_id for role in self.db.scalars(
            select(Role).where(Role.role == "unit_admin"))}
        names = dict(self.db.execute(select(Member.id, Member.name)
                                     .where(Member.id.in_(list(admins.values())))).all())
        return [{
            "id": u.id, "parent_id": u.parent_id, "kind": u.kind, "name": u.name,
            "members": counts.get(u.id, 0),
            "admin": ({"member_id": admins[u.id], "name": names.get(admins[u.id])}
                      if u.id in admins else None),
        } for u in self.db.scalars(select(OrgUnit).order_by(OrgUnit.created_at, OrgUnit.id))]

    # -- who may act -----------------------------------------------------------------------

    @rpc
    def authorize(self, actor, node_id=None, roles=access.ADMIN_ROLES):
        """The actor's administrator roles, if they include one of `roles` covering `node_id`
        (any node when None); else Forbidden. For the gateway and other services: `scopes`
        are the roots the actor acts under and `visible` every node below them (both None
        for a system administrator)."""
        member, scopes = self._admin(actor, roles)
        parents = self._parents()
        if node_id is not None and not access.covers(parents, scopes, node_id):
            raise Forbidden(f"{node_id} is outside your part of the organisation",
                            reason="outside_scope")
        visible = None if scopes is None else sorted(
            set().union(*(access.subtree(parents, s) for s in scopes)))
        return {"member_id": member.id, "name": member.name, "scopes": scopes,
                "visible": visible,
                "roles": [{"role": r, "org_unit_id": u} for r, u in self._roles(member.id)]}

    # -- members ---------------------------------------------------------------------------

    @rpc
    def import_sheet(self, content_b64, filename, dry_run=False, actor=None, unit=None):
        """A member sheet as uploaded (CSV in UTF-8/GBK, XLSX): a file that is not a sheet
        is one clear error and changes nothing; otherwise as `import_members`. The seed's
        sheet has no unit column (each unit reports its own): `unit` names it then."""
        if actor is not None:
            self._authority(actor)  # a member's upload is refused before it is read
        rows = sheets.read_upload(content_b64, filename, SHEET_COLUMNS)
        return self.import_members(rows, dry_run=dry_run, actor=actor, source=filename,
                                   unit=unit)

    @rpc
    def import_members(self, rows, dry_run=False, actor=None, source=None, unit=None):
        """Apply the good rows, report the bad ones by row and column (R3, R4).

        Re-importing updates members by phone and never duplicates them. Row numbers are a
        sheet's: the header is row 1, so data row i is reported as row i + 1. A unit (node of
        kind `unit`) must end with exactly one administrator: a sheet that marks two is an
        error on the second; a unit that would be left with none has none of its rows applied
        (R4), and the report says why. Rows without a unit are in `unit` (id or name).
        """
        args = load(ImportIn(), {"rows": rows, "dry_run": dry_run})
        default_unit = unit
        if default_unit is not None and not isinstance(default_unit, str):
            raise BadInput("unit must be an org unit's id or name", fields={"unit": [unit]})
        # None: the platform itself (the demo loader, an operator's shell)
        importer = _Importer(*self._authority(actor)) if actor is not None else None
        scopes = importer.scopes if importer else None
        units = {u.id: u for u in self.db.scalars(select(OrgUnit))}
        parents = {u.id: u.parent_id for u in units.values()}
        kinds = {u.id: u.kind for u in units.values()}
        by_name: dict = {}
        for node in units.values():
            by_name.setdefault(node.name, []).append(node.id)
        members = {m.phone: m for m in self.db.scalars(select(Member))}
        roles_of: dict = {}
        for role in self.db.scalars(select(Role)):
            roles_of.setdefault(role.member_id, []).append((role.role, role.org_unit_id))
        report = {"total": len(args["rows"]), "created": 0, "updated": 0, "unchanged": 0,
                  "skipped": 0, "errors": [], "dry_run": args["dry_run"]}
        seen_phones, admin_rows, good = {}, {}, []
        for index, row in enumerate(args["rows"], start=2):
            _let_others_run(index)
            try:
                if default_unit and not str(row.get("unit") or "").strip():
                    row = dict(row, unit=default_unit)
                data = parse_row(row)
                place_ref = data["branch"] or data["unit"]
                unit_ref = _resolve(data["unit"], units, by_name, "unit")
                place = _resolve(data["branch"], units, by_name, "branch") \
                    if data["branch"] else unit_ref
                if data["branch"] and unit_ref not in access.ancestors(parents, place):
                    raise RowError("branch", f"branch '{place_ref}' is not inside unit "
                                             f"'{data['unit']}'")
                if not access.covers(parents, scopes, place):
                    raise RowError("unit", f"'{place_ref}' is outside your part of the "
                                           "organisation")
                home = access.home_unit(parents, kinds, place)
                if data["phone"] in seen_phones:
                    raise RowError("phone", f"phone {data['phone']} is already on row "
                                            f"{seen_phones[data['phone']]}")
                known = members.get(data["phone"])
                if known is not None:
                    known_home = access.home_unit(parents, kinds, known.org_unit_id)
                    if (known_home or known.org_unit_id) != (home or place):
                        raise RowError("phone", _elsewhere(
                            data["phone"], known, units[known_home or known.org_unit_id],
                            access.covers(parents, scopes, known.org_unit_id)))
                if data["unit_admin"]:
                    if home is None:
                        raise RowError("remarks", f"'{place_ref}' is not inside a unit; unit "
                                                  "administrators belong to a unit (R4)")
                    if home in admin_rows:
                        raise RowError("remarks", f"unit {units[home].name} already has its "
                                                  f"administrator on row {admin_rows[home]} "
                                                  "(R4: exactly one per unit)")
                if data["higher_role"]:
                    data["role_node"] = _role_node(data["higher_role"], place, parents, kinds)
                if importer is not None:
                    _row_authority(importer, data, _values(data, place), home, known, parents,
                                   roles_of.get(known.id, []) if known else [])
            except RowError as err:
                report["errors"].append({"row": index, "column": err.column,
                                         "message": err.message})
                continue
            seen_phones[data["phone"]] = index
            if data["unit_admin"]:
                admin_rows[home] = index
            good.append((index, data, place, home))
        orphans = self._units_left_without_admin({home for _, _, _, home in good if home},
                                                 admin_rows)
        for unit_id in sorted(orphans):
            rows_of_unit = [i for i, _, _, home in good if home == unit_id]
            report["skipped"] += len(rows_of_unit)
            report["errors"].append({
                "row": None, "column": "remarks", "unit": unit_id,
                "message": f"unit {units[unit_id].name} would have no administrator: mark "
                           "exactly one of its rows 管理员 in the remarks (R4); none of its "
                           f"{len(rows_of_unit)} good row(s) were applied"})
        now = self.clock.now()
        emitted = []
        for index, data, place, home in good:
            _let_others_run(index)
            if home in orphans:
                continue
            outcome = self._apply(data, place, home, units, members, actor, now, emitted)
            report[outcome] += 1
        self.db.flush()
        self.events.emit_many(emitted)
        report["errors"].sort(key=lambda e: (e["row"] is None, e["row"] or 0))
        if args["dry_run"]:
            self.db.rollback()
        # a dry run is audited too: its report says who is on the sheet and where
        audit.record(self.db, "members_import_dry_run" if args["dry_run"] else "members_imported",
                     actor=actor, target=source,
                     scope_id=scopes[0] if scopes and len(scopes) == 1 else None,
                     detail={k: report[k] for k in
                             ("total", "created", "updated", "unchanged", "skipped")}
                     | {"errors": len(report["errors"])})
        self.db.commit()
        return report

    def _units_left_without_admin(self, units_touched, admin_rows) -> set:
        has_admin = set(self.db.scalars(select(Role.org_unit_id).where(
            Role.role == "unit_admin", Role.org_unit_id.in_(list(units_touched)))))
        return {u for u in units_touched if u not in admin_rows and u not in has_admin}

    def _apply(self, data, place, home, units, members, actor, now, emitted) -> str:
        member = members.get(data["phone"])
        values = _values(data, place)
        if member is None:
            member = Member(id=str(uuid.uuid4()), phone=data["phone"], status="active",
                            disqualified=False, created_at=now, updated_at=now, **values)
            self.db.add(member)
            members[data["phone"]] = member
            outcome, event = "created", "member_registered"
        elif any(getattr(member, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(member, k, v)
            member.updated_at = now
            outcome, event = "updated", "member_updated"
        else:
            outcome, event = "unchanged", None
        if event:
            emitted.append((event, self._member_event(member, units)))
        if data["unit_admin"]:
            self.db.flush()
            self._appoint(home, member, actor, emitted)
        if data["higher_role"]:
            self.db.flush()
            self._grant_role(member.id, data["higher_role"], data["role_node"], actor, emitted)
        return outcome

    def _appoint(self, unit_id, member, actor, emitted):
        """Make `member` the unit's one administrator (R4), replacing any other."""
        current = self.db.scalars(select(Role).where(
            Role.role == "unit_admin", Role.org_unit_id == unit_id)).all()
        if [r.member_id for r in current] == [member.id]:
            return
        for role in current:
            self._revoke_role(role, actor, emitted)
        self.db.flush()
        self._grant_role(member.id, "unit_admin", unit_id, actor, emitted,
                         detail={"replaced": [r.member_id for r in current]})

    @rpc
    def get_member(self, member_id, actor=None):
        member = self.db.get(Member, member_id)
        if member is None:
            raise NotFound("no such member")
        if actor is not None:
            self._require_cover(actor, member.org_unit_id)
        return self._member_out(member)

    @rpc
    def play_status(self, member_id):
        """Whether a member may play now (R20): their status and disqualification, one row
        read, for the gateway to ask before each start and submit (a token outlives both)."""
        member = self.db.get(Member, member_id)
        if member is None:
            raise NotFound("no such member")
        return {"status": member.status, "disqualified": member.disqualified}

    @rpc
    def count_members(self):
        return self.db.scalar(select(func.count()).select_from(Member))

    @rpc
    def list_members(self, limit=50, offset=0, query=None, actor=None, unit_id=None,
                     status=None, disqualified=None):
        """Members by name, paged; filtered by a search (name or phone digits), a subtree,
        status and disqualification; an administrator sees their own subtree only."""
        args = load(MemberFilterIn(), {"limit": limit, "offset": offset, "query": query,
                                       "unit_id": unit_id, "status": status,
                                       "disqualified": disqualified})
        parents = self._parents()
        allowed = None
        if actor is not None:
            scopes = self._admin(actor)[1]
            if scopes is not None:
                allowed = set().union(*(access.subtree(parents, s) for s in scopes))
        if args["unit_id"]:
            if args["unit_id"] not in parents:
                raise NotFound(f"no org unit {args['unit_id']}")
            inside = access.subtree(parents, args["unit_id"])
            allowed = inside if allowed is None else allowed & inside
        stmt = select(Member)
        if allowed is not None:
            stmt = stmt.where(Member.org_unit_id.in_(sorted(allowed)))
        if args["query"]:
            like = f"%{args['query']}%"
            # phones are stored as ASCII digits: a full-width search finds them too
            digits = phone_digits(args["query"])
            stmt = stmt.where(or_(Member.name.like(like),
                                  Member.phone.like(f"%{digits}%" if digits else like),
                                  Member.department.like(like)))
        if args["status"]:
            stmt = stmt.where(Member.status == args["status"])
        if args["disqualified"] is not None:
            stmt = stmt.where(Member.disqualified.is_(args["disqualified"]))
        total = self.db.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = self.db.scalars(stmt.order_by(Member.name, Member.id)
                               .limit(args["limit"]).offset(args["offset"])).all()
        units = {u.id: u for u in self.db.scalars(select(OrgUnit))}
        return {"total": total, "items": [self._member_out(m, units) for m in rows]}

    @rpc
    def roster_for_scoring(self):
        """Every member's place, participation and status (R18's denominators)."""
        parents = self._parents()
        return [{"member_id": m.id, "participation": m.participation, "status": m.status,
                 "org_path": list(reversed(access.ancestors(parents, m.org_unit_id)))}
                for m in self.db.scalars(select(Member).order_by(Member.id))]

    @rpc
    def member_places(self, member_ids):
        """Where each of these members sits (org unit, department) and their name, for
        lists another service holds by member id (awards' ledger, scoped views)."""
        ids = [str(m) for m in (member_ids or [])][:10_000]
        return {m.id: {"name": m.name, "org_unit_id": m.org_unit_id,
                       "department": m.department or ""}
                for m in self.db.scalars(select(Member).where(Member.id.in_(ids)))}

    @rpc
    def update_member(self, actor, member_id, changes):
        """An administrator's edit of one member (any of EDITABLE). A unit's administrator
        cannot leave the unit or become inactive until another is appointed (R4)."""
        changes = load(MemberChangesIn(), changes, "changes")
        member = self._member(member_id)
        if member.id == actor:
            self._authority(actor)
            if set(changes) & set(NOT_SELF_EDITABLE + ("status",)):
                raise Forbidden("your own place, category, participation and status are "
                                "changed by another administrator", reason="self_edit")
        else:
            self._require_over(actor, member)
        units = {u.id: u for u in self.db.scalars(select(OrgUnit))}
        parents = {u.id: u.parent_id for u in units.values()}
        if "org_unit_id" in changes:
            if changes["org_unit_id"] not in units:
                raise BadInput(f"no org unit {changes['org_unit_id']}",
                               fields={"org_unit_id": ["unknown org unit"]})
            self._require_cover(actor, changes["org_unit_id"])
        before = {k: getattr(member, k) for k in EDITABLE}
        after = dict(before, **changes)
        if after == before:
            return self._member_out(member)
        for role in self.db.scalars(select(Role).where(Role.member_id == member.id,
                                                       Role.role == "unit_admin")):
            leaves = role.org_unit_id not in access.ancestors(parents, after["org_unit_id"])
            if leaves or after["status"] != "active":
                raise Conflict(f"{member.name} is the administrator of "
                               f"{units[role.org_unit_id].name}; appoint another administrator "
                               "first (R4: exactly one per unit)",
                               fields={"org_unit_id" if leaves else "status": ["unit admin"]})
        for key, value in changes.items():
            setattr(member, key, value)
        member.updated_at = self.clock.now()
        diff = {k: [before[k], after[k]] for k in EDITABLE if before[k] != after[k]}
        audit.record(self.db, "member_updated", actor=actor, target=member.id,
                     scope_id=member.org_unit_id, detail=diff)
        if before["status"] == "active" and after["status"] != "active":
            self.events.emit("member_deactivated", {"member_id": member.id})
        self.events.emit("member_updated", self._member_event(member, units))
        self.db.commit()
        return self._member_out(member)

    @rpc
    def set_unit_admin(self, actor, unit_id, member_id):
        """Appoint a unit's administrator, replacing the one before (R4: never zero or two)."""
        unit = self.db.get(OrgUnit, unit_id)
        if unit is None:
            raise NotFound(f"no org unit {unit_id}")
        if unit.kind != "unit":
            raise BadInput(f"{unit.name} is a {unit.kind}, not a unit",
                           fields={"unit_id": ["not a unit"]})
        held = self._authority(actor)[1]
        parents = self._parents()
        if not access.may_grant(parents, held, "unit_admin", unit_id):
            raise Forbidden(f"you may not appoint the administrator of {unit.name}",
                            reason="outside_scope")
        if member_id == actor:
            raise Forbidden("nobody appoints themself; ask another administrator",
                            reason="self_edit")
        member = self._member(member_id)
        if unit_id not in access.ancestors(parents, member.org_unit_id):
            raise BadInput(f"{member.name} is not a member of {unit.name}",
                           fields={"member_id": ["not in this unit"]})
        if member.status != "active":
            raise Conflict(f"{member.name} is inactive", fields={"member_id": ["inactive"]})
        emitted = []
        self._appoint(unit_id, member, actor, emitted)
        self.events.emit_many(emitted)
        self.db.commit()
        return self._member_out(member)

    @rpc
    def change_role(self, actor, member_id, change):
        """Grant or revoke an organisation or system administrator role: only who may grant
        it there (access.may_grant), never to oneself (giving one up is allowed; the last
        system administrator stays)."""
        change = load(RoleChangeIn(), change, "change")
        held = self._authority(actor)[1]
        member = self._member(member_id)
        node = self.db.get(OrgUnit, change["org_unit_id"])
        if node is None:
            raise NotFound(f"no org unit {change['org_unit_id']}")
        if change["role"] == "organisation_admin" and node.kind != "organisation":
            raise BadInput(f"{node.name} is a {node.kind}; organisation administrators sit on "
                           "an organisation", fields={"org_unit_id": ["not an organisation"]})
        if not access.may_grant(self._parents(), held, change["role"], node.id):
            raise Forbidden(f"you may not grant or revoke {change['role']} on {node.name}",
                            reason="may_not_grant_role")
        if change["grant"] and member.id == actor:
            raise Forbidden("nobody grants themself a role; ask another administrator",
                            reason="self_edit")
        if member.id != actor:
            self._require_over(actor, member)
        emitted = []
        if change["grant"]:
            if member.status != "active":
                raise Conflict(f"{member.name} is inactive", fields={"member_id": ["inactive"]})
            self._grant_role(member.id, change["role"], node.id, actor, emitted)
        else:
            role = self.db.scalars(select(Role).where(
                Role.member_id == member.id, Role.role == change["role"],
                Role.org_unit_id == node.id)).first()
            if role is not None:
                if role.role == "system_admin" and self.db.scalar(select(func.count()).where(
                        Role.role == "system_admin")) == 1:
                    raise Conflict("the last system administrator cannot be removed")
                self._revoke_role(role, actor, emitted)
        self.events.emit_many(emitted)
        self.db.commit()
        return self._member_out(member)

    @rpc
    def set_participation(self, member_id, participation):
        """R2: a department-level or non-party cadre signs up (`voluntary`) or withdraws
        (`withdrawn`); party members under the committee take part as `required` (R1)."""
        args = load(ParticipationIn(), {"participation": participation})
        member = self._member(member_id)
        if member.participation == "required":
            raise Conflict("party members under the committee take part as required (R1)",
                           fields={"participation": ["required members cannot change it"]})
        if member.participation != args["participation"]:
            before = member.participation
            member.participation = args["participation"]
            member.updated_at = self.clock.now()
            audit.record(self.db, "participation_changed", actor=member.id, target=member.id,
                         scope_id=member.org_unit_id,
                         detail={"participation": [before, member.participation]})
            units = {u.id: u for u in self.db.scalars(select(OrgUnit))}
            self.events.emit("member_updated", self._member_event(member, units))
            self.db.commit()
        return self._member_out(member)

    # -- R20: disqualification -----------------------------------------------------------

    @rpc
    def disqualify(self, actor, member_id, reason):
        """The member loses award eligibility; the decision is kept for the notice."""
        args = load(DecisionIn(), {"reason": reason})
        member = self._member(member_id)
        if member.id == actor:
            raise Forbidden("nobody decides their own case; ask another administrator",
                            reason="self_edit")
        self._require_over(actor, member)
        if member.disqualified:
            raise Conflict(f"{member.name} is already disqualified")
        now = self.clock.now()
        member.disqualified, member.updated_at = True, now
        self.db.add(Disqualification(member_id=member.id, reason=args["reason"],
                                     decided_by=actor, decided_at=now))
        audit.record(self.db, "member_disqualified", actor=actor, target=member.id,
                     scope_id=member.org_unit_id, detail={"reason": args["reason"]})
        self.events.emit("member_disqualified", {
            "member_id": member.id, "reason": args["reason"], "decided_at": now,
            "decided_by": actor})
        self.db.commit()
        return self._member_out(member)

    @rpc
    def reinstate(self, actor, member_id, reason):
        """Undo a disqualification: never one's own, and only by the administrator who
        decided it or one whose part of the organisation covers theirs."""
        args = load(DecisionIn(), {"reason": reason})
        member = self._member(member_id)
        if member.id == actor:
            raise Forbidden("nobody reinstates themself; ask another administrator",
                            reason="self_reinstatement")
        held = self._require_over(actor, member)
        open_case = self.db.scalars(select(Disqualification).where(
            Disqualification.member_id == member.id,
            Disqualification.reinstated_at.is_(None))).first()
        if not member.disqualified or open_case is None:
            raise Conflict(f"{member.name} is not disqualified")
        self._require_over_decider(actor, held, open_case.decided_by)
        now = self.clock.now()
        member.disqualified, member.updated_at = False, now
        open_case.reinstated_at, open_case.reinstated_by = now, actor
        open_case.reinstate_reason = args["reason"]
        audit.record(self.db, "member_reinstated", actor=actor, target=member.id,
                     scope_id=member.org_unit_id, detail={"reason": args["reason"]})
        self.events.emit("member_reinstated", {"member_id": member.id})
        self.db.commit()
        return self._member_out(member)

    @rpc
    def disqualifications(self, actor=None):
        """Every decision, newest first, with names (the notice of R20); an administrator
        sees their own subtree's."""
        parents = self._parents()
        scopes = self._admin(actor)[1] if actor is not None else None
        names = {}
        rows = []
        for case, member in self.db.execute(
                select(Disqualification, Member).join(Member, Member.id ==
                                                      Disqualification.member_id)
                .order_by(Disqualification.decided_at.desc(), Disqualification.id.desc())):
            if not access.covers(parents, scopes, member.org_unit_id):
                continue
            for who in (case.decided_by, case.reinstated_by):
                if who and who not in names:
                    person = self.db.get(Member, who)
                    names[who] = person.name if person else who
            rows.append({
                "member_id": member.id, "name": member.name,
                "phone_masked": mask_phone(member.phone), "unit_id": member.org_unit_id,
                "unit_name": self.db.get(OrgUnit, member.org_unit_id).name,
                "reason": case.reason, "decided_at": case.decided_at.isoformat(),
                "decided_by": case.decided_by, "decided_by_name": names[case.decided_by],
                "reinstated_at": case.reinstated_at.isoformat() if case.reinstated_at else None,
                "reinstated_by": case.reinstated_by,
                "reinstated_by_name": names.get(case.reinstated_by),
                "reinstate_reason": case.reinstate_reason,
            })
        return rows

    @rpc
    def audit_log(self, actor, limit=50, offset=0):
        args = load(AuditIn(), {"limit": limit, "offset": offset})
        scopes = self._admin(actor)[1]
        visible = None
        if scopes is not None:
            parents = self._parents()
            visible = sorted(set().union(*(access.subtree(parents, s) for s in scopes)))
        return audit.read(self.db, scopes=visible, service=self.name, **args)

    # -- login -----------------------------------------------------------------------------

    @rpc
    def request_login_code(self, phone):
        """Send a code to an active member's phone. Unknown phones get the same treatment
        from outside (a code row that is never sent), so limits reveal nothing either."""
        phone = self._phone(phone)
        now = self.clock.now()
        recent = self.db.scalars(
            select(LoginCode.created_at).where(LoginCode.phone == phone,
                                               LoginCode.created_at > now - timedelta(days=1))
        ).all()
        last = max(recent, default=None)
        if last is not None and last > now - login.RESEND_AFTER:
            wait = math.ceil((last + login.RESEND_AFTER - now).total_seconds())
            raise RateLimited(f"a code was sent less than a minute ago; ask again in {wait} s",
                              retry_after=wait, reason="code_recently_sent")
        if len(recent) >= login.PER_DAY:
            wait = math.ceil((min(recent) + timedelta(days=1) - now).total_seconds())
            raise RateLimited("too many codes for this phone today; try again later",
                              retry_after=wait, reason="codes_per_day")
        code = login.new_code()
        secret = self.config["CHALLENGE_SECRET"]
        self.db.add(LoginCode(phone=phone, code_hash=login.hash_code(secret, phone, code),
                              created_at=now, expires_at=now + login.CODE_LIFE, tries=0))
        member = self._member_by_phone(phone)
        self.db.commit()
        if member is not None and member.status == "active":
            sender_for(self.config).send(phone, code, now)

    @rpc
    def verify_login_code(self, phone, code):
        args = load(CodeIn(), {"phone": phone, "code": code})
        phone = self._phone(args["phone"])
        now = self.clock.now()
        row = self.db.scalars(
            select(LoginCode).where(LoginCode.phone == phone, LoginCode.used_at.is_(None))
            .order_by(LoginCode.created_at.desc()).limit(1)
        ).first()
        if row is None or row.expires_at < now or row.tries >= login.MAX_TRIES:
            raise Unauthorized(INVALID_CODE, reason="invalid_code")
        if not login.matches(self.config["CHALLENGE_SECRET"], phone, args["code"] or "",
                             row.code_hash):
            row.tries += 1
            self.db.commit()
            raise Unauthorized(INVALID_CODE, reason="invalid_code")
        member = self._member_by_phone(phone)
        if member is None or member.status != "active":
            raise Unauthorized(INVALID_CODE, reason="invalid_code")
        row.used_at = now
        self.db.commit()
        return self._member_out(member)

    # -- internals -------------------------------------------------------------------------

    def _phone(self, raw):
        try:
            return normalise_phone(raw)
        except RowError as err:
            raise BadInput(err.message, fields={"phone": [err.message]}) from None

    def _member(self, member_id):
        member = self.db.get(Member, member_id) if isinstance(member_id, str) else None
        if member is None:
            raise NotFound("no such member")
        return member

    def _member_by_phone(self, phone):
        return self.db.scalars(select(Member).where(Member.phone == phone)).first()

    def _parents(self) -> dict:
        return dict(self.db.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())

    def _roles(self, member_id) -> list[tuple[str, str]]:
        return [(r.role, r.org_unit_id) for r in self.db.scalars(
            select(Role).where(Role.member_id == member_id).order_by(Role.id))]

    def _authority(self, actor, roles=access.ADMIN_ROLES):
        """The acting member and the administrator roles they act with, or Forbidden. An
        inactive or disqualified member's roles authorise nothing until they are reactivated
        or reinstated (by someone else: see `reinstate`)."""
        member = self.db.get(Member, actor) if isinstance(actor, str) else None
        held = [(r, u) for r, u in self._roles(actor) if r in roles] if member else []
        if member is None or member.status != "active" or not held:
            raise Forbidden("this needs an administrator's role")
        if member.disqualified:
            raise Forbidden("a disqualified administrator's roles are suspended until they "
                            "are reinstated", reason="roles_suspended")
        return member, held

    def _admin(self, actor, roles=access.ADMIN_ROLES):
        """The acting member and their scopes (None: everywhere), or Forbidden."""
        member, held = self._authority(actor, roles)
        return member, access.scopes_of(held)

    def _require_cover(self, actor, node_id):
        scopes = self._admin(actor)[1]
        if not access.covers(self._parents(), scopes, node_id):
            raise Forbidden("that member or unit is outside your part of the organisation",
                            reason="outside_scope")

    def _require_over(self, actor, member):
        """The actor acts on `member`'s node and on every node `member` administers."""
        held = self._authority(actor)[1]
        if not access.outranks(self._parents(), held, member.org_unit_id,
                               self._roles(member.id)):
            raise Forbidden(f"{member.name} is outside your part of the organisation, or "
                            "administers a part beyond yours", reason="outside_scope")
        return held

    def _require_over_decider(self, actor, held, decided_by):
        """A decision is undone by who made it or by an administrator above them."""
        if decided_by == actor:
            return
        decider = self.db.get(Member, decided_by)
        if decider is None:  # the platform decided: a system administrator undoes it
            allowed = access.scopes_of(held) is None
        else:
            allowed = access.outranks(self._parents(), held, decider.org_unit_id,
                                      self._roles(decider.id))
        if not allowed:
            raise Forbidden("an administrator above you decided this; they or one above them "
                            "may reinstate", reason="decided_above_you")

    def _grant_role(self, member_id, role, node_id, actor, emitted, detail=None) -> bool:
        exists = self.db.scalars(select(Role.id).where(
            Role.member_id == member_id, Role.role == role, Role.org_unit_id == node_id)
        ).first()
        if exists is not None:
            return False
        self.db.add(Role(member_id=member_id, role=role, org_unit_id=node_id))
        self._role_changed("role_granted", member_id, role, node_id, actor, emitted, detail)
        return True

    def _revoke_role(self, role, actor, emitted):
        self.db.delete(role)
        self._role_changed("role_revoked", role.member_id, role.role, role.org_unit_id, actor,
                           emitted)

    def _role_changed(self, action, member_id, role, node_id, actor, emitted, detail=None):
        """Every grant and removal, by any path, is its own audit entry (who, whom, which
        role, where) and its own event, in the change's transaction; `emitted` collects the
        events so that a sheet's come after the member events of the same rows."""
        change = {"member_id": member_id, "role": role, "org_unit_id": node_id}
        audit.record(self.db, action, actor=actor, target=member_id, scope_id=node_id,
                     detail=change | (detail or {}))
        emitted.append((action, change | {"by": actor or audit.SYSTEM_ACTOR}))

    def _require_system_admin(self, actor):
        self._admin(actor, roles=("system_admin",))

    def _path(self, unit_id, units=None):
        parents = {u.id: u.parent_id for u in units.values()} if units else self._parents()
        return list(reversed(access.ancestors(parents, unit_id)))

    def _member_out(self, member, units=None):
        """A member as the API shows them; `units` (the tree) when the caller has it."""
        units = units or {u.id: u for u in self.db.scalars(select(OrgUnit))}
        path = self._path(member.org_unit_id, units)
        return MemberOut().dump({
            "member_id": member.id, "name": member.name, "department": member.department,
            "phone_masked": mask_phone(member.phone), "org_path": path,
            "org_path_names": [units[unit_id].name for unit_id in path],
            "unit_id": member.org_unit_id, "unit_name": units[member.org_unit_id].name,
            "category": member.category, "participation": member.participation,
            "status": member.status, "disqualified": member.disqualified,
            "roles": [{"role": r, "org_unit_id": u} for r, u in self._roles(member.id)],
        })

    def _member_event(self, member, units):
        return {
            "member_id": member.id, "name": member.name,
            "org_path": self._path(member.org_unit_id, units),
            "category": member.category, "participation": member.participation,
            "status": member.status, "phone_masked": mask_phone(member.phone),
            "unit_name": units[member.org_unit_id].name,
        }


def _resolve(ref, units, by_name, column):
    """An org unit named by id, or else by a name that is unambiguous."""
    if ref in units:
        return ref
    ids = by_name.get(ref, [])
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise RowError(column, f"'{ref}' names {len(ids)} org units; use the unit's id")
    raise RowError(column, f"unknown {column} '{ref}'")


@dataclass
class _Importer:
    """The administrator uploading a sheet: what their roles let its rows do."""
    member: Member
    held: list
    scopes: list | None = field(init=False)

    def __post_init__(self):
        self.scopes = access.scopes_of(self.held)


def _values(data, place) -> dict:
    """A sheet row's member fields as the member table holds them."""
    return {"name": data["name"], "department": data["department"], "org_unit_id": place,
            "category": data["category"], "participation": data["participation"]}


def _elsewhere(phone, known, other_unit, visible) -> str:
    """A row error for a phone already registered in another unit. Who holds it and where
    are said only to an administrator who may see that member: a sheet must not be a way to
    look up any phone's owner."""
    if visible:
        return (f"phone {phone} belongs to {known.name} of {other_unit.name}; move them in "
                "the member editor if that is intended")
    return f"phone {phone} belongs to a member of another unit"


def _role_node(role, place, parents, kinds) -> str:
    """Where a sheet's higher role sits: a system administrator at the root, an organisation
    administrator at the row's organisation."""
    above = access.ancestors(parents, place)
    if role == "system_admin":
        return above[-1]
    node = next((n for n in above if kinds.get(n) == "organisation"), None)
    if node is None:
        raise RowError("role", "organisation administrators belong to an organisation; "
                               "this row's place is in none")
    return node


# what a member's own row may not change: where, and whether, they take part (R1, R2)
NOT_SELF_EDITABLE = ("org_unit_id", "category", "participation")


def _row_authority(importer, data, values, home, known, parents, their_roles):
    """One row of an administrator's sheet, against what the administrator may do (RowError
    otherwise): grant only the roles they may grant (access.may_grant), never to themself;
    leave their own place and participation to another administrator; change no
    administrator whose part of the organisation is beyond theirs."""
    own = known is not None and known.id == importer.member.id
    asked = [("unit_admin", home, data["admin_column"])] if data["unit_admin"] else []
    if data["higher_role"]:
        asked.append((data["higher_role"], data["role_node"], "role"))
    for role, node, column in asked:
        if (role, node) in their_roles:
            continue  # held already: the row grants nothing
        if not access.may_grant(parents, importer.held, role, node):
            raise RowError(column, f"you may not grant the role {role} here")
        if own:
            raise RowError(column, "nobody grants themself a role; ask another administrator")
    changed = [k for k, v in values.items() if known is not None and getattr(known, k) != v]
    if own:
        fixed = [k for k in changed if k in NOT_SELF_EDITABLE]
        if fixed:
            column = {"org_unit_id": "branch" if data["branch"] else "unit"}.get(fixed[0],
                                                                              fixed[0])
            raise RowError(column, "your own place, category and participation are changed "
                                   "by another administrator")
    elif changed and their_roles and not access.outranks(parents, importer.held,
                                                         known.org_unit_id, their_roles):
        raise RowError("phone", f"phone {data['phone']} belongs to an administrator of a part "
                                "of the organisation beyond yours; only an administrator "
                                "above them may change them")


def _let_others_run(row_index, every=250):
    """A 20,000-row sheet is seconds of Python: yield to the hub every `every` rows so the
    other services of the process (the embedded platform) go on answering members."""
    if row_index % every == 0:
        eventlet.sleep(0)
