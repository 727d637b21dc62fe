from marshmallow import RAISE, Schema, ValidationError, fields, validate

from kernel import schemas as kernel_schemas
from kernel.events import MemberDisplay


CATEGORIES = ["party_member", "department_level", "non_party"]
PARTICIPATIONS = ["required", "voluntary", "withdrawn"]
STATUSES = ["active", "inactive"]


class _In(Schema):
    class Meta:
        unknown = RAISE


class OrgUnitIn(_In):
    id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    parent_id = fields.Str(load_default=None, allow_none=True)
    kind = fields.Str(required=True,
                      validate=validate.OneOf(["system", "organisation", "unit", "branch"]))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))


class ImportIn(_In):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(max=20000))
    dry_run = fields.Bool(load_default=False)


class CodeIn(_In):
    phone = fields.Str(required=True)
    code = fields.Str(load_default=None)


class AuditIn(_In):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class MemberFilterIn(AuditIn):
    query = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    unit_id = fields.Str(load_default=None, allow_none=True)
    status = fields.Str(load_default=None, allow_none=True,
                        validate=validate.OneOf(STATUSES))
    disqualified = fields.Bool(load_default=None, allow_none=True)


class MemberChangesIn(_In):
    name = fields.Str(validate=validate.Length(min=1, max=100))
    department = fields.Str(allow_none=True, validate=validate.Length(max=200))
    org_unit_id = fields.Str(validate=validate.Length(min=1, max=36))
    category = fields.Str(validate=validate.OneOf(CATEGORIES))
    participation = fields.Str(validate=validate.OneOf(PARTICIPATIONS))
    status = fields.Str(validate=validate.OneOf(STATUSES))


class ParticipationIn(_In):
    participation = fields.Str(required=True, validate=validate.OneOf(["voluntary", "withdrawn"]))


class DecisionIn(_In):
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class RoleChangeIn(_In):
    role = fields.Str(required=True,
                      validate=validate.OneOf(["organisation_admin", "system_admin"]))
    org_unit_id = fields.Str(required=True)
    grant = fields.Bool(required=True)


class RoleOut(Schema):
    role = fields.Str()
    org_unit_id = fields.Str()


class MemberOut(Schema):
    member_id = fields.Str()
    name = fields.Str()
    department = fields.Str(allow_none=True)
    phone_masked = fields.Str()
    org_path = fields.List(fields.Str())
    org_path_names = fields.List(fields.Str())
    unit_id = fields.Str()
    unit_name = fields.Str()
    category = fields.Str()
    participation = fields.Str()
    status = fields.Str()
    disqualified = fields.Bool()
    roles = fields.List(fields.Nested(RoleOut))


# -- RPC arguments: each field a parameter of the entrypoint it is declared on --------------
# Ids are Raw: a value that names no member or unit is NotFound (or Forbidden, for an actor),
# whatever its type, as the use cases say it.

def _id(required=True):
    return fields.Raw(required=required, allow_none=True)


def _actor(required=False):
    return fields.Raw(required=required, allow_none=True)  # None: the platform itself


class UpsertOrgUnitsIn(_In):
    nodes = fields.List(fields.Raw(), required=True)  # each checked as OrgUnitIn, by number
    actor = _actor()


class AuthorizeIn(_In):
    actor = _actor(required=True)
    node_id = fields.Str(allow_none=True)
    roles = fields.List(fields.Str())


class ImportMembersIn(ImportIn):
    actor = _actor()
    source = fields.Str(allow_none=True)
    unit = fields.Str(allow_none=True)  # the unit (id or name) of rows without one


class ImportOrgIn(ImportIn):
    actor = _actor()
    source = fields.Str(allow_none=True)


class ImportOrgSheetIn(_In):
    content_b64 = fields.Raw(required=True)
    filename = fields.Raw(required=True)
    dry_run = fields.Bool()
    actor = _actor()


class UnitWarningOut(Schema):
    """R4: a unit without its administrator (members cannot be moved into it yet)."""
    unit_id = fields.Str()
    name = fields.Str()
    reason = fields.Str()


class OrgImportReportOut(kernel_schemas.ImportReportOut):
    warnings = fields.List(fields.Nested(UnitWarningOut))


class ImportSheetIn(_In):
    content_b64 = fields.Raw(required=True)  # kernel.sheets names a bad file itself
    filename = fields.Raw(required=True)
    dry_run = fields.Bool()
    actor = _actor()
    unit = fields.Str(allow_none=True)


class MemberRefIn(_In):
    member_id = _id()
    actor = _actor()


class PlayerIn(_In):
    member_id = _id()


class ListMembersIn(MemberFilterIn):
    actor = _actor()


class MemberIdsIn(_In):
    member_ids = fields.List(fields.Raw(), required=True, allow_none=True)


class ContactsIn(_In):
    actor = _actor(required=True)
    member_ids = fields.List(fields.Raw(), required=True)


class UpdateMemberIn(_In):
    actor = _actor(required=True)
    member_id = _id()
    changes = fields.Raw(required=True, allow_none=True)  # MemberChangesIn, naming its fields


class UnitAdminIn(_In):
    actor = _actor(required=True)
    unit_id = _id()
    member_id = _id()


class ChangeRoleIn(_In):
    actor = _actor(required=True)
    member_id = _id()
    change = fields.Raw(required=True, allow_none=True)  # RoleChangeIn, naming its fields


class SetParticipationIn(ParticipationIn):
    member_id = _id()


class DecideIn(DecisionIn):
    actor = _actor(required=True)
    member_id = _id()


class DisqualifyIn(DecisionIn):
    """R20's decision with what it rests on: the decider's account and the flags it cites."""
    evidence = fields.Str(load_default=None, allow_none=True,
                          validate=validate.Length(max=2000))
    flag_ids = fields.List(fields.Int(strict=True), load_default=list,
                           validate=validate.Length(max=100))


class DisqualifyDecideIn(DisqualifyIn):
    actor = _actor(required=True)
    member_id = _id()


def _notice_year(value) -> None:
    """A notice's instants within years 2000–2100 (year 1 or 9999 with an offset cannot be
    stored as an instant)."""
    if not 2000 <= value.year <= 2100:
        raise ValidationError("between the years 2000 and 2100")


class NoticeIn(_In):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    body = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    audience_id = fields.Str(load_default=None, allow_none=True,
                             validate=validate.Length(min=1, max=36),
                             metadata={"description": "a node: everyone under it; null: "
                                       "everyone (system administrators)"})
    starts_at = fields.AwareDateTime(required=True, validate=_notice_year)
    ends_at = fields.AwareDateTime(required=True, validate=_notice_year)


class PostNoticeIn(NoticeIn):
    actor = _actor(required=True)


class NoticeRefIn(_In):
    actor = _actor(required=True)
    notice_id = fields.Int(required=True, strict=True)


class MemberNoticesIn(_In):
    member_id = fields.Str(required=True)


class RemindIn(_In):
    actor = _actor(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(["level_open", "month_end"]))
    level = fields.Int(load_default=None, allow_none=True)  # level_open's level
    until = fields.Str(load_default=None, allow_none=True)  # month_end's last day, as said
    played = fields.List(fields.Str(), load_default=list)
    dry_run = fields.Bool(load_default=True)
    within = fields.Str(load_default=None, allow_none=True)  # the campaign's organisation


class ReminderLogIn(_In):
    actor = _actor(required=True)
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class ActorIn(_In):
    actor = _actor()


class AuditLogIn(AuditIn):
    actor = _actor(required=True)


class PhoneIn(_In):
    phone = fields.Raw(required=True, allow_none=True)  # normalised, or BadInput naming it


# -- RPC results ----------------------------------------------------------------------------

class UnitAdminOut(Schema):
    member_id = fields.Str()
    name = fields.Str(allow_none=True)


class OrgNodeOut(Schema):
    id = fields.Str()
    parent_id = fields.Str(allow_none=True)
    kind = fields.Str()
    name = fields.Str()
    members = fields.Int()
    admin = fields.Nested(UnitAdminOut, allow_none=True)
    code = fields.Str(allow_none=True)  # the organisation sheet's 编码
    warnings = fields.List(fields.Str())  # `unit_without_admin` (R4)


class AuthorityOut(Schema):
    member_id = fields.Str()
    name = fields.Str()
    scopes = fields.List(fields.Str(), allow_none=True)  # None: everywhere
    visible = fields.List(fields.Str(), allow_none=True)
    roles = fields.List(fields.Nested(RoleOut))


class ImportReportOut(kernel_schemas.ImportReportOut):
    skipped = fields.Int()  # the good rows of a unit left without its administrator (R4)


class PlayStatusOut(Schema):
    status = fields.Str()
    disqualified = fields.Bool()


class MemberPageOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(MemberOut))


class AgencyRosterIn(_In):
    since = fields.AwareDateTime(load_default=None, allow_none=True)
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class AgencyMemberOut(Schema):
    """A member as another agency sees them: who they are as the events say it (`member`),
    where, and whether they take part; never the full phone, the department or roles."""
    member_id = fields.Str()
    member = fields.Nested(MemberDisplay)
    org_path = fields.List(fields.Str())
    category = fields.Str()
    participation = fields.Str()
    status = fields.Str()
    disqualified = fields.Bool()
    updated_at = fields.AwareDateTime()


class AgencyRosterOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(AgencyMemberOut))
    as_of = fields.AwareDateTime()  # the next `since` for a caller keeping up


class ScoringRowOut(Schema):
    member_id = fields.Str()
    participation = fields.Str()
    status = fields.Str()
    disqualified = fields.Bool()  # R18: a participant whose results count 0
    org_path = fields.List(fields.Str())


class RemovalsIn(_In):
    since = fields.AwareDateTime(load_default=None, allow_none=True)
    until = fields.AwareDateTime(load_default=None, allow_none=True)


class StandingOut(Schema):
    participation = fields.Str()
    status = fields.Str()
    org_unit_id = fields.Str()


class RemovalOut(Schema):
    """A member who left R18's denominator of the nodes `left`, who did it and when."""
    member_id = fields.Str()
    name = fields.Str(allow_none=True)
    phone_masked = fields.Str(allow_none=True)
    before = fields.Nested(StandingOut)
    after = fields.Nested(StandingOut)
    left = fields.List(fields.Str())
    at = fields.AwareDateTime()
    by = fields.Str(allow_none=True)  # None: the platform itself
    by_name = fields.Str(allow_none=True)


class PlaceOut(Schema):
    name = fields.Str()
    org_unit_id = fields.Str()
    department = fields.Str()


class PlacesOut(Schema):
    """{member_id: PlaceOut}: the keys are ids, so the mapping is dumped entry by entry."""

    def dump(self, obj, *, many=None):
        return {member_id: PlaceOut().dump(place) for member_id, place in obj.items()}


class DisqualificationOut(Schema):
    member_id = fields.Str()
    name = fields.Str()
    phone_masked = fields.Str()
    unit_id = fields.Str()
    unit_name = fields.Str()
    reason = fields.Str()
    decided_at = fields.Str()  # isoformat
    decided_by = fields.Str()
    decided_by_name = fields.Str()
    reinstated_at = fields.Str(allow_none=True)
    reinstated_by = fields.Str(allow_none=True)
    reinstated_by_name = fields.Str(allow_none=True)
    reinstate_reason = fields.Str(allow_none=True)
    evidence = fields.Str(allow_none=True)  # what the decision rests on (issue 23)
    flag_ids = fields.List(fields.Int())  # the flags it cites


# -- notices and reminders (notices.py; issue 23) ------------------------------------------------

class NoticeOut(Schema):
    """A notice (dumps notices._notice_out's dict)."""
    notice_id = fields.Int(attribute="notice.id")
    title = fields.Str(attribute="notice.title")
    body = fields.Str(attribute="notice.body")
    audience_id = fields.Str(attribute="notice.audience_id", allow_none=True)
    audience_name = fields.Str(allow_none=True)  # None: everyone
    starts_at = fields.AwareDateTime(attribute="notice.starts_at")
    ends_at = fields.AwareDateTime(attribute="notice.ends_at")
    created_by = fields.Str(attribute="notice.created_by")
    created_by_name = fields.Str(allow_none=True)
    created_at = fields.AwareDateTime(attribute="notice.created_at")
    withdrawn_at = fields.AwareDateTime(attribute="notice.withdrawn_at", allow_none=True)


class RemindOut(Schema):
    batch = fields.Str(allow_none=True)  # None: a preview, or nobody to send to
    kind = fields.Str()
    text = fields.Str()
    dry_run = fields.Bool()
    expected_not_played = fields.Int()  # expected members of the part who have not played
    recipients = fields.Int()  # who receives it (or would)
    capped = fields.Int()  # left out: the daily cap reached
    per_day = fields.Int()


class ReminderBatchOut(Schema):
    batch = fields.Str()
    kind = fields.Str()
    text = fields.Str()
    sent_by = fields.Str()
    sent_by_name = fields.Str(allow_none=True)
    sent_at = fields.AwareDateTime()
    recipients = fields.Int()


class ReminderLogOut(Schema):
    total = fields.Int()
    per_day = fields.Int()  # SMS_REMINDERS_PER_DAY: the cap each member is held to
    items = fields.List(fields.Nested(ReminderBatchOut))
