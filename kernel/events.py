"""The event envelope of contracts.md and the schema of every event's `data` (v1).

Producers validate strictly (unknown fields are an error, so a producer cannot drift from
the contract); consumers load leniently (unknown fields are dropped, so a new optional
field does not break an old subscriber).
"""
from __future__ import annotations

import functools
import uuid
from datetime import timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

VERSION = 1


class Instant(fields.AwareDateTime):
    """Every time in every message is UTC, `+00:00`, to the millisecond (docs/events.md):
    one rule, whatever zone the producer computed it in (a month's cutoff is Shanghai's
    midnight)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds")


class _Data(Schema):
    class Meta:
        unknown = RAISE


class MemberDisplay(_Data):
    """Who an event is about, as another agency names them (added to v1, optional on every
    event about a member): never the full phone. `unit_*` is the member's unit (the nearest
    unit at or above their place), `branch_*` their branch when they sit in one. Producers
    other than roster fill it from their replica of roster's events, so a field they have
    not learnt yet is null."""
    name = fields.Str(required=True)
    phone_masked = fields.Str(allow_none=True)
    unit_id = fields.Str(allow_none=True)
    unit_name = fields.Str(allow_none=True)
    branch_id = fields.Str(allow_none=True)
    branch_name = fields.Str(allow_none=True)


def member_display():
    """The `member` field, the same on every event that has it; a subscriber loads it
    leniently (a later optional field in it must not break an old subscriber)."""
    return fields.Nested(MemberDisplay, unknown=EXCLUDE)


class MemberData(_Data):
    member_id = fields.Str(required=True)
    name = fields.Str(required=True)
    org_path = fields.List(fields.Str(), required=True)
    category = fields.Str(required=True)
    participation = fields.Str(required=True)
    status = fields.Str(required=True)
    # optional, for display on boards: never the full phone (contracts.md)
    phone_masked = fields.Str()
    unit_name = fields.Str(allow_none=True)
    member = member_display()


class MemberIdData(_Data):
    member_id = fields.Str(required=True)
    member = member_display()


class MemberDisqualifiedData(_Data):
    member_id = fields.Str(required=True)
    reason = fields.Str(required=True)
    decided_at = Instant(required=True)
    decided_by = fields.Str(required=True)
    member = member_display()


class RoleData(_Data):
    """Added to v1 after contracts.md's table: every administrator role granted or removed,
    by any path (a sheet, an appointment, a role change), so a subscriber sees who may act
    where. `by` is the acting member's id (`system`: the platform); the time is the
    envelope's occurred_at."""
    member_id = fields.Str(required=True)
    role = fields.Str(required=True, validate=validate.OneOf(
        ["unit_admin", "organisation_admin", "system_admin"]))
    org_unit_id = fields.Str(required=True)
    by = fields.Str(required=True)
    member = member_display()


class LevelData(_Data):
    number = fields.Int(required=True)
    title = fields.Str(required=True)
    theme = fields.Str(required=True)
    opens_at = Instant(required=True)
    time_limit_s = fields.Int(required=True)
    draw_count = fields.Int(required=True)


class CampaignData(_Data):
    campaign_id = fields.Str(required=True)
    name = fields.Str(required=True)
    time_zone = fields.Str(required=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    levels = fields.List(fields.Nested(LevelData), required=True)
    # added to v1 (optional): the organisation that runs the campaign (R16's "federation")
    organisation_id = fields.Str()


class RunStartedData(_Data):
    run_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    run_number = fields.Int(required=True)
    started_at = Instant(required=True)


class AttemptStartedData(_Data):
    attempt_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    run_id = fields.Str(required=True)
    level = fields.Int(required=True)
    started_at = Instant(required=True)
    deadline = Instant(required=True)


class AttemptPassedData(_Data):
    attempt_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    run_id = fields.Str(required=True)
    run_number = fields.Int(required=True)
    level = fields.Int(required=True)
    started_at = Instant(required=True)
    submitted_at = Instant(required=True)
    duration_ms = fields.Int(required=True)
    run_levels_passed = fields.Int(required=True)
    run_total_ms = fields.Int(required=True)
    # for question statistics: the paper's question ids and those answered wrong
    question_ids = fields.List(fields.Str())
    wrong_question_ids = fields.List(fields.Str())


class AttemptFailedData(AttemptPassedData):
    correct = fields.Int(required=True)
    total = fields.Int(required=True)
    reason = fields.Str(
        required=True, validate=validate.OneOf(["wrong_answers", "timeout", "expired"])
    )


class RunPassData(_Data):
    """A run's score after its k-th pass (R13), as ranking keeps it."""
    levels = fields.Int(required=True)
    total_ms = fields.Int(required=True)
    at = Instant(required=True)  # when the k-th pass was submitted
    attempt_id = fields.Str(required=True)


class AttemptRegradedData(_Data):
    """Added to v1 after contracts.md's table: a closed attempt graded again after a bank
    administrator corrected (or voided) one of its questions (R12; docs/decisions.md, "Issue
    18 — regrade"). `wrong_before`/`wrong_after` and `passed_before`/`passed_after` let
    statistics take the first grading back out and fold the corrected one in;
    `level_attempt_number` is the attempt's place among the member's graded attempts of
    the level. `run_passes`, present when the run's score was recomputed (a failure that
    now passes, at its original submitted time), is the run's every pass record (R13), to
    replace those a subscriber holds for the run. A pass is never taken away."""
    regrade_id = fields.Str(required=True)
    question_id = fields.Str(required=True)
    attempt_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    run_id = fields.Str(required=True)
    run_number = fields.Int(required=True)
    level = fields.Int(required=True)
    started_at = Instant(required=True)
    submitted_at = Instant(required=True)
    duration_ms = fields.Int(required=True)
    question_ids = fields.List(fields.Str(), required=True)
    wrong_before = fields.List(fields.Str(), required=True)
    wrong_after = fields.List(fields.Str(), required=True)
    passed_before = fields.Bool(required=True)
    passed_after = fields.Bool(required=True)
    level_attempt_number = fields.Int(required=True)
    run_passes = fields.List(fields.Nested(RunPassData, unknown=EXCLUDE))


class AttemptFlaggedData(_Data):
    attempt_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    reason = fields.Str(required=True)
    detail = fields.Dict()
    # added to v1 (optional): the flag's id, which flag_reviewed names when it is reviewed
    flag_id = fields.Int()


class FlagReviewedData(_Data):
    """Added to v1 after contracts.md's table: an administrator's conclusion on a flag.
    `cleared`: nothing wrong (the member's held awards become payable once no flag of theirs
    is open); `upheld`: the flag stands (disqualifying is roster's decision, R20, and comes
    as member_disqualified)."""
    flag_id = fields.Int(required=True)
    attempt_id = fields.Str(required=True)
    member_id = fields.Str(required=True)
    outcome = fields.Str(required=True, validate=validate.OneOf(["cleared", "upheld"]))
    reviewed_by = fields.Str(required=True)
    reviewed_at = Instant(required=True)
    member = member_display()


class TopEntry(_Data):
    """One place of a closed month's board as month_closed carries it (R13 order), with what
    eligibility for a prize depends on at the close (R16, R20; docs/decisions.md)."""
    member_id = fields.Str(required=True)
    position = fields.Int(required=True)
    levels = fields.Int(required=True)
    total_ms = fields.Int(required=True)
    name = fields.Str(allow_none=True)
    unit_name = fields.Str(allow_none=True)
    phone_masked = fields.Str(allow_none=True)
    disqualified = fields.Bool(required=True)
    active = fields.Bool(required=True)  # false: deactivated at the close
    participation = fields.Str(allow_none=True)  # roster's: required, voluntary, withdrawn
    bank_admin = fields.Bool(required=True)  # a system/organisation administrator
    passed_in_month = fields.Bool(required=True)  # passed a level inside this month


class MonthTop(_Data):
    """The head of one scope's board at the close: `entries` down to `depth` places (fewer
    when the board is shorter), so awards grants a month without asking ranking."""
    scope_id = fields.Str(required=True)
    depth = fields.Int(required=True)
    total = fields.Int(required=True)  # members on the whole board of the scope
    entries = fields.List(fields.Nested(TopEntry, unknown=EXCLUDE), required=True)


class MonthClosedData(_Data):
    campaign_id = fields.Str(required=True)
    month = fields.Str(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"))
    cutoff = Instant(required=True)
    snapshot_id = fields.Str(required=True)
    ranked_members = fields.Int(required=True)
    # added to v1 (optional): the head of the boards of the whole tree (`system`) and of the
    # campaign's organisation, each as deep as MONTH_TOP_DEPTH
    tops = fields.List(fields.Nested(MonthTop, unknown=EXCLUDE))


class CampaignClosedData(_Data):
    campaign_id = fields.Str(required=True)
    final_snapshot_id = fields.Str(required=True)


class AwardGrantedData(_Data):
    award_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    period = fields.Str(required=True)
    kind = fields.Str(required=True)
    rank = fields.Int(required=True)
    amount_cny = fields.Int(allow_none=True)
    member_id = fields.Str()
    org_unit_id = fields.Str()
    member = member_display()  # the winner, when it is a member's award
    # added to v1 (optional): true when the award is held for review (its member has a flag
    # open or upheld, R20): not payable until award_released, or revoked
    held = fields.Bool()


class AwardHoldData(_Data):
    """Added to v1 after contracts.md's table: an award held for review (award_held: its
    member has a flag open or upheld, R20) or released to be paid (award_released: every
    flag of theirs cleared); `reason` says which flag."""
    award_id = fields.Str(required=True)
    campaign_id = fields.Str(required=True)
    period = fields.Str(required=True)
    reason = fields.Str(required=True)
    member_id = fields.Str()
    member = member_display()


class AwardRevokedData(_Data):
    award_id = fields.Str(required=True)
    reason = fields.Str(required=True)
    # added to v1 (optional): whose award it was
    member_id = fields.Str()
    member = member_display()


class AnnualResultsData(_Data):
    campaign_id = fields.Str(required=True)
    champion_member_id = fields.Str(allow_none=True)
    excellent_units = fields.List(fields.Str(), required=True)
    excellent_branches = fields.List(fields.Str(), required=True)


# (producer, type) -> data schema: the whole event contract in one table.
EVENTS = {
    ("roster", "member_registered"): MemberData,
    ("roster", "member_updated"): MemberData,
    ("roster", "member_deactivated"): MemberIdData,
    ("roster", "member_reinstated"): MemberIdData,
    ("roster", "member_disqualified"): MemberDisqualifiedData,
    ("roster", "role_granted"): RoleData,
    ("roster", "role_revoked"): RoleData,
    ("question_bank", "campaign_published"): CampaignData,
    ("question_bank", "level_updated"): CampaignData,
    ("attempts", "run_started"): RunStartedData,
    ("attempts", "attempt_started"): AttemptStartedData,
    ("attempts", "attempt_passed"): AttemptPassedData,
    ("attempts", "attempt_failed"): AttemptFailedData,
    ("attempts", "attempt_flagged"): AttemptFlaggedData,
    ("attempts", "attempt_regraded"): AttemptRegradedData,
    ("attempts", "flag_reviewed"): FlagReviewedData,
    ("ranking", "month_closed"): MonthClosedData,
    ("ranking", "campaign_closed"): CampaignClosedData,
    ("awards", "award_granted"): AwardGrantedData,
    ("awards", "award_revoked"): AwardRevokedData,
    ("awards", "award_held"): AwardHoldData,
    ("awards", "award_released"): AwardHoldData,
    ("awards", "annual_results_published"): AnnualResultsData,
}

# types added to v1 after contracts.md's table (new types; the table's own are unchanged)
BEYOND_CONTRACT = {("roster", "role_granted"), ("roster", "role_revoked"),
                   ("attempts", "flag_reviewed"), ("attempts", "attempt_regraded"),
                   ("awards", "award_held"), ("awards", "award_released")}


class Envelope(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.Str(required=True)
    version = fields.Int(required=True)
    occurred_at = Instant(required=True)
    producer = fields.Str(required=True)
    data = fields.Dict(required=True)


def data_schema(producer: str, type_: str):
    try:
        return EVENTS[(producer, type_)]
    except KeyError:
        raise ValueError(f"{producer} has no event {type_!r} in the contract") from None


@functools.lru_cache(maxsize=None)
def _strict(producer: str, type_: str):
    # one instance per type: building a marshmallow schema costs more than using it
    return data_schema(producer, type_)()


def build(producer: str, type_: str, data: dict, occurred_at) -> dict:
    """A JSON-ready envelope; raises ValueError if `data` breaks the contract."""
    schema = _strict(producer, type_)
    body = schema.dump(data)
    errors = schema.validate(body)
    if errors:
        raise ValueError(f"{producer}.{type_} data breaks the contract: {errors}")
    missing = set(data) - set(body)
    if missing:
        raise ValueError(f"{producer}.{type_} has fields outside the contract: {missing}")
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "version": VERSION,
        "occurred_at": occurred_at.astimezone(timezone.utc).isoformat(timespec="milliseconds"),
        "producer": producer,
        "data": body,
    }


@functools.lru_cache(maxsize=None)
def _lenient(producer: str, type_: str, only=None):
    return data_schema(producer, type_)(unknown=EXCLUDE, only=only)


_ENVELOPE = Envelope()


def parse(body: dict, only: tuple | None = None) -> dict:
    """Load a received envelope and its data (lenient on unknown fields); `only`: the data's
    fields the consumer reads (the others are not loaded). The schemas are made once:
    making one cost a millisecond, most of a ranking event's CPU."""
    envelope = _ENVELOPE.load(body)
    schema = _lenient(envelope["producer"], envelope["type"], only)
    envelope["data"] = schema.load(envelope["data"])
    envelope["event_id"] = str(envelope["event_id"])
    return envelope


__all__ = ["EVENTS", "Envelope", "ValidationError", "build", "parse", "data_schema"]
