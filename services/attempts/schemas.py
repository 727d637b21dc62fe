from marshmallow import RAISE, Schema, fields, validate


class _In(Schema):
    class Meta:
        unknown = RAISE


class StartIn(_In):
    member_id = fields.Str(required=True)
    level = fields.Int(required=True, strict=True, validate=validate.Range(min=1))


class SubmitIn(_In):
    member_id = fields.Str(required=True)
    attempt_id = fields.Str(required=True)
    answers = fields.Dict(
        keys=fields.Str(),
        values=fields.List(fields.Str(validate=validate.Length(max=1)), required=True),
        required=True,
    )


class PageIn(_In):
    member_id = fields.Str(required=True)
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class FlagPageIn(_In):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))
    reviewed = fields.Bool(load_default=None, allow_none=True)


class ReviewIn(_In):
    note = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class OptionOut(Schema):
    key = fields.Str()
    text = fields.Str()


class QuestionOut(Schema):
    id = fields.Str()
    number = fields.Int()
    type = fields.Str()
    stem = fields.Str()
    options = fields.List(fields.Nested(OptionOut))


class AttemptOut(Schema):
    """An open attempt as the member sees it: never the key."""

    attempt_id = fields.Str(attribute="id")
    level = fields.Int()
    run_id = fields.Str()
    started_at = fields.AwareDateTime()
    deadline = fields.AwareDateTime()
    time_limit_s = fields.Int()
    questions = fields.List(fields.Nested(QuestionOut))


class RunOut(Schema):
    run_id = fields.Str(attribute="id")
    run_number = fields.Int()
    active = fields.Bool()
    current_level = fields.Int()
    levels_passed = fields.Int()
    total_ms = fields.Int()
    last_pass_at = fields.AwareDateTime(allow_none=True)
    started_at = fields.AwareDateTime()


class HistoryOut(Schema):
    attempt_id = fields.Str(attribute="id")
    run_id = fields.Str()
    level = fields.Int()
    status = fields.Str()
    reason = fields.Str(allow_none=True)
    started_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    duration_ms = fields.Int(allow_none=True)
    correct = fields.Int(allow_none=True)
    total = fields.Int()


class UntilIn(_In):
    until = fields.AwareDateTime(required=True)


class ExportIn(_In):
    after = fields.Str(load_default=None, allow_none=True)
    limit = fields.Int(load_default=1000, validate=validate.Range(min=1, max=5000))


class PassOut(Schema):
    """The data of an `attempt_passed` event (kernel/events.py), JSON-ready."""

    attempt_id = fields.Str()
    member_id = fields.Str()
    campaign_id = fields.Str()
    run_id = fields.Str()
    run_number = fields.Int()
    level = fields.Int()
    started_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime()
    duration_ms = fields.Int()
    run_levels_passed = fields.Int()
    run_total_ms = fields.Int()
    question_ids = fields.List(fields.Str())
    wrong_question_ids = fields.List(fields.Str())
