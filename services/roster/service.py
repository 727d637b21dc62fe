"""roster: the organisation tree, members and their roles (R1–R4), phone login, and the
disqualifications of R20. Entrypoints only: each declares its arguments and result, opens a
unit of work and calls one use case (imports.py, admin.py, directory.py, logins.py), whose
checks run against the actor's part of the tree and whose changes are audited in the same
transaction."""
from __future__ import annotations

from nameko.dependency_providers import Config

from kernel import audit, entrypoints, sheets
from kernel.entrypoints import rpc
from kernel.errors import Unauthorized
from kernel.knobs import Knobs
from kernel.logs import WorkerContext
from kernel.signing import SecretRequired
from kernel.uow import UnitOfWork

from . import access, admin, bootstrap, denominators, directory, imports, logins, notices
from . import orgsheet
from .members import SHEET_COLUMNS
from .models import Base
from .schemas import (
    ActorIn, AgencyMemberOut, AgencyRosterIn, AgencyRosterOut, AuditLogIn, AuthorityOut, AuthorizeIn, ChangeRoleIn, CodeIn,
    DecideIn, DisqualificationOut, ImportMembersIn, ImportOrgIn, ImportOrgSheetIn,
    ImportReportOut, ImportSheetIn, OrgImportReportOut,
    ListMembersIn, MemberIdsIn, MemberOut, MemberPageOut, MemberRefIn, OrgNodeOut, PhoneIn,
    PlacesOut, PlayerIn, PlayStatusOut, RemovalOut, RemovalsIn, ScoringRowOut,
    SetParticipationIn, UnitAdminIn,
    UpdateMemberIn, UpsertOrgUnitsIn,
)
from .contacts import contact_phones
from .schemas import ContactsIn
from .schemas import (
    DisqualifyDecideIn, MemberNoticesIn, NoticeOut, NoticeRefIn, PostNoticeIn, RemindIn,
    RemindOut, ReminderLogIn, ReminderLogOut,
)
from .sms import LoginCodeSender
from .store import RosterStore

INVALID_CODE = "invalid or expired code"


class RosterService(entrypoints.Answers):
    name = "roster"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("roster", Base, store=RosterStore)
    knobs = Knobs()
    config = Config()
    secret = SecretRequired()  # holds CHALLENGE_SECRET: no start without a usable one
    sms = LoginCodeSender()  # SMS_BACKEND: no start without a way to send login codes

    # -- the tree and who may act ------------------------------------------------------------

    @rpc(args=UpsertOrgUnitsIn)
    def upsert_org_units(self, nodes, actor=None):
        with self.uow as tx:
            return admin.upsert_org_units(tx, nodes, actor)

    @rpc(args=ImportOrgSheetIn, result=OrgImportReportOut)
    def import_org_sheet(self, content_b64, filename, dry_run=False, actor=None):
        """An organisation sheet as uploaded (上级, 名称, 类型, 编码; CSV or XLSX): see
        orgsheet.py. Only system and organisation administrators, inside their part."""
        with self.uow as tx:  # anyone else's upload is refused before it is read
            orgsheet.importer_scopes(tx.store, actor)
        rows = sheets.read_upload(content_b64, filename, orgsheet.ORG_COLUMNS)
        return self._import_org(rows, dry_run, actor, filename)

    @rpc(args=ImportOrgIn, result=OrgImportReportOut)
    def import_org(self, rows, dry_run=False, actor=None, source=None):
        """The organisation sheet's rows as dicts (parent, name, kind, code, or the
        sheet's own headers 上级, 名称, 类型, 编码)."""
        rows = [{orgsheet.ORG_COLUMNS.get(str(k).strip().lower(), k): v
                 for k, v in row.items()} for row in rows]
        return self._import_org(rows, dry_run, actor, source)

    def _import_org(self, rows, dry_run, actor, source):
        with self.uow as tx:
            report = orgsheet.import_org(tx, rows, dry_run=dry_run, actor=actor,
                                         source=source, root=bootstrap.root(tx))
        if dry_run:  # its changes were discarded; that it ran is kept
            with self.uow as tx:
                orgsheet.audit_org_import(tx, report, actor=actor, source=source)
        return report

    @rpc(result=OrgNodeOut(many=True))
    def org_tree(self):
        with self.uow as tx:
            return directory.org_tree(tx.store)

    @rpc(args=AuthorizeIn, result=AuthorityOut)
    def authorize(self, actor, node_id=None, roles=access.ADMIN_ROLES):
        """The actor's administrator roles, if they include one of `roles` covering `node_id`
        (any node when None); else Forbidden. For the gateway and other services: `scopes`
        are the roots the actor acts under and `visible` every node below them (both None
        for a system administrator)."""
        with self.uow as tx:
            return directory.authorize(tx.store, actor, node_id, roles)

    # -- members ---------------------------------------------------------------------------

    @rpc(args=ImportSheetIn, result=ImportReportOut)
    def import_sheet(self, content_b64, filename, dry_run=False, actor=None, unit=None):
        """A member sheet as uploaded (CSV in UTF-8/GBK, XLSX): a file that is not a sheet
        is one clear error and changes nothing; otherwise as `import_members`. The seed's
        sheet has no unit column (each unit reports its own): `unit` names it then."""
        with self.uow as tx:  # a member's upload is refused before it is read
            imports.importer_of(tx.store, actor)
        rows = sheets.read_upload(content_b64, filename, SHEET_COLUMNS)
        return self._import(rows, dry_run, actor, filename, unit)

    @rpc(args=ImportMembersIn, result=ImportReportOut)
    def import_members(self, rows, dry_run=False, actor=None, source=None, unit=None):
        """Apply the good rows, report the bad ones by row and column (R3, R4): see
        imports.py. `actor=None` is the platform itself (the demo loader, a shell)."""
        return self._import(rows, dry_run, actor, source, unit)

    def _import(self, rows, dry_run, actor, source, unit):
        with self.uow as tx:
            report = imports.import_members(tx, rows, dry_run=dry_run, actor=actor,
                                            source=source, unit=unit)
        if dry_run:  # its changes were discarded; that it ran is kept
            with self.uow as tx:
                imports.audit_import(tx, report, actor=actor, source=source,
                                     importer=imports.importer_of(tx.store, actor))
        return report

    @rpc(args=MemberRefIn, result=MemberOut)
    def get_member(self, member_id, actor=None):
        with self.uow as tx:
            return directory.get_member(tx.store, member_id, actor)

    @rpc(args=AgencyRosterIn, result=AgencyRosterOut)
    def agency_roster(self, since=None, limit=100, offset=0):
        """The roster for an authorised agency (the gateway checked its key)."""
        with self.uow as tx:
            return directory.agency_roster(tx.store, tx.now, since, limit, offset)

    @rpc(args=PlayerIn, result=AgencyMemberOut)
    def agency_member(self, member_id):
        with self.uow as tx:
            return directory.agency_member_of(tx.store, member_id)

    @rpc(args=PlayerIn, result=PlayStatusOut)
    def play_status(self, member_id):
        """Whether a member may play now (R20): their status and disqualification, one row
        read, for the gateway to ask before each start and submit (a token outlives both)."""
        with self.uow as tx:
            return directory.play_status(tx.store, member_id)

    @rpc
    def count_members(self):
        with self.uow as tx:
            return tx.store.count_members()

    @rpc(args=ListMembersIn, result=MemberPageOut)
    def list_members(self, limit=50, offset=0, query=None, actor=None, unit_id=None,
                     status=None, disqualified=None):
        with self.uow as tx:
            return directory.list_members(tx.store, actor, limit, offset, query, unit_id,
                                          status, disqualified)

    @rpc(result=ScoringRowOut(many=True))
    def roster_for_scoring(self):
        with self.uow as tx:
            return directory.roster_for_scoring(tx.store)

    @rpc(args=RemovalsIn, result=RemovalOut(many=True))
    def scoring_removals(self, since=None, until=None):
        """Members who left a unit's or organ branch's R18 denominator between `since` and
        `until` (deactivated, withdrawn, moved away), with who did it and when."""
        with self.uow as tx:
            return denominators.removals(tx.store, since, until)

    @rpc(args=MemberIdsIn, result=PlacesOut)
    def member_places(self, member_ids):
        with self.uow as tx:
            return directory.member_places(tx.store, member_ids)

    @rpc(args=ContactsIn)
    def contact_phones(self, actor, member_ids):
        """{member id: full phone} for a system administrator (the live contest's
        shortlist, issue 23); Forbidden for anyone else."""
        with self.uow as tx:
            return contact_phones(tx.store, actor, member_ids)

    @rpc(args=UpdateMemberIn, result=MemberOut)
    def update_member(self, actor, member_id, changes):
        with self.uow as tx:
            return admin.update_member(tx, actor, member_id, changes)

    @rpc(args=UnitAdminIn, result=MemberOut)
    def set_unit_admin(self, actor, unit_id, member_id):
        with self.uow as tx:
            return admin.set_unit_admin(tx, actor, unit_id, member_id)

    @rpc(args=ChangeRoleIn, result=MemberOut)
    def change_role(self, actor, member_id, change):
        with self.uow as tx:
            return admin.change_role(tx, actor, member_id, change)

    @rpc(args=SetParticipationIn, result=MemberOut)
    def set_participation(self, member_id, participation):
        with self.uow as tx:
            return admin.set_participation(tx, member_id, participation)

    # -- R20: disqualification -----------------------------------------------------------

    @rpc(args=DisqualifyDecideIn, result=MemberOut)
    def disqualify(self, actor, member_id, reason, evidence=None, flag_ids=()):
        """R20's decision, with the evidence it rests on (free text, the flags it cites)."""
        with self.uow as tx:
            return admin.disqualify(tx, actor, member_id, reason, evidence, flag_ids)

    @rpc(args=DecideIn, result=MemberOut)
    def reinstate(self, actor, member_id, reason):
        with self.uow as tx:
            return admin.reinstate(tx, actor, member_id, reason)

    @rpc(args=ActorIn, result=DisqualificationOut(many=True))
    def disqualifications(self, actor=None):
        with self.uow as tx:
            return directory.disqualifications(tx.store, actor)

    @rpc(args=AuditLogIn, result=audit.AuditPageOut)
    def audit_log(self, actor, limit=50, offset=0):
        with self.uow as tx:
            return directory.audit_log(tx.store, actor, limit, offset)

    # -- login -----------------------------------------------------------------------------

    @rpc(args=PhoneIn)
    def request_login_code(self, phone):
        """Send a code to an active member's phone, once its hash is stored (logins.py)."""
        with self.uow as tx:
            delivery = logins.request_code(tx, self.config["CHALLENGE_SECRET"], phone)
        if delivery is not None:
            self.sms.send(delivery.phone, delivery.code, delivery.at)

    @rpc(args=CodeIn, result=MemberOut)
    def verify_login_code(self, phone, code):
        with self.uow as tx:  # a wrong code's try is committed before the refusal
            member = logins.verify_code(tx, self.config["CHALLENGE_SECRET"], phone, code)
        if member is None:
            raise Unauthorized(INVALID_CODE, reason="invalid_code")
        return member

    # -- notices and SMS reminders (issue 23) --------------------------------------------------

    @rpc(args=PostNoticeIn, result=NoticeOut)
    def post_notice(self, actor, title, body, starts_at, ends_at, audience_id=None):
        with self.uow as tx:
            notice = notices.post_notice(tx, actor, title, body, audience_id, starts_at,
                                         ends_at)
            return notices._notice_out(tx.store, notice, tx.store.units())

    @rpc(args=NoticeRefIn, result=NoticeOut)
    def withdraw_notice(self, actor, notice_id):
        with self.uow as tx:
            notice = notices.withdraw_notice(tx, actor, notice_id)
            return notices._notice_out(tx.store, notice, tx.store.units())

    @rpc(args=ActorIn, result=NoticeOut(many=True))
    def admin_notices(self, actor=None):
        """Notices for the administrator's part of the organisation, newest first."""
        with self.uow as tx:
            return notices.notices_for_admin(tx, actor)

    @rpc(args=MemberNoticesIn, result=NoticeOut(many=True))
    def member_notices(self, member_id):
        """The notices shown to this member now."""
        with self.uow as tx:
            return notices.notices_for_member(tx, member_id)

    @rpc(args=RemindIn, result=RemindOut)
    def remind(self, actor, kind, played=(), dry_run=True, level=None, until=None,
               within=None):
        """An SMS to the expected members of the actor's part who have not played
        (`played`), at most SMS_REMINDERS_PER_DAY each in 24 hours; `dry_run` counts them.
        Logged and audited in one transaction, sent after it. `within`: only members under
        this node (the campaign's organisation)."""
        with self.uow as tx:
            text = notices.reminder_text(kind, level, until)
            report, deliveries = notices.remind(tx, actor, kind, text, played, dry_run,
                                                self.knobs.sms_reminders_per_day, within)
        for delivery in deliveries:
            self.sms.send_text(delivery.phone, delivery.text, delivery.at)
        return report

    @rpc(args=ReminderLogIn, result=ReminderLogOut)
    def reminder_log(self, actor, limit=50, offset=0):
        with self.uow as tx:
            return notices.reminder_log(tx, actor, limit, offset,
                                        self.knobs.sms_reminders_per_day)
