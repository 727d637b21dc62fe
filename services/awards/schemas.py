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
    status = fields.Str()  # held (待审核) | granted (payable, 待发放) | paid | revoked
    granted_at = fields.AwareDateTime()
    scope_id = fields.Str(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    paid_by = fields.Str(allow_none=True)
    attention = fields.Str(allow_none=True)


class MemberAwardsIn(Schema):
    class Meta:
        unknown = RAISE

    member_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)


class MemberAwardOut(Schema):
    """A member's own award as they are told of it (no payer, no internal remarks)."""

    period = fields.Str()  # YYYY-MM, or YYYY for the year's
    kind = fields.Str()
    rank = fields.Int()
    scope_id = fields.Str(allow_none=True)
    amount_cny = fields.Int(allow_none=True)
    state = fields.Str()  # held (审核中) | payable (待发放) | paid (已发放) | revoked (已取消)
    granted_at = fields.AwareDateTime()
    paid_at = fields.AwareDateTime(allow_none=True)


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
    actor = fields.Str(load_default=None)  # who changes it (the audit's actor)


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
    held_for = fields.List(fields.Dict())  # a held award's flags: flag_id, reason, level, state
    remark = fields.Str()  # why it is held, what is owed, or why it was revoked (Chinese)


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


# -- the eligibility settings, a month granted again ---------------------------------------

class SettingsIn(_Args):
    """A campaign's award settings as an administrator changes them (any subset)."""
    exclude_inactive = fields.Bool(required=True)
    exclude_withdrawn = fields.Bool(required=True)
    exclude_bank_admins = fields.Bool(required=True)
    monthly_needs_pass_in_month = fields.Bool(required=True)
    excellent_units = fields.Int(required=True, strict=True, validate=validate.Range(min=0, max=100))
    excellent_branches = fields.Int(required=True, strict=True,
                                    validate=validate.Range(min=0, max=100))
    shortlist_size = fields.Int(required=True, strict=True,
                                validate=validate.Range(min=1, max=100))


class SetSettingsIn(_Args):
    actor = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    changes = fields.Dict(required=True)  # a SettingsIn, partial


class SettingsOut(Schema):
    campaign_id = fields.Str()
    exclude_inactive = fields.Bool()
    exclude_withdrawn = fields.Bool()
    exclude_bank_admins = fields.Bool()
    monthly_needs_pass_in_month = fields.Bool()
    excellent_units = fields.Int()
    excellent_branches = fields.Int()
    shortlist_size = fields.Int()  # the live contest's shortlist (R6, R17)
    updated_at = fields.AwareDateTime(allow_none=True)
    updated_by = fields.Str(allow_none=True)


class GrantIn(_Args):
    actor = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    month = fields.Str(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))


class GrantOut(Schema):
    month = fields.Str()
    granted = fields.Bool()  # false: its awards were there already (nothing done)
    awards = fields.Int()  # the month's awards not revoked, now
    held = fields.Int()  # of which held for review


class MissingIn(_Args):
    campaign_id = fields.Str(required=True)
    months = fields.List(fields.Str(), required=True)  # ranking's closed months


# -- what organisers hand on (issue 23) ----------------------------------------------------

class ShortlistIn(_Args):
    campaign_id = fields.Str(required=True)
    month = fields.Str(load_default=None, allow_none=True,
                       validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))


class ShortlistEntryOut(Schema):
    place = fields.Int()  # among the eligible, 1..size
    member_id = fields.Str()
    name = fields.Str(allow_none=True)
    unit_name = fields.Str(allow_none=True)
    phone_masked = fields.Str(allow_none=True)
    levels = fields.Int()
    total_ms = fields.Int()
    at = fields.Raw(allow_none=True)  # when the last level counted was passed


class ShortlistOut(Schema):
    size = fields.Int()  # the settings' shortlist_size
    entries = fields.List(fields.Nested(ShortlistEntryOut))


class UnitReportOut(Schema):
    campaign_id = fields.Str()
    levels = fields.Int()
    months = fields.List(fields.Str())  # the closed months, in order
    organisations = fields.List(fields.Raw())  # each: kind, now, months (figures per month)
    not_played = fields.List(fields.Raw())  # expected members with no attempt: id, org_path
