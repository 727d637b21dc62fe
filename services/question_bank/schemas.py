from marshmallow import RAISE, Schema, fields, validate

from kernel.schemas import ImportReportOut, PaperQuestionOut  # noqa: F401 (re-exported)


class _In(Schema):
    class Meta:
        unknown = RAISE


class LevelChangesIn(_In):
    title = fields.Str(validate=validate.Length(min=1, max=200))
    theme = fields.Str(validate=validate.Length(min=1, max=200))
    opens_at = fields.AwareDateTime()
    time_limit_s = fields.Int(strict=True, validate=validate.Range(min=300, max=1200,
                              error="R10: 5 to 20 minutes (300 to 1200 seconds)"))
    draw_count = fields.Int(strict=True, validate=validate.Range(min=1, max=100))
    mix = fields.Dict(keys=fields.Str(validate=validate.OneOf(["easy", "medium", "hard"])),
                      values=fields.Int(strict=True, validate=validate.Range(min=0)),
                      allow_none=True)


class QuestionFilterIn(_In):
    level = fields.Int(load_default=None, allow_none=True)
    status = fields.Str(load_default="active",
                        validate=validate.OneOf(["active", "retired", "all"]))
    topic = fields.Str(load_default=None, allow_none=True)
    difficulty = fields.Str(load_default=None, allow_none=True,
                            validate=validate.OneOf(["easy", "medium", "hard"]))
    query = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class ExportIn(_In):
    fmt = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx", "json"]))
    level = fields.Int(load_default=None, allow_none=True)
    status = fields.Str(load_default="active",
                        validate=validate.OneOf(["active", "retired", "all"]))


class LevelOut(Schema):
    number = fields.Int()
    title = fields.Str()
    theme = fields.Str()
    opens_at = fields.AwareDateTime()
    time_limit_s = fields.Int()
    draw_count = fields.Int()
    mix = fields.Dict(allow_none=True)


class CampaignOut(Schema):
    campaign_id = fields.Str(attribute="id")
    name = fields.Str()
    year = fields.Int()
    time_zone = fields.Str()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    organisation_id = fields.Str()
    published_at = fields.AwareDateTime(allow_none=True)


class ImportIn(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(max=20000))
    dry_run = fields.Bool(load_default=False)


class DrawIn(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    level = fields.Int(required=True, strict=True)


# -- RPC arguments: each field a parameter of the entrypoint it is declared on --------------

def _actor():
    return fields.Str(required=True, allow_none=True)  # None: the platform itself


def _campaign_ref():
    return fields.Str(load_default=None, allow_none=True)  # None: the current campaign


class CampaignRefIn(_In):
    campaign_id = _campaign_ref()


class ImportCampaignIn(_In):
    """A campaign sheet's rows (campaign_sheet.py names their columns)."""
    actor = _actor()
    organisation_id = fields.Str(load_default=None, allow_none=True)  # a new campaign's
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(max=200))
    dry_run = fields.Bool(load_default=False)
    force = fields.Bool(load_default=False)
    source = fields.Str(load_default=None, allow_none=True)


class CreateCampaignIn(_In):
    actor = _actor()
    organisation_id = fields.Str(required=True, allow_none=True)
    year = fields.Int(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    time_zone = fields.Str(load_default="Asia/Shanghai")
    name = fields.Str(load_default=None, allow_none=True)
    dry_run = fields.Bool(load_default=False)


class CampaignSheetIn(_In):
    actor = _actor()
    organisation_id = fields.Str(load_default=None, allow_none=True)
    content_b64 = fields.Raw(required=True)  # kernel.sheets names a bad file itself
    filename = fields.Raw(required=True)
    dry_run = fields.Bool(load_default=False)
    force = fields.Bool(load_default=False)


class PublishIn(_In):
    actor = _actor()
    campaign_id = fields.Str(required=True)


class CampaignTemplateIn(_In):
    year = fields.Int(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    time_zone = fields.Str(load_default="Asia/Shanghai")
    fmt = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


class CampaignExportIn(_In):
    campaign_id = fields.Str(required=True)
    fmt = fields.Str(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


class CopyBankIn(_In):
    actor = _actor()
    from_campaign_id = fields.Str(required=True)
    to_campaign_id = fields.Str(required=True)
    dry_run = fields.Bool(load_default=False)


class UpdateLevelIn(_In):
    actor = _actor()
    campaign_id = fields.Str(required=True)
    number = fields.Int(required=True, strict=True)
    changes = fields.Raw(required=True, allow_none=True)  # LevelChangesIn, naming its fields
    force = fields.Bool(load_default=False)
    confirm = fields.Bool(load_default=False)  # a draw other than R10's 20


class ImportQuestionsIn(ImportIn):
    actor = fields.Str(load_default=None, allow_none=True)
    source = fields.Str(load_default=None, allow_none=True)


class ImportSheetIn(_In):
    campaign_id = fields.Str(required=True)
    content_b64 = fields.Raw(required=True)  # kernel.sheets names a bad file itself
    filename = fields.Raw(required=True)
    dry_run = fields.Bool(load_default=False)
    actor = fields.Str(load_default=None, allow_none=True)


class ListQuestionsIn(QuestionFilterIn):
    campaign_id = _campaign_ref()


class QuestionChangeIn(_In):
    actor = _actor()
    question_id = fields.Raw(required=True, allow_none=True)  # not a question: NotFound
    changes = fields.Raw(required=True, allow_none=True)  # checked as an import row is


class QuestionRefIn(_In):
    actor = _actor()
    question_id = fields.Raw(required=True, allow_none=True)


class QuestionIdIn(_In):
    question_id = fields.Raw(required=True, allow_none=True)


class ExportQuestionsIn(ExportIn):
    campaign_id = _campaign_ref()


class CountIn(_In):
    campaign_id = fields.Str(required=True)


class LevelStatisticsIn(_In):
    campaign_id = _campaign_ref()
    number = fields.Int(required=True, strict=True)
    limit = fields.Int(load_default=10)
    per_question = fields.Bool(load_default=True)


class AuditLogIn(_In):
    visible = fields.List(fields.Str(), load_default=None, allow_none=True)  # None: all
    limit = fields.Int(load_default=50)  # the gateway's window over every service's log
    offset = fields.Int(load_default=0)


# -- RPC results -----------------------------------------------------------------------------

class CampaignLevelOut(LevelOut):
    active_questions = fields.Int()
    # questions the active bank lacks for one paper: above 0, every start is refused
    bank_short = fields.Int()
    warnings = fields.List(fields.Str())


class CampaignViewOut(CampaignOut):
    levels = fields.List(fields.Nested(CampaignLevelOut))


class CampaignImportOut(ImportReportOut):
    """A campaign sheet's report: levels created, updated, unchanged and removed, each bad
    row and column; the campaign as it is (or would be, on a dry run) when the sheet is good."""
    removed = fields.Int()
    campaign = fields.Nested(CampaignViewOut, allow_none=True)


class CampaignSummaryOut(Schema):
    campaign_id = fields.Str()
    name = fields.Str()
    year = fields.Int()
    time_zone = fields.Str()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    organisation_id = fields.Str()
    published_at = fields.AwareDateTime(allow_none=True)
    current = fields.Bool()  # the members' campaign (kernel/campaigns.py)
    levels = fields.Int()
    active_questions = fields.Int()


class CampaignListOut(Schema):
    items = fields.List(fields.Nested(CampaignSummaryOut))


class BankSetupOut(Schema):
    """question_bank's part of a fresh install's checklist."""
    campaign = fields.Bool()  # a campaign exists (a draft will do)
    published = fields.Bool()  # one is the members' campaign
    questions = fields.Bool()  # its level 1 holds at least its draw
    campaign_id = fields.Str(allow_none=True)


class QuestionRowOut(Schema):
    """A question in the sheet's shape (questions.as_row)."""
    id = fields.Str()
    level = fields.Int()
    type = fields.Str()
    stem = fields.Str()
    options = fields.Str()
    answer = fields.Str()
    explanation = fields.Str()
    difficulty = fields.Str()
    topic = fields.Str()
    status = fields.Str()


class StatisticsOut(Schema):
    """statistics.describe"""
    shown = fields.Int()
    graded = fields.Int()
    right = fields.Int()
    wrong = fields.Int()
    facility = fields.Float(allow_none=True)
    discrimination = fields.Float(allow_none=True)
    flags = fields.List(fields.Str())


class ListedQuestionOut(QuestionRowOut):
    statistics = fields.Nested(StatisticsOut, allow_none=True)
    retired_at = fields.AwareDateTime(allow_none=True)
    voided_at = fields.AwareDateTime(allow_none=True)  # voided: right on every paper (R12)


class QuestionPageOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(ListedQuestionOut))


class ExportOut(Schema):
    filename = fields.Str()
    media_type = fields.Str()
    content_b64 = fields.Str()
    rows = fields.Int()


class PaperOut(Schema):
    """A drawn paper, for the attempts service only: `key` must never reach a member."""
    campaign_id = fields.Str()
    level = fields.Int()
    time_limit_s = fields.Int()
    questions = fields.List(fields.Nested(PaperQuestionOut))
    key = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))
    bank_size = fields.Int()


class QuestionKeyOut(Schema):
    """A question's key for attempts' regrade (bank.question_key): never for a member."""
    question_id = fields.Str()
    campaign_id = fields.Str()
    organisation_id = fields.Str()
    level = fields.Int()
    type = fields.Str()
    options = fields.List(fields.Str())
    right = fields.List(fields.Str())
    voided = fields.Bool()


class QuestionStatisticsOut(StatisticsOut):
    question_id = fields.Str()
    stem = fields.Str(allow_none=True)
    status = fields.Str(allow_none=True)
    topic = fields.Str(allow_none=True)


class LimitsOut(Schema):
    min_graded = fields.Int()
    facility_floor = fields.Float()
    discrimination_floor = fields.Float()


class LevelStatisticsOut(Schema):
    """The level's figures; the per-question ones only when asked (absent otherwise)."""
    campaign_id = fields.Str()
    level = fields.Int()
    attempts = fields.Int()
    passes = fields.Int()
    pass_rate = fields.Float(allow_none=True)
    members_tried = fields.Int()
    members_passed = fields.Int()
    mean_attempts_to_pass = fields.Float(allow_none=True)
    expired = fields.Int()
    active_questions = fields.Int()
    flagged = fields.List(fields.Nested(QuestionStatisticsOut))
    most_wrong = fields.List(fields.Nested(QuestionStatisticsOut))
    questions = fields.List(fields.Nested(QuestionStatisticsOut))
    limits = fields.Nested(LimitsOut)
