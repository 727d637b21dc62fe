from marshmallow import RAISE, Schema, fields, validate


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
