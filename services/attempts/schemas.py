from marshmallow import RAISE, Schema, fields, validate

from kernel.events import Instant
from kernel.schemas import PaperQuestionOut


class _In(Schema):
    class Meta:
        unknown = RAISE


class StartIn(_In):
    member_id = fields.Str(required=True)
    level = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    # where the start came from, as the gateway saw it (kept for an administrator's review)
    client_address = fields.Str(load_default=None, allow_none=True,
                                validate=validate.Length(max=64))


class SubmitIn(_In):
    member_id = fields.Str(required=True)
    attempt_id = fields.Str(required=True)
    answers = fields.Dict(
        keys=fields.Str(),
        values=fields.List(fields.Str(validate=validate.Length(max=1)), required=True),
        required=True,
    )


class SaveIn(_In):
    """The whole set of answers so far (each save replaces the last): at most a paper's
    worth; attempts checks them against the paper itself."""
    member_id = fields.Str(required=True)
    attempt_id = fields.Str(required=True)
    answers = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=64)),
        values=fields.List(fields.Str(validate=validate.Length(equal=1)),
                           validate=validate.Length(max=10), required=True),
        required=True, validate=validate.Length(max=200),
    )


class MemberIn(_In):
    member_id = fields.Str(required=True)


class CampaignIn(_In):
    campaign_id = fields.Str(required=True)


class PageIn(_In):
    member_id = fields.Str(required=True)
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))


class FlagPageIn(_In):
    visible = fields.List(fields.Str(), load_default=None, allow_none=True)  # None: everyone
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0))
    reviewed = fields.Bool(load_default=None, allow_none=True)


class ReviewIn(_In):
    actor = fields.Str(required=True)
    flag_id = fields.Int(required=True, strict=True)
    visible = fields.List(fields.Str(), load_default=None, allow_none=True)
    note = fields.Str(required=True, validate=validate.Length(min=2, max=500))
    outcome = fields.Str(required=True, validate=validate.OneOf(["cleared", "upheld"]))


class AttemptOut(Schema):
    """An open attempt as the member sees it (never the key), with the server's clock to
    count down by, the answers saved so far, and when it must be submitted: by `deadline`
    (start + limit, or the campaign's end if sooner: `campaign_ends_at`), and by
    `month_cutoff` to count in `month` (R15). Dumps play.paper_view's dict."""

    attempt_id = fields.Str(attribute="attempt.id")
    level = fields.Int(attribute="attempt.level")
    run_id = fields.Str(attribute="attempt.run_id")
    started_at = fields.AwareDateTime(attribute="attempt.started_at")
    deadline = fields.AwareDateTime(attribute="attempt.deadline")
    time_limit_s = fields.Int(attribute="attempt.time_limit_s")
    questions = fields.List(fields.Nested(PaperQuestionOut), attribute="attempt.questions")
    saved_answers = fields.Function(lambda view: view["attempt"].saved_answers or {})
    saved_at = fields.AwareDateTime(attribute="attempt.saved_at", allow_none=True)
    month = fields.Str()
    month_cutoff = fields.AwareDateTime()
    campaign_ends_at = fields.AwareDateTime()
    server_now = fields.AwareDateTime()


class SavedOut(Schema):
    """Answers kept on an open attempt: when they were last changed, how many questions
    they answer: dumps {"attempt": Attempt, "server_now": datetime}."""

    attempt_id = fields.Str(attribute="attempt.id")
    saved_at = fields.AwareDateTime(attribute="attempt.saved_at", allow_none=True)
    answered = fields.Function(lambda view: len(view["attempt"].saved_answers or {}))
    deadline = fields.AwareDateTime(attribute="attempt.deadline")
    server_now = fields.AwareDateTime()


class RunScoreOut(Schema):
    run_id = fields.Str(attribute="id")
    levels_passed = fields.Int()
    total_ms = fields.Int()
    current_level = fields.Int()


class RevealedOut(Schema):
    number = fields.Int()
    question_id = fields.Str()
    keys = fields.List(fields.Str())


class ResultOut(Schema):
    """A graded attempt: dumps {"attempt": Attempt, "run": Run} plus, after a failure, what
    the reveal policy shows (`wrong`, `answers`: absent when it shows only the count)."""

    attempt_id = fields.Str(attribute="attempt.id")
    level = fields.Int(attribute="attempt.level")
    passed = fields.Function(lambda graded: graded["attempt"].status == "passed")
    reason = fields.Str(attribute="attempt.reason", allow_none=True)
    correct = fields.Int(attribute="attempt.correct", allow_none=True)
    total = fields.Int(attribute="attempt.total")
    duration_ms = fields.Int(attribute="attempt.duration_ms", allow_none=True)
    submitted_at = fields.AwareDateTime(attribute="attempt.submitted_at")
    auto_submitted = fields.Bool(attribute="attempt.auto_submitted")  # by its deadline
    run = fields.Nested(RunScoreOut)
    wrong = fields.List(fields.Int())
    answers = fields.List(fields.Nested(RevealedOut))


class RunOut(Schema):
    run_id = fields.Str(attribute="id")
    run_number = fields.Int()
    active = fields.Bool()
    current_level = fields.Int()
    levels_passed = fields.Int()
    total_ms = fields.Int()
    last_pass_at = fields.AwareDateTime(allow_none=True)
    started_at = fields.AwareDateTime()


class HistoryOut(Schema):
    attempt_id = fields.Str(attribute="id")
    run_id = fields.Str()
    level = fields.Int()
    status = fields.Str()
    reason = fields.Str(allow_none=True)
    started_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    duration_ms = fields.Int(allow_none=True)
    correct = fields.Int(allow_none=True)
    total = fields.Int()
    auto_submitted = fields.Bool()  # submitted by its deadline with the saved answers
    # graded again after a bank administrator corrected or voided one of its questions (R12)
    regraded_at = fields.AwareDateTime(allow_none=True)
    # after a regrade, an attempt at a level its run had already passed: in the history,
    # out of the run's time (R13)
    superseded = fields.Bool()


class OpenAttemptOut(Schema):
    attempt_id = fields.Str(attribute="id")
    level = fields.Int()
    deadline = fields.AwareDateTime()


class ProgressOut(Schema):
    member_id = fields.Str()
    active_run = fields.Nested(RunOut, allow_none=True)
    best_run = fields.Nested(RunOut, allow_none=True)
    runs = fields.List(fields.Nested(RunOut))
    open_attempt = fields.Nested(OpenAttemptOut, allow_none=True)


class HistoryPageOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(HistoryOut))


class ParticipantOut(Schema):
    member_id = fields.Str()
    attempts = fields.Int()
    levels_passed = fields.Int()
    first_started_at = fields.AwareDateTime(allow_none=True)


class FlagOut(Schema):
    flag_id = fields.Int(attribute="id")
    attempt_id = fields.Str()
    member_id = fields.Str()
    campaign_id = fields.Str()
    level = fields.Int()
    reason = fields.Str()
    detail = fields.Raw()
    flagged_at = fields.AwareDateTime()
    reviewed_at = fields.AwareDateTime(allow_none=True)
    reviewed_by = fields.Str(allow_none=True)
    review_note = fields.Str(allow_none=True)
    outcome = fields.Str(allow_none=True)  # cleared | upheld; None while open


class FlagPageOut(Schema):
    total = fields.Int()
    items = fields.List(fields.Nested(FlagOut))


class CountIn(_In):
    campaign_id = fields.Str(required=True)
    until = fields.AwareDateTime(required=True)


class ExportIn(_In):
    campaign_id = fields.Str(required=True)
    after = fields.Str(load_default=None, allow_none=True)
    limit = fields.Int(load_default=1000, validate=validate.Range(min=1, max=5000))


class PassOut(Schema):
    """The data of an `attempt_passed` event (kernel/events.py), JSON-ready."""

    attempt_id = fields.Str()
    member_id = fields.Str()
    campaign_id = fields.Str()
    run_id = fields.Str()
    run_number = fields.Int()
    level = fields.Int()
    started_at = Instant()  # as the event writes it (docs/events.md: one time rule)
    submitted_at = Instant()
    duration_ms = fields.Int()
    run_levels_passed = fields.Int()
    run_total_ms = fields.Int()
    question_ids = fields.List(fields.Str())
    wrong_question_ids = fields.List(fields.Str())


class ExportOut(Schema):
    passes = fields.List(fields.Nested(PassOut))
    next = fields.Str(allow_none=True)  # the next page's `after`; None after the last page


# -- regrade (regrade.py; docs/decisions.md, "Issue 18 — regrade") ------------------------------

class AuditLogIn(_In):
    visible = fields.List(fields.Str(), load_default=None, allow_none=True)  # None: all
    limit = fields.Int(load_default=50)  # the gateway's window over every service's log
    offset = fields.Int(load_default=0)


class RegradeIn(_In):
    actor = fields.Str(required=True)
    question_id = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    dry_run = fields.Bool(load_default=True)


class RegradedAttemptOut(Schema):
    """An attempt the regrade names: why is `open`/`run_in_play` (pending),
    `options_changed` (unmatched), `kept` (a pass the corrected key would fail)."""
    attempt_id = fields.Str()
    member_id = fields.Str()
    run_id = fields.Str()
    level = fields.Int()
    status = fields.Str()
    submitted_at = fields.AwareDateTime(allow_none=True)
    correct = fields.Int(allow_none=True)
    total = fields.Int()
    why = fields.Str(allow_none=True)
    name = fields.Str(allow_none=True)  # the member's, added by the gateway
    correct_before = fields.Int(allow_none=True)
    correct_after = fields.Int(allow_none=True)


class RegradedRunOut(Schema):
    """A run replayed (R13): its score before and after, the attempts now superseded."""
    run_id = fields.Str()
    member_id = fields.Str()
    run_number = fields.Int()
    name = fields.Str(allow_none=True)  # the member's, added by the gateway
    active = fields.Bool()
    levels_before = fields.Int()
    total_ms_before = fields.Int()
    levels_after = fields.Int()
    total_ms_after = fields.Int()
    current_level_after = fields.Int()
    superseded = fields.List(fields.Str())


class ClosedMonthChangeOut(Schema):
    """R15: a member whose result at a closed month's cutoff would differ (not rewritten)."""
    month = fields.Str()
    member_id = fields.Str()
    name = fields.Str(allow_none=True)  # the member's, added by the gateway
    levels_before = fields.Int()
    total_ms_before = fields.Int(allow_none=True)
    levels_after = fields.Int()
    total_ms_after = fields.Int(allow_none=True)


class RegradeOut(Schema):
    regrade_id = fields.Str()
    question_id = fields.Str()
    level = fields.Int()
    voided = fields.Bool()
    dry_run = fields.Bool()
    at = fields.AwareDateTime()
    drawn = fields.Int()  # closed or open attempts whose paper drew the question
    unchanged = fields.Int()  # already graded with this key (a second regrade)
    regraded = fields.Int()  # attempts whose grading changes
    now_passed = fields.List(fields.Nested(RegradedAttemptOut))
    kept_passes = fields.List(fields.Nested(RegradedAttemptOut))
    pending = fields.List(fields.Nested(RegradedAttemptOut))
    unmatched = fields.List(fields.Nested(RegradedAttemptOut))
    runs = fields.List(fields.Nested(RegradedRunOut))
    closed_months = fields.List(fields.Nested(ClosedMonthChangeOut))


# -- an administrator's review (review.py; issue 23) ---------------------------------------------

class MemberReviewIn(_In):
    member_id = fields.Str(required=True, validate=validate.Length(min=1, max=36))
    visible = fields.List(fields.Str(), load_default=None, allow_none=True)  # None: everyone
    with_keys = fields.Bool(load_default=False)
    keys_for = fields.List(fields.Str(), load_default=None, allow_none=True,
                           validate=validate.Length(max=1000))  # per attempt's campaign


class PlayersIn(_In):
    campaign_id = fields.Str(required=True)
    level = fields.Int(load_default=None, allow_none=True, strict=True)
    since = fields.AwareDateTime(load_default=None, allow_none=True)


class ReviewQuestionOut(PaperQuestionOut):
    """A question as it was shown (options in the order drawn); `answer`, `key` and `wrong`
    only for the campaign's administrators (review.py says why)."""
    voided = fields.Bool()
    answer = fields.List(fields.Str())
    key = fields.List(fields.Str())
    wrong = fields.Bool(allow_none=True)  # None while the attempt is open


class ReviewAttemptOut(Schema):
    attempt_id = fields.Str(attribute="attempt.id")
    campaign_id = fields.Str(attribute="attempt.campaign_id")
    run_id = fields.Str(attribute="attempt.run_id")
    level = fields.Int(attribute="attempt.level")
    status = fields.Str(attribute="attempt.status")
    reason = fields.Str(attribute="attempt.reason", allow_none=True)
    started_at = fields.AwareDateTime(attribute="attempt.started_at")
    submitted_at = fields.AwareDateTime(attribute="attempt.submitted_at", allow_none=True)
    deadline = fields.AwareDateTime(attribute="attempt.deadline")
    time_limit_s = fields.Int(attribute="attempt.time_limit_s")
    duration_ms = fields.Int(attribute="attempt.duration_ms", allow_none=True)
    correct = fields.Int(attribute="attempt.correct", allow_none=True)
    total = fields.Int(attribute="attempt.total")
    answered = fields.Int()
    auto_submitted = fields.Bool(attribute="attempt.auto_submitted")
    superseded = fields.Bool(attribute="attempt.superseded")
    client_address = fields.Str(attribute="attempt.client_address", allow_none=True)
    flag_ids = fields.List(fields.Int())
    with_keys = fields.Bool()  # this attempt's answers, key and marks are in
    questions = fields.List(fields.Nested(ReviewQuestionOut))


class MemberReviewOut(Schema):
    member_id = fields.Str()
    with_keys = fields.Bool()  # the answers, keys and marks are in (the campaign's admins)
    attempts = fields.List(fields.Nested(ReviewAttemptOut))
    flags = fields.List(fields.Nested(FlagOut))
