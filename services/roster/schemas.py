from marshmallow import RAISE, Schema, fields, validate


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


class PageIn(_In):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))
    query = fields.Str(load_default=None, allow_none=True)


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
