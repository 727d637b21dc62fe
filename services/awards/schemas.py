from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema


class PolicyLine(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(required=True)
    period = fields.Str(required=True, validate=validate.OneOf(["monthly"]))
    scope = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    place_from = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    place_to = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    kind = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    amount_cny = fields.Int(allow_none=True, strict=True, validate=validate.Range(min=0))

    @validates_schema
    def _places_in_order(self, data, **kwargs):
        if data.get("place_to", 0) < data.get("place_from", 0):
            raise ValidationError("place_to comes at or after place_from", "place_to")


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


# -- what crosses awards' RPC boundary ---------------------------------------------------------

class _Args(Schema):
    class Meta:
        unknown = RAISE


class CampaignIn(_Args):
    campaign_id = fields.Str(required=True)


class PolicyIn(_Args):
    campaign_id = fields.Str(required=True)
    lines = fields.List(fields.Dict(), required=True)  # each line is a PolicyLine


class LedgerIn(PeriodQuery):
    departments = fields.Dict(keys=fields.Str(), allow_none=True)  # member → department


class AnnualXlsxIn(_Args):
    campaign_id = fields.Str(required=True)
    names = fields.Dict(keys=fields.Str(), allow_none=True)  # org unit → name
    champion_name = fields.Str(allow_none=True)
    results = fields.Dict(allow_none=True)  # as annual_results gives them, maybe scoped


class MarkPaidIn(_Args):
    actor = fields.Str(required=True)
    award_id = fields.Str(required=True)


class PeriodAwardOut(AwardOut):
    """An award with what its board showed (absent when the member was on no kept board)."""
    name = fields.Str(allow_none=True)
    unit_name = fields.Str(allow_none=True)
    phone_masked = fields.Str(allow_none=True)
    levels = fields.Int()
    total_ms = fields.Int()


class AnnualResultsOut(Schema):
    campaign_id = fields.Str()
    champion_member_id = fields.Str(allow_none=True)
    units = fields.List(fields.Raw())  # each organisation's figures, as annual.as_json
    branches = fields.List(fields.Raw())


class ParticipationOut(Schema):
    campaign_id = fields.Str()
    levels = fields.Int()  # the campaign's levels, R18's denominator
    units = fields.List(fields.Raw())
    branches = fields.List(fields.Raw())


class XlsxOut(Schema):
    filename = fields.Str()
    content_b64 = fields.Str()
    rows = fields.Int()  # the ledger's award rows
