from marshmallow import RAISE, Schema, fields, validate


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
