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
    # what eligibility for a prize depends on (issue 18), marks for the pages and awards:
    # false only on a closed month's board (the live one leaves the inactive out)
    active = fields.Bool()
    participation = fields.Str(allow_none=True)  # required, voluntary, withdrawn
    bank_admin = fields.Bool()  # holds system_admin or organisation_admin
    # closed months only: passed a level inside the month (None: closed before it was kept)
    passed_in_month = fields.Bool(allow_none=True)


class CloseIn(MonthIn):
    actor = fields.Str(load_default=None, validate=validate.Length(min=1, max=36))


class CampaignIn(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.Str(load_default=None)


class RankIn(CampaignIn):
    member_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))


class RebuildIn(CampaignIn):
    page = fields.Int(load_default=1000, validate=validate.Range(min=1))


class BoardOut(Schema):
    """A live board's page, or a closed month's (with its snapshot and cutoff)."""
    scope_id = fields.Str()
    campaign_id = fields.Str(allow_none=True)
    total = fields.Int()
    month = fields.Str(allow_none=True)
    snapshot_id = fields.Str()
    cutoff = fields.DateTime()
    entries = fields.Nested(EntryOut, many=True)


class MonthOut(Schema):
    """A month of the campaign; the fields from closed_at on only once it is closed."""
    campaign_id = fields.Str()
    month = fields.Str()
    closed = fields.Bool()
    cutoff = fields.DateTime()
    closed_at = fields.DateTime()
    closed_by = fields.Str()
    snapshot_id = fields.Str()
    ranked_members = fields.Int()
    passes = fields.Int(attribute="passes_counted")
    final = fields.Bool()


class ScopeRankOut(Schema):
    scope_id = fields.Str()
    rank = fields.Int(allow_none=True)


class RankOut(Schema):
    member_id = fields.Str()
    campaign_id = fields.Str(allow_none=True)
    scopes = fields.Nested(ScopeRankOut, many=True)


class RebuildOut(Schema):
    campaign_id = fields.Str(allow_none=True)
    passes = fields.Int()
    members = fields.Int()


class MonthLevelsOut(Schema):
    """A closed month's levels per member at its cutoff (the organisers' reports, R19)."""
    month = fields.Str()
    cutoff = fields.AwareDateTime()
    final = fields.Bool()
    levels = fields.Dict(keys=fields.Str(), values=fields.Int())
