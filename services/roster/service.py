"""roster: the organisation tree, members and their roles (R1–R4), phone login."""
from __future__ import annotations

import math
import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from sqlalchemy import func, or_, select

from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import rpc
from kernel.errors import BadInput, NotFound, RateLimited, Unauthorized, load
from kernel.outbox import Outbox

from . import login
from .members import RowError, mask_phone, normalise_phone, parse_row
from .models import Base, LoginCode, Member, OrgUnit, Role
from .schemas import CodeIn, ImportIn, MemberOut, OrgUnitIn, PageIn
from .sms import sender_for

MEMBER_FIELDS = ("name", "department", "org_unit_id", "category", "participation")
INVALID_CODE = "invalid or expired code"


class RosterService(entrypoints.Answers):
    name = "roster"

    db = Database("roster", Base)
    events = Outbox()
    clock = Clock()
    config = Config()

    # -- the tree --------------------------------------------------------------------------

    @rpc
    def upsert_org_units(self, nodes):
        nodes = [load(OrgUnitIn(), node, f"org unit {i + 1}") for i, node in enumerate(nodes)]
        known = set(self.db.scalars(select(OrgUnit.id)))
        now = self.clock.now()
        for node in nodes:
            if node["parent_id"] is not None and node["parent_id"] not in known:
                raise BadInput(f"org unit {node['id']}: parent {node['parent_id']} is unknown",
                               fields={"parent_id": [node["parent_id"]]})
            unit = self.db.get(OrgUnit, node["id"])
            if unit is None:
                self.db.add(OrgUnit(created_at=now, **node))
            else:
                unit.parent_id, unit.kind, unit.name = node["parent_id"], node["kind"], node["name"]
            known.add(node["id"])
        self.db.commit()
        return len(nodes)

    # -- members ---------------------------------------------------------------------------

    @rpc
    def import_members(self, rows, dry_run=False):
        """Apply the good rows, report the bad ones by row and column (R3, R4).

        Re-importing updates members by phone and never duplicates them. Row numbers are a
        sheet's: the header is row 1, so data row i is reported as row i + 1.
        """
        args = load(ImportIn(), {"rows": rows, "dry_run": dry_run})
        units = {u.id: u for u in self.db.scalars(select(OrgUnit))}
        by_name = {}
        for unit in units.values():
            by_name.setdefault(unit.name, []).append(unit.id)
        report = {"total": len(args["rows"]), "created": 0, "updated": 0, "unchanged": 0,
                  "errors": [], "dry_run": args["dry_run"]}
        seen_phones, admin_rows = {}, {}
        now = self.clock.now()
        for index, row in enumerate(args["rows"], start=2):
            try:
                data = parse_row(row)
                unit_id = _resolve(data["unit"], units, by_name, "unit")
                place = _resolve(data["branch"], units, by_name, "branch") if data["branch"] \
                    else unit_id
                if data["phone"] in seen_phones:
                    raise RowError("phone", f"phone {data['phone']} is already on row "
                                            f"{seen_phones[data['phone']]}")
                if data["unit_admin"] and unit_id in admin_rows:
                    raise RowError("remarks", f"unit {units[unit_id].name} already has its "
                                              f"administrator on row {admin_rows[unit_id]} "
                                              "(R4: exactly one per unit)")
            except RowError as err:
                report["errors"].append({"row": index, "column": err.column,
                                         "message": err.message})
                continue
            seen_phones[data["phone"]] = index
            if data["unit_admin"]:
                admin_rows[unit_id] = index
            outcome = self._apply(data, place, unit_id, units, now)
            report[outcome] += 1
        if args["dry_run"]:
            self.db.rollback()
        else:
            self.db.commit()
        return report

    def _apply(self, data, place, unit_id, units, now) -> str:
        member = self.db.scalars(select(Member).where(Member.phone == data["phone"])).first()
        values = {"name": data["name"], "department": data["department"],
                  "org_unit_id": place, "category": data["category"],
                  "participation": data["participation"]}
        if member is None:
            member = Member(id=str(uuid.uuid4()), phone=data["phone"], status="active",
                            disqualified=False, created_at=now, updated_at=now, **values)
            self.db.add(member)
            outcome, event = "created", "member_registered"
        elif any(getattr(member, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(member, k, v)
            member.updated_at = now
            outcome, event = "updated", "member_updated"
        else:
            outcome, event = "unchanged", None
        self.db.flush()
        if data["unit_admin"]:
            self._grant(member.id, "unit_admin", unit_id)
        if data["system_admin"]:
            self._grant(member.id, "system_admin", self._root_id(units, unit_id))
        if event:
            self.events.emit(event, self._member_event(member, units))
        return outcome

    def _grant(self, member_id, role, org_unit_id):
        exists = self.db.scalars(select(Role).where(
            Role.member_id == member_id, Role.role == role, Role.org_unit_id == org_unit_id)
        ).first()
        if exists is None:
            self.db.add(Role(member_id=member_id, role=role, org_unit_id=org_unit_id))

    @rpc
    def get_member(self, member_id):
        member = self.db.get(Member, member_id)
        if member is None:
            raise NotFound("no such member")
        return self._member_out(member)

    @rpc
    def count_members(self):
        return self.db.scalar(select(func.count()).select_from(Member))

    @rpc
    def list_members(self, limit=50, offset=0, query=None):
        args = load(PageIn(), {"limit": limit, "offset": offset, "query": query})
        stmt = select(Member)
        if args["query"]:
            like = f"%{args['query']}%"
            stmt = stmt.where(or_(Member.name.like(like), Member.phone.like(like)))
        total = self.db.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = self.db.scalars(stmt.order_by(Member.name, Member.id)
                               .limit(args["limit"]).offset(args["offset"])).all()
        return {"total": total, "items": [self._member_out(m) for m in rows]}

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
                              retry_after=wait)
        if len(recent) >= login.PER_DAY:
            wait = math.ceil((min(recent) + timedelta(days=1) - now).total_seconds())
            raise RateLimited("too many codes for this phone today; try again later",
                              retry_after=wait)
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
            raise Unauthorized(INVALID_CODE)
        if not login.matches(self.config["CHALLENGE_SECRET"], phone, args["code"] or "",
                             row.code_hash):
            row.tries += 1
            self.db.commit()
            raise Unauthorized(INVALID_CODE)
        member = self._member_by_phone(phone)
        if member is None or member.status != "active":
            raise Unauthorized(INVALID_CODE)
        row.used_at = now
        self.db.commit()
        return self._member_out(member)

    # -- internals -------------------------------------------------------------------------

    def _phone(self, raw):
        try:
            return normalise_phone(raw)
        except RowError as err:
            raise BadInput(err.message, fields={"phone": [err.message]}) from None

    def _member_by_phone(self, phone):
        return self.db.scalars(select(Member).where(Member.phone == phone)).first()

    def _path(self, unit_id, units=None):
        path = []
        while unit_id is not None:
            path.append(unit_id)
            unit = units[unit_id] if units else self.db.get(OrgUnit, unit_id)
            unit_id = unit.parent_id
        return list(reversed(path))

    def _root_id(self, units, unit_id):
        return self._path(unit_id, units)[0]

    def _member_out(self, member):
        unit = self.db.get(OrgUnit, member.org_unit_id)
        roles = self.db.scalars(select(Role).where(Role.member_id == member.id)).all()
        path = self._path(member.org_unit_id)
        return MemberOut().dump({
            "member_id": member.id, "name": member.name, "department": member.department,
            "phone_masked": mask_phone(member.phone), "org_path": path,
            "org_path_names": [self.db.get(OrgUnit, unit_id).name for unit_id in path],
            "unit_id": member.org_unit_id, "unit_name": unit.name, "category": member.category,
            "participation": member.participation, "status": member.status,
            "disqualified": member.disqualified,
            "roles": [{"role": r.role, "org_unit_id": r.org_unit_id} for r in roles],
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
