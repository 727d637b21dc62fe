from marshmallow import RAISE, Schema, fields


class PolicyLine(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    period = fields.Str(required=True)
    scope = fields.Str(required=True)
    place_from = fields.Int(required=True)
    place_to = fields.Int(required=True)
    kind = fields.Str(required=True)
    amount_cny = fields.Int(allow_none=True)


class AwardOut(Schema):
    id = fields.Str()
    campaign_id = fields.Str()
    period = fields.Str()
    kind = fields.Str()
    rank = fields.Int()
    amount_cny = fields.Int(allow_none=True)
    member_id = fields.Str(allow_none=True)
    org_unit_id = fields.Str(allow_none=True)
    status = fields.Str()
    granted_at = fields.AwareDateTime()
    scope_id = fields.Str(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    paid_by = fields.Str(allow_none=True)
    attention = fields.Str(allow_none=True)


class PeriodQuery(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    period = fields.Str(required=True)
