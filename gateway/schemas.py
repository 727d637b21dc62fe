"""Bodies the API accepts (unknown fields are an error: a typo never passes silently), and the
bodies it answers that the gateway builds itself."""
from marshmallow import (
    RAISE, Schema, ValidationError, fields, validate, validates_schema,
)

from kernel.audit import AuditEntryOut
from services.attempts.schemas import FlagOut, FlagPageOut, ProgressOut
from services.awards.schemas import AnnualResultsOut, PeriodAwardOut, PolicyLine, SettingsOut
from services.awards.schemas import MemberAwardOut
from services.question_bank.schemas import (
    CampaignOut, LevelChangesIn, LevelOut, QuestionFilterIn,
)
from services.ranking.schemas import MonthOut, ScopeRankOut
from services.roster.schemas import AuthorityOut, DisqualificationOut, MemberOut, OrgNodeOut


class _Body(Schema):
    class Meta:
        unknown = RAISE


class EmptyBody(_Body):
    pass


class CodeRequest(_Body):
    phone = fields.Str(required=True, validate=validate.Length(min=1, max=32))


class TokenRequest(_Body):
    phone = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    code = fields.Str(required=True, validate=validate.Length(min=1, max=12))


class StartRequest(_Body):
    level = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=99))


class SubmitRequest(_Body):
    answers = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()), required=True)


class SaveRequest(_Body):
    """The answers so far, all of them (each save replaces the last): at most a paper's
    worth; attempts checks them against the paper (its questions and their options)."""
    answers = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=64)),
        values=fields.List(fields.Str(validate=validate.Length(equal=1)),
                           validate=validate.Length(max=10)),
        required=True, validate=validate.Length(max=200))


MAX_OFFSET = 10**9  # past any list we hold; an unbounded one overflowed SQL's OFFSET (500)
AUDIT_WINDOW = 500  # roster's AuditIn: the most entries one audit_log call returns


def page_offset():
    return fields.Int(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class PageQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=200))
    offset = page_offset()


class AuditQuery(PageQuery):
    """The audit log is merged from every service's, each asked for its newest
    `offset + limit` entries, which roster gives 500 at most: pages end there."""
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=AUDIT_WINDOW - 1))

    @validates_schema
    def _within_the_window(self, data, **kwargs):
        if data.get("offset", 0) + data.get("limit", 0) > AUDIT_WINDOW:
            raise ValidationError(f"offset + limit may not pass {AUDIT_WINDOW}",
                                  field_name="offset")


class BoardQuery(PageQuery):
    month = fields.Str(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"))
    campaign_id = fields.Str(load_default=None, validate=validate.Length(min=1, max=36),
                             metadata={"description": "a past campaign's board (default: "
                                       "the current campaign's)"})


class MemberQuery(PageQuery):
    query = fields.Str(load_default=None, validate=validate.Length(max=100))
    unit_id = fields.Str(load_default=None)
    status = fields.Str(load_default=None, validate=validate.OneOf(["active", "inactive"]))
    disqualified = fields.Bool(load_default=None)


class ImportForm(_Body):
    """The form fields beside an uploaded sheet."""
    dry_run = fields.Bool(load_default=False)
    unit = fields.Str(load_default=None, validate=validate.Length(min=1, max=200))


class OrgUnitsBody(_Body):
    nodes = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000))


class UnitAdminBody(_Body):
    member_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))


class LevelPatch(LevelChangesIn):
    force = fields.Bool(load_default=False, metadata={
        "description": "change a level that has opened anyway (logged as forced)"})
    confirm = fields.Bool(load_default=False, metadata={
        "description": "draw other than R10's 20 questions (409 draw_count_not_r10 without)"})


class QuestionChanges(_Body):
    level = fields.Int(strict=True)
    type = fields.Str()
    stem = fields.Str(validate=validate.Length(min=1, max=5000))
    options = fields.Raw(metadata={"description": "a list, or one string split by |"})
    answer = fields.Str()
    explanation = fields.Str()
    difficulty = fields.Str()
    topic = fields.Str()


class CampaignQuery(_Body):
    campaign_id = fields.Str(load_default=None, validate=validate.Length(min=1, max=36),
                             metadata={"description": "a campaign (GET /api/v1/admin/campaigns"
                                       "); default: the members' current one"})


class CampaignImportForm(_Body):
    """The form fields beside an uploaded campaign sheet."""
    dry_run = fields.Bool(load_default=False)
    force = fields.Bool(load_default=False, metadata={
        "description": "change what has begun (a level that has opened) anyway, logged"})


class CampaignBody(_Body):
    """A new campaign from the seed's pattern (R5/R9) for a year, as a draft to edit."""
    year = fields.Int(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    name = fields.Str(load_default=None, validate=validate.Length(min=1, max=200))
    time_zone = fields.Str(load_default="Asia/Shanghai", validate=validate.Length(min=1, max=64))
    dry_run = fields.Bool(load_default=False)


class TemplateQuery(_Body):
    year = fields.Int(load_default=None, validate=validate.Range(min=2000, max=2100),
                      metadata={"description": "default: this year"})
    time_zone = fields.Str(load_default="Asia/Shanghai", validate=validate.Length(min=1, max=64))
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


class SheetQuery(_Body):
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


class CopyBankBody(_Body):
    from_campaign_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    dry_run = fields.Bool(load_default=False)


class SetupOut(Schema):
    """A fresh install's checklist, in the order to do it: each done or not."""
    organisation = fields.Bool(metadata={"description": "the organisation sheet is in (a "
                                         "unit or an organ branch exists)"})
    campaign = fields.Bool(metadata={"description": "a campaign is published"})
    members = fields.Bool(metadata={"description": "members are in a unit or a branch"})
    questions = fields.Bool(metadata={"description": "the current campaign's level 1 holds "
                                      "at least its draw"})
    campaign_id = fields.Str(allow_none=True)


class QuestionQuery(QuestionFilterIn):
    offset = page_offset()
    campaign_id = CampaignQuery._declared_fields["campaign_id"]


class ExportQuery(_Body):
    campaign_id = CampaignQuery._declared_fields["campaign_id"]
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx", "json"]))
    level = fields.Int(load_default=None)
    status = fields.Str(load_default="active",
                        validate=validate.OneOf(["active", "retired", "all"]))


class QuestionImportForm(_Body):
    dry_run = fields.Bool(load_default=False)
    campaign_id = fields.Str(load_default=None, validate=validate.Length(min=1, max=36),
                             metadata={"description": "a campaign's bank (a draft's too); "
                                       "default: the current campaign"})


class FlagQuery(PageQuery):
    reviewed = fields.Bool(load_default=None)


class RegradeBody(_Body):
    """A regrade after a key correction or a void (R12): a dry run (the default) reports who
    changes and writes nothing."""
    dry_run = fields.Bool(load_default=True)


class ReviewBody(_Body):
    note = fields.Str(required=True, validate=validate.Length(min=2, max=500))
    # cleared: nothing wrong (the member's held awards become payable once no flag of theirs
    # is open); upheld: the flag stands (awards stay held until a disqualification, R20)
    outcome = fields.Str(required=True, validate=validate.OneOf(["cleared", "upheld"]))


class AwardSettingsBody(_Body):
    """Any of the campaign's award settings (the others stay as they are)."""
    exclude_inactive = fields.Bool()
    exclude_withdrawn = fields.Bool()
    exclude_bank_admins = fields.Bool()
    monthly_needs_pass_in_month = fields.Bool()
    excellent_units = fields.Int(strict=True, validate=validate.Range(min=0, max=100))
    excellent_branches = fields.Int(strict=True, validate=validate.Range(min=0, max=100))
    shortlist_size = fields.Int(strict=True, validate=validate.Range(min=1, max=100))


class PolicyBody(_Body):
    lines = fields.List(fields.Dict(), required=True, validate=validate.Length(max=200))


# -- Bodies the API answers ------------------------------------------------------------------
# A route answering an RPC's result as it is declares that RPC's result schema (the one the
# service dumps with); these are the bodies the gateway builds itself, from those schemas.

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class HealthOut(Schema):
    status = fields.Str(metadata={"example": "ok"})


class ReadinessOut(Schema):
    ready = fields.Bool()
    services = fields.Dict(keys=fields.Str(), values=fields.Bool(),
                           metadata={"description": "each service: did it answer a ping"})


class CodeSentOut(Schema):
    status = fields.Str(metadata={"example": "sent_if_known"})


class TokenOut(Schema):
    token = fields.Str()
    expires_at = fields.AwareDateTime()
    member = fields.Nested(MemberOut)


class MeOut(Schema):
    member = fields.Nested(MemberOut)
    progress = fields.Nested(ProgressOut)
    ranks = fields.List(fields.Nested(ScopeRankOut))


class MyAwardsOut(Schema):
    """A member's own awards of the current campaign, newest period first (issue 21 item 3)."""
    campaign_id = fields.Str()
    items = fields.List(fields.Nested(MemberAwardOut))


class LevelStateOut(LevelOut):
    """A level as a member sees it (views.without_bank: no mix), with their state."""
    class Meta:
        exclude = ("mix",)

    state = fields.Str(metadata={"enum": ["passed", "open", "locked"]})


class MemberCampaignOut(CampaignOut):
    levels = fields.List(fields.Nested(LevelStateOut))


class CampaignPageOut(Schema):
    campaign = fields.Nested(MemberCampaignOut)
    progress = fields.Nested(ProgressOut)
    server_now = fields.AwareDateTime()
    month = fields.Str(metadata={"description": "R15: the campaign-local month it is now"})
    month_cutoff = fields.AwareDateTime(metadata={
        "description": "R15: an attempt submitted by then counts in `month`"})


class OrgTreeOut(Schema):
    actor = fields.Nested(AuthorityOut)
    nodes = fields.List(fields.Nested(OrgNodeOut))


class UpsertedOut(Schema):
    upserted = fields.Int(metadata={"description": "nodes added or renamed"})


class DisqualificationsOut(Schema):
    items = fields.List(fields.Nested(DisqualificationOut))


class NamedAuditEntryOut(AuditEntryOut):
    actor_name = fields.Str(allow_none=True)
    target_name = fields.Str(allow_none=True, metadata={
        "description": "the target's name when it is a member"})


class AuditOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(NamedAuditEntryOut))


class NamedMonthOut(MonthOut):
    closed_by_name = fields.Str(allow_none=True, metadata={"description": "once closed"})
    awards_missing = fields.Bool(metadata={
        "description": "closed, but its awards were never granted (grant them again)"})
    closable = fields.Bool(metadata={
        "description": "open, and past its cutoff: an administrator may close it now"})


class MonthsOut(Schema):
    months = fields.List(fields.Nested(NamedMonthOut))


class PeriodAwardsOut(Schema):
    items = fields.List(fields.Nested(PeriodAwardOut))


class AwardSettingsOut(SettingsOut):
    updated_by_name = fields.Str(allow_none=True)


class PolicyOut(Schema):
    lines = fields.List(fields.Nested(PolicyLine))


class AnnualOut(AnnualResultsOut):
    champion_name = fields.Str(allow_none=True)


class NamedFlagOut(FlagOut):
    name = fields.Str(allow_none=True)


class NamedFlagPageOut(FlagPageOut):
    items = fields.List(fields.Nested(NamedFlagOut))


class OpenApiOut(Schema):
    openapi = fields.Str()
    info = fields.Dict()
    paths = fields.Dict()
    components = fields.Dict()


# the bank's export: a file in the asked format (JSON: one object a question, keyed by the
# import's headers)
QUESTION_EXPORT = {"text/csv": None, XLSX: None,
                   "application/json": {"type": "array", "items": {"type": "object"}}}
CAMPAIGN_SHEET = {"text/csv": None, XLSX: None}  # a campaign sheet: one row a level


class ReplayBody(_Body):
    """A replay of a producer's retained events into one agency queue (kernel/replay.py)."""
    service = fields.Str(required=True, validate=validate.OneOf(
        ["roster", "question_bank", "attempts", "ranking", "awards"]))
    since = fields.AwareDateTime(required=True)
    type = fields.Str(load_default=None, validate=validate.Length(min=1, max=64))
    queue = fields.Str(required=True, validate=validate.Length(min=1, max=255))
