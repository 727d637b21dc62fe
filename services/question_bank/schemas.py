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


class CampaignIn(Schema):
    class Meta:
        unknown = RAISE

    organisation_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    time_zone = fields.Str(load_default="Asia/Shanghai")


# -- RPC arguments: each field a parameter of the entrypoint it is declared on --------------

def _actor():
    return fields.Str(required=True, allow_none=True)  # None: the platform itself


def _campaign_ref():
    return fields.Str(load_default=None, allow_none=True)  # None: the current campaign


class CampaignRefIn(_In):
    campaign_id = _campaign_ref()


class UpdateLevelIn(_In):
    actor = _actor()
    campaign_id = fields.Str(required=True)
    number = fields.Int(required=True, strict=True)
    changes = fields.Raw(required=True, allow_none=True)  # LevelChangesIn, naming its fields
    force = fields.Bool(load_default=False)


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
    warnings = fields.List(fields.Str())


class CampaignViewOut(CampaignOut):
    levels = fields.List(fields.Nested(CampaignLevelOut))


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
