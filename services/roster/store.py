"""roster's queries, named for what they answer, over one session (the unit of work's).

Every `select(` of the service is here; the use cases (imports.py, admin.py, logins.py,
directory.py) ask these and never see SQL. Writes are `add`, `delete` and `flush` (a flush
where the order of rows matters: a member before their role, a unit's old administrator out
before the new one in, as the one-administrator index demands).
"""
from __future__ import annotations

import json

from sqlalchemy import func, or_, select

from kernel.uow import Store

from .models import (
    Disqualification, LoginCode, Member, Notice, OrgUnit, Reminder, Role, audit_log,
)

REMINDER_LOCK = 0x726D6E64  # pg_advisory_xact_lock's key for sending reminders ("rmnd")


class RosterStore(Store):
    service = "roster"

    # -- writes --------------------------------------------------------------------------

    # -- the tree --------------------------------------------------------------------------

    def units(self) -> dict[str, OrgUnit]:
        return {u.id: u for u in self.session.scalars(select(OrgUnit))}

    def units_in_order(self) -> list[OrgUnit]:
        return list(self.session.scalars(select(OrgUnit).order_by(OrgUnit.created_at,
                                                                  OrgUnit.id)))

    def unit(self, unit_id) -> OrgUnit | None:
        return self.session.get(OrgUnit, unit_id) if isinstance(unit_id, str) else None

    def parents(self) -> dict:
        """The tree as {id: parent_id}, as access.py takes it."""
        return dict(self.session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())

    def member_count_in(self, node_ids) -> int:
        return self.session.scalar(select(func.count()).select_from(Member).where(
            Member.org_unit_id.in_(list(node_ids))))

    def members_in(self, node_ids) -> list[Member]:
        return list(self.session.scalars(select(Member).where(
            Member.org_unit_id.in_(list(node_ids))).order_by(Member.id)))

    def roles_on(self, node_ids) -> int:
        return self.session.scalar(select(func.count()).select_from(Role).where(
            Role.org_unit_id.in_(list(node_ids))))

    def unit_admins_placed_in(self, node_ids) -> list[tuple[str, str]]:
        """(the member's place, the unit they administer) of each unit administrator whose
        place is one of `node_ids`."""
        return [tuple(row) for row in self.session.execute(
            select(Member.org_unit_id, Role.org_unit_id)
            .join(Role, Role.member_id == Member.id)
            .where(Role.role == "unit_admin", Member.org_unit_id.in_(list(node_ids))))]

    def member_counts(self) -> dict[str, int]:
        return dict(self.session.execute(select(Member.org_unit_id, func.count())
                                         .group_by(Member.org_unit_id)).all())

    # -- members ---------------------------------------------------------------------------

    def member(self, member_id) -> Member | None:
        return self.session.get(Member, member_id) if isinstance(member_id, str) else None

    def play_status(self, member_id) -> tuple[str, bool] | None:
        """(status, disqualified) of a member, by the primary key, no object loaded: the
        gateway asks before every play request (R20)."""
        row = self.session.execute(select(Member.status, Member.disqualified)
                                   .where(Member.id == member_id)).first()
        return tuple(row) if row is not None else None

    def member_by_phone(self, phone: str) -> Member | None:
        return self.session.scalars(select(Member).where(Member.phone == phone)).first()

    def members_by_phone(self) -> dict[str, Member]:
        return {m.phone: m for m in self.session.scalars(select(Member))}

    def names(self, member_ids) -> dict[str, str]:
        return dict(self.session.execute(select(Member.id, Member.name)
                                         .where(Member.id.in_(list(member_ids)))).all())

    def count_members(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Member))

    def members_in_order(self) -> list[Member]:
        return list(self.session.scalars(select(Member).order_by(Member.id)))

    def members_with_ids(self, member_ids) -> list[Member]:
        return list(self.session.scalars(select(Member).where(Member.id.in_(member_ids))))

    def search_members(self, *, within, text, digits, status, disqualified, limit,
                       offset) -> tuple[int, list[Member]]:
        """A page of members by name (and the total): `within` a set of nodes (None: all),
        `text` found in the name, department or (as `digits`, when a phone) the phone."""
        stmt = select(Member)
        if within is not None:
            stmt = stmt.where(Member.org_unit_id.in_(sorted(within)))
        if text:
            like = f"%{text}%"
            stmt = stmt.where(or_(Member.name.like(like),
                                  Member.phone.like(f"%{digits}%" if digits else like),
                                  Member.department.like(like)))
        if status:
            stmt = stmt.where(Member.status == status)
        if disqualified is not None:
            stmt = stmt.where(Member.disqualified.is_(disqualified))
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = self.session.scalars(stmt.order_by(Member.name, Member.id)
                                    .limit(limit).offset(offset)).all()
        return total, list(rows)

    def members_changed_since(self, since, limit, offset) -> tuple[int, list[Member]]:
        """A page of members changed at or after `since` (None: all), oldest change first."""
        stmt = select(Member)
        if since is not None:
            stmt = stmt.where(Member.updated_at >= since)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = self.session.scalars(stmt.order_by(Member.updated_at, Member.id)
                                    .limit(limit).offset(offset)).all()
        return total, list(rows)

    # -- roles -----------------------------------------------------------------------------

    def roles_of(self, member_id) -> list[tuple[str, str]]:
        return [(r.role, r.org_unit_id) for r in self.session.scalars(
            select(Role).where(Role.member_id == member_id).order_by(Role.id))]

    def roles_by_member(self) -> dict[str, list[tuple[str, str]]]:
        held: dict = {}
        for role in self.session.scalars(select(Role)):
            held.setdefault(role.member_id, []).append((role.role, role.org_unit_id))
        return held

    def role(self, member_id, role: str, node_id) -> Role | None:
        return self.session.scalars(select(Role).where(
            Role.member_id == member_id, Role.role == role, Role.org_unit_id == node_id)
        ).first()

    def unit_admin_roles(self, unit_id) -> list[Role]:
        return list(self.session.scalars(select(Role).where(
            Role.role == "unit_admin", Role.org_unit_id == unit_id)))

    def units_administered_by(self, member_id) -> list[Role]:
        return list(self.session.scalars(select(Role).where(
            Role.member_id == member_id, Role.role == "unit_admin")))

    def admin_of_each_unit(self) -> dict[str, str]:
        return {role.org_unit_id: role.member_id for role in self.session.scalars(
            select(Role).where(Role.role == "unit_admin"))}

    def units_with_admin(self, unit_ids) -> set[str]:
        return set(self.session.scalars(select(Role.org_unit_id).where(
            Role.role == "unit_admin", Role.org_unit_id.in_(list(unit_ids)))))

    def system_admin_count(self) -> int:
        return self.session.scalar(select(func.count()).where(Role.role == "system_admin"))

    # -- R20 -------------------------------------------------------------------------------

    def open_disqualification(self, member_id) -> Disqualification | None:
        return self.session.scalars(select(Disqualification).where(
            Disqualification.member_id == member_id,
            Disqualification.reinstated_at.is_(None))).first()

    def disqualifications(self) -> list[tuple[Disqualification, Member]]:
        """Every decision with its member, newest first."""
        return [tuple(pair) for pair in self.session.execute(
            select(Disqualification, Member)
            .join(Member, Member.id == Disqualification.member_id)
            .order_by(Disqualification.decided_at.desc(), Disqualification.id.desc()))]

    # -- the audit log, read back (R18's denominators) -------------------------------------

    def audit_entries(self, action: str, since=None, until=None) -> list[dict]:
        """The audit log's entries of one action between `since` and `until` (either None:
        no bound), oldest first, the detail decoded."""
        stmt = select(audit_log).where(audit_log.c.action == action)
        if since is not None:
            stmt = stmt.where(audit_log.c.at >= since)
        if until is not None:
            stmt = stmt.where(audit_log.c.at <= until)
        return [{"at": row.at, "actor_id": row.actor_id, "target": row.target,
                 "detail": json.loads(row.detail)}
                for row in self.session.execute(stmt.order_by(audit_log.c.at, audit_log.c.id))]

    # -- login codes -----------------------------------------------------------------------

    def code_times(self, phone: str, since) -> list:
        """When codes were made for `phone` after `since`."""
        return list(self.session.scalars(select(LoginCode.created_at).where(
            LoginCode.phone == phone, LoginCode.created_at > since)))

    def latest_unused_code(self, phone: str) -> LoginCode | None:
        return self.session.scalars(
            select(LoginCode).where(LoginCode.phone == phone, LoginCode.used_at.is_(None))
            .order_by(LoginCode.created_at.desc()).limit(1)).first()

    # -- notices and SMS reminders (notices.py) ----------------------------------------------

    def notice(self, notice_id) -> Notice | None:
        return self.session.get(Notice, notice_id) if isinstance(notice_id, int) else None

    def notices(self, live_at=None) -> list[Notice]:
        """Every notice, newest first; `live_at`: those shown then (not withdrawn)."""
        query = select(Notice)
        if live_at is not None:
            query = query.where(Notice.starts_at <= live_at, Notice.ends_at > live_at,
                                Notice.withdrawn_at.is_(None))
        return list(self.session.scalars(query.order_by(Notice.starts_at.desc(),
                                                        Notice.id.desc())))

    def lock_reminders(self) -> None:
        """Serialise sends of SMS reminders until this transaction ends, so the daily cap is
        counted after the sends before it have committed: a transaction-scoped advisory
        lock on PostgreSQL; SQLite has one writer at a time already (a second sender's
        insert waits for, or fails after, the first's commit)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(REMINDER_LOCK)))

    def reminders_since(self, since) -> dict[str, int]:
        """How many reminders each member was sent since `since` (the daily cap)."""
        return dict(self.session.execute(
            select(Reminder.member_id, func.count()).where(Reminder.sent_at > since)
            .group_by(Reminder.member_id)).all())

    def reminder_batches(self, units=None) -> list[dict]:
        """Each batch of reminders sent, newest first, with how many it reached (`units`:
        only its recipients in these units, the batches reaching none left out)."""
        query = select(Reminder.batch, Reminder.kind, Reminder.text, Reminder.sent_by,
                       Reminder.sent_at, func.count().label("recipients"))
        if units is not None:
            query = query.join(Member, Member.id == Reminder.member_id).where(
                Member.org_unit_id.in_(sorted(units)))
        rows = self.session.execute(
            query.group_by(Reminder.batch, Reminder.kind, Reminder.text, Reminder.sent_by,
                           Reminder.sent_at)
            .order_by(Reminder.sent_at.desc(), func.max(Reminder.id).desc()))
        return [dict(row._mapping) for row in rows]
