"""attempts: timed attempts, runs and their scores (R7, R8, R12–R14). The source of truth
for play: every pass and fail is written here first, with its events, in one transaction.

Entrypoints only: each declares its schemas, opens a unit of work and calls one use case
(play.py, watch.py, records.py, replicas.py); the queries are store.py's."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from kernel import audit, entrypoints
from kernel.entrypoints import event_handler, rpc, timer_from_config
from kernel.errors import Conflict
from kernel.knobs import Knobs
from kernel.logs import WorkerContext
from kernel.rpc import TimedRpcProxy
from kernel.uow import UnitOfWork, handles_once

from . import play, records, regrade, replicas, review, watch
from .models import Base
from .schemas import (
    AttemptOut, CampaignIn, CountIn, ExportIn, ExportOut, FlagOut, FlagPageIn, FlagPageOut,
    HistoryPageOut, MemberIn, PageIn, ParticipantOut, ProgressOut, ResultOut, ReviewIn,
    RunOut, SavedOut, SaveIn, StartIn, SubmitIn,
)
from .schemas import AuditLogIn, RegradeIn, RegradeOut
from .schemas import MemberReviewIn, MemberReviewOut, PlayersIn
from .store import AttemptsStore


class AttemptsService(entrypoints.Answers):
    name = "attempts"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("attempts", Base, store=AttemptsStore)
    knobs = Knobs()
    question_bank = TimedRpcProxy("question_bank")  # replies on a consumer of their own
    ranking = TimedRpcProxy("ranking")  # a regrade's closed months

    # -- replicas ------------------------------------------------------------------------

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, tx, event):
        data = event["data"]
        replicas.member_changed(tx, data["member_id"], data["status"], data["org_path"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, tx, event):
        data = event["data"]
        replicas.member_changed(tx, data["member_id"], data["status"], data["org_path"])

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_member_deactivated(self, tx, event):
        replicas.member_changed(tx, event["data"]["member_id"], "inactive")

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, tx, event):
        replicas.member_disqualified(tx, event["data"]["member_id"])

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, tx, event):
        replicas.member_reinstated(tx, event["data"]["member_id"])

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, tx, event):
        replicas.campaign_changed(tx, event["data"])

    @event_handler("question_bank", "level_updated")
    @handles_once
    def on_level_updated(self, tx, event):
        replicas.campaign_changed(tx, event["data"])

    # -- play ------------------------------------------------------------------------------

    @rpc(args=StartIn, result=AttemptOut)
    def start_attempt(self, member_id, level, client_address=None):
        """Start an attempt at the run's current level, or return the open one (R7, R13).

        Check, leave the transaction, draw the paper, then write: never hold the database
        across an RPC call (docs/conventions.md). Two starts racing (a double tap, a retry
        after a dropped reply) meet the unique indexes on the open attempt and on the run;
        the loser starts over and finds what the winner made. An overdue attempt submitted
        on the way stays submitted when the start is refused."""
        for _ in range(3):
            try:
                with self.uow as tx:
                    check = play.check_start(tx, self.knobs, member_id, level,
                                             keep_expiry=True)
                if check.refused is not None:
                    raise check.refused
                if check.resume is not None:
                    return check.resume
                paper = self.question_bank.draw_paper(check.campaign_id, level)
                with self.uow as tx:
                    return play.begin_attempt(tx, self.knobs, member_id, level,
                                              check.campaign_id, paper, client_address)
            except IntegrityError:
                continue
        raise Conflict("your attempt is being started; try again", reason="attempt_starting")

    @rpc(args=SaveIn, result=SavedOut)
    def save_answers(self, member_id, attempt_id, answers):
        """Keep my answers on my open attempt as I answer (the whole set; the last write
        wins): resumed on another device, submitted by the deadline if I do not."""
        with self.uow as tx:
            return play.save_answers(tx, self.knobs, member_id, attempt_id, answers)

    @rpc(args=SubmitIn, result=ResultOut)
    def submit_attempt(self, member_id, attempt_id, answers):
        """Grade on the server, by the server's clock; submitting twice returns the first result."""
        with self.uow as tx:
            return play.submit_attempt(tx, self.knobs, member_id, attempt_id, answers)

    @rpc(args=MemberIn, result=RunOut)
    def restart_run(self, member_id):
        """R14: start again from level 1 once the active run has passed every level open
        now (or all of them); the old run is kept, frozen, with its score."""
        try:
            with self.uow as tx:
                return play.restart_run(tx, self.knobs, member_id)
        except IntegrityError:  # a second restart raced this one and won
            raise Conflict("a new run has just been started", reason="run_just_started") from None

    @timer_from_config("ATTEMPTS_EXPIRY_CHECK_SECONDS", 5)
    def expire_overdue(self):
        """Attempts never submitted are submitted at deadline + grace with the answers
        saved, or fail (`expired`) with none."""
        with self.uow as tx:
            return play.expire_overdue(tx, self.knobs)

    # -- what others ask -------------------------------------------------------------------

    @rpc(args=CountIn)
    def count_passes(self, campaign_id, until):
        """Passes submitted at or before `until` (ranking checks it holds them all), once
        every overdue attempt is submitted by its deadline."""
        with self.uow as tx:
            return play.passes_by(tx, self.knobs, campaign_id, until)

    @rpc(args=ExportIn, result=ExportOut)
    def export_passes(self, campaign_id, after=None, limit=1000):
        """Every pass as its `attempt_passed` data, in submission order, a page at a time
        (`after` is the previous page's `next`), for rebuilding ranking."""
        with self.uow as tx:
            return records.export_passes(tx, campaign_id, after, limit)

    @rpc(args=MemberIn, result=ProgressOut)
    def progress(self, member_id):
        """My runs and my open attempt (R8: the best run is my result)."""
        with self.uow as tx:
            return records.progress(tx, member_id)

    @rpc(args=PageIn, result=HistoryPageOut)
    def my_attempts(self, member_id, limit=20, offset=0):
        with self.uow as tx:
            return records.history(tx, member_id, limit, offset)

    @rpc(args=CampaignIn, result=ParticipantOut(many=True))
    def participants(self, campaign_id):
        """Members with at least one attempt in the campaign (R18's participation)."""
        with self.uow as tx:
            return records.participants(tx, campaign_id)

    # -- R12: regrade after a key is corrected or a question voided -------------------------

    @rpc(args=RegradeIn, result=RegradeOut)
    def regrade(self, actor, question_id, dry_run=True):
        """Grade again every closed attempt that drew the question, with its corrected key
        (voided: right on every paper); a dry run reports who changes and writes nothing
        (regrade.py). The key and the closed months are asked for before the transaction."""
        question = self.question_bank.question_key(question_id)
        months = [{"month": m["month"], "cutoff": m["cutoff"]}
                  for m in self.ranking.months(question["campaign_id"]) if m["closed"]]
        with self.uow as tx:
            report = regrade.regrade(tx, self.knobs, actor, question, months, dry_run)
            if dry_run:
                tx.discard()
            return report

    @rpc(args=AuditLogIn, result=audit.AuditPageOut)
    def audit_log(self, visible=None, limit=50, offset=0):
        """Regrades (who, when, which question, which attempts), newest first, inside
        `visible` org units (None: all)."""
        with self.uow as tx:
            return tx.store.audit_log(visible, limit, offset)

    # -- R20's review ----------------------------------------------------------------------

    @rpc(args=FlagPageIn, result=FlagPageOut)
    def flags(self, visible=None, limit=50, offset=0, reviewed=None):
        """Flagged play for review, newest first, inside `visible` (None: everyone)."""
        with self.uow as tx:
            return watch.flags_page(tx, visible, limit, offset, reviewed)

    @rpc(args=ReviewIn, result=FlagOut)
    def review_flag(self, actor, flag_id, note, outcome, visible=None):
        """An administrator's conclusion on a flag (disqualifying is roster's, R20)."""
        with self.uow as tx:
            return watch.review_flag(tx, actor, flag_id, note, visible, outcome)

    @rpc(args=MemberReviewIn, result=MemberReviewOut)
    def member_review(self, member_id, visible=None, with_keys=False, keys_for=None):
        """A member's attempts with the papers as drawn, and their flags, for a reviewer
        inside `visible`; the answers, keys and marks only `with_keys`, or, given
        `keys_for`, only of the attempts of those campaigns (review.py)."""
        with self.uow as tx:
            return review.member_review(tx, member_id, visible, with_keys, keys_for)

    @rpc(args=PlayersIn)
    def players(self, campaign_id, level=None, since=None):
        """Members with an attempt in the campaign (at `level`, started since `since`):
        who a reminder leaves out."""
        with self.uow as tx:
            return review.players(tx, campaign_id, level, since)
