from marshmallow import RAISE, Schema, fields, validate


CATEGORIES = ["party_member", "department_level", "non_party"]
PARTICIPATIONS = ["required", "voluntary", "withdrawn"]
STATUSES = ["active", "inactive"]


class _In(Schema):
    class Meta:
        unknown = RAISE


class OrgUnitIn(_In):
    id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    parent_id = fields.Str(load_default=None, allow_none=True)
    kind = fields.Str(required=True,
                      validate=validate.OneOf(["system", "organisation", "unit", "branch"]))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))


class ImportIn(_In):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(max=20000))
    dry_run = fields.Bool(load_default=False)


class CodeIn(_In):
    phone = fields.Str(required=True)
    code = fields.Str(load_default=None)


class AuditIn(_In):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class MemberFilterIn(AuditIn):
    query = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    unit_id = fields.Str(load_default=None, allow_none=True)
    status = fields.Str(load_default=None, allow_none=True,
                        validate=validate.OneOf(STATUSES))
    disqualified = fields.Bool(load_default=None, allow_none=True)


class MemberChangesIn(_In):
    name = fields.Str(validate=validate.Length(min=1, max=100))
    department = fields.Str(allow_none=True, validate=validate.Length(max=200))
    org_unit_id = fields.Str(validate=validate.Length(min=1, max=36))
    category = fields.Str(validate=validate.OneOf(CATEGORIES))
    participation = fields.Str(validate=validate.OneOf(PARTICIPATIONS))
    status = fields.Str(validate=validate.OneOf(STATUSES))


class ParticipationIn(_In):
    participation = fields.Str(required=True, validate=validate.OneOf(["voluntary", "withdrawn"]))


class DecisionIn(_In):
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class RoleChangeIn(_In):
    role = fields.Str(required=True,
                      validate=validate.OneOf(["organisation_admin", "system_admin"]))
    org_unit_id = fields.Str(required=True)
    grant = fields.Bool(required=True)


class RoleOut(Schema):
    role = fields.Str()
    org_unit_id = fields.Str()


class MemberOut(Schema):
    member_id = fields.Str()
    name = fields.Str()
    department = fields.Str(allow_none=True)
    phone_masked = fields.Str()
    org_path = fields.List(fields.Str())
    org_path_names = fields.List(fields.Str())
    unit_id = fields.Str()
    unit_name = fields.Str()
    category = fields.Str()
    participation = fields.Str()
    status = fields.Str()
    disqualified = fields.Bool()
    roles = fields.List(fields.Nested(RoleOut))
