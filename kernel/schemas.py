"""Schemas more than one service speaks: a sheet import's report (roster's members,
question_bank's questions) and a question as a member sees it (question_bank draws the
paper, attempts shows it): one definition each, so the two sides cannot drift apart."""
from marshmallow import Schema, fields


class RowErrorOut(Schema):
    row = fields.Int(allow_none=True)  # None: not one row's error (roster: a unit's, R4)
    column = fields.Str()
    unit = fields.Str()  # roster's unit errors name their unit
    reason = fields.Str()  # what the page says, in its language (gateway/static/common.js)
    value = fields.Str(allow_none=True)  # the cell as the sheet has it
    params = fields.Dict(keys=fields.Str(), values=fields.Raw())  # more for the words
    message = fields.Str()  # English, for the API and the logs


class ImportReportOut(Schema):
    total = fields.Int()
    created = fields.Int()
    updated = fields.Int()
    unchanged = fields.Int()
    errors = fields.List(fields.Nested(RowErrorOut))
    dry_run = fields.Bool()


class OptionOut(Schema):
    key = fields.Str()
    text = fields.Str()


class PaperQuestionOut(Schema):
    """A question on a paper: never its key."""
    id = fields.Str()
    number = fields.Int()
    type = fields.Str()
    stem = fields.Str()
    options = fields.List(fields.Nested(OptionOut))
