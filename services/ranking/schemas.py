from marshmallow import RAISE, Schema, fields, validate


class BoardIn(Schema):
    class Meta:
        unknown = RAISE

    scope_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    campaign_id = fields.Str(load_default=None)
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))
    month = fields.Str(load_default=None, allow_none=True,
                       validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                error="a month is YYYY-MM"))


class MonthIn(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    month = fields.Str(required=True, validate=validate.Regexp(
        r"^\d{4}-(0[1-9]|1[0-2])$", error="a month is YYYY-MM"))


class EntryOut(Schema):
    rank = fields.Int(allow_none=True)
    member_id = fields.Str()
    name = fields.Str()
    unit_name = fields.Str(allow_none=True)
    phone_masked = fields.Str(allow_none=True)
    levels = fields.Int()
    total_ms = fields.Int()
    at = fields.AwareDateTime()
    disqualified = fields.Bool()
