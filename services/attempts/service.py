"""attempts: timed attempts, runs and their scores (R7, R8, R12–R14). The source of truth
for play: every pass and fail is written here first, with its events, in one transaction."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from nameko.dependency_providers import Config
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import event_handler, rpc, timer_from_config
from kernel.errors import BadInput, Conflict, Forbidden, NotFound, RateLimited, load
from kernel.inbox import handles_once
from kernel.outbox import Outbox
from kernel.rpc import TimedRpcProxy
from kernel.settings import setting
from kernel.logs import WorkerContext

from . import conduct, rules
from .models import Attempt, Base, CampaignReplica, Exposure, Flag, MemberReplica, Run
from .schemas import (
    AttemptOut, ExportIn, FlagPageIn, HistoryOut, PageIn, PassOut, ReviewIn, RunOut, StartIn,
    SubmitIn, UntilIn,
)


class AttemptsService(entrypoints.Answers):
    name = "attempts"
    logs = WorkerContext()  # the correlation id and service in every log line

    db = Database("attempts", Base)
    events = Outbox()
    clock = Clock()
    config = Config()
    question_bank = TimedRpcProxy("question_bank")  # replies on a consumer of their own

    # -- replicas ------------------------------------------------------------------------

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, event):
        self._replicate_member(event["data"]["member_id"], event["data"]["status"],
                               event["data"]["org_path"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, event):
        self._replicate_member(event["data"]["member_id"], event["data"]["status"],
                               event["data"]["org_path"])

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_member_deactivated(self, event):
        self._replicate_member(event["data"]["member_id"], "inactive")

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, event):
        member = self._member_replica(event["data"]["member_id"])
        member.disqualified = True
        self._void_open(member.member_id, "member_disqualified")

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, event):
        self._member_replica(event["data"]["member_id"]).disqualified = False

    def _replicate_member(self, member_id, status, org_path=None):
        member = self._member_replica(member_id)
        member.status = status
        if org_path is not None:
            member.org_path = org_path
        if status != "active":  # member_updated may say so before member_deactivated does
            self._void_open(member_id, "member_inactive")

    def _member_replica(self, member_id) -> MemberReplica:
        member = self.db.get(MemberReplica, member_id)
        if member is None:  # a decision may overtake the registration: unknown until then
            member = MemberReplica(member_id=member_id, status="unknown", disqualified=False)
            self.db.add(member)
        member.updated_at = self.clock.now()
        return member

    def _void_open(self, member_id, reason):
        """A member who may play no more leaves no attempt open to be submitted later:
        it is voided, never graded, and emits nothing (no pass, no fail, no statistics)."""
        attempt = self.db.scalars(
            select(Attempt).where(Attempt.member_id == member_id, Attempt.status == "open")
            .with_for_update()).first()
        if attempt is not None:
            attempt.status, attempt.reason = rules.VOIDED, reason

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, event):
        self._replicate_campaign(event["data"])

    @event_handler("question_bank", "level_updated")
    @handles_once
    def on_level_updated(self, event):
        self._replicate_campaign(event["data"])

    def _replicate_campaign(self, data):
        campaign = self.db.get(CampaignReplica, data["campaign_id"])
        if campaign is None:
            campaign = CampaignReplica(campaign_id=data["campaign_id"])
            self.db.add(campaign)
        campaign.time_zone = data["time_zone"]
        campaign.starts_at = data["starts_at"]
        campaign.ends_at = data["ends_at"]
        campaign.levels = [
            {
                "number": level["number"],
                "opens_at": level["opens_at"].isoformat(),
                "time_limit_s": level["time_limit_s"],
                "draw_count": level["draw_count"],
            }
            for level in data["levels"]
        ]
        campaign.updated_at = self.clock.now()

    # -- play ------------------------------------------------------------------------------

    @rpc
    def start_attempt(self, member_id, level):
        """Start an attempt at the run's current level, or return the open one (R7, R13).

        Two starts racing (a double tap, a retry after a dropped reply) meet the unique
        indexes on the open attempt and on the run; the loser starts over and finds what the
        winner made."""
        args = load(StartIn(), {"member_id": member_id, "level": level})
        for _ in range(3):
            try:
                return self._start(args)
            except IntegrityError:
                self.db.rollback()
        raise Conflict("your attempt is being started; try again", reason="attempt_starting")

    def _start(self, args):
        member_id, level = args["member_id"], args["level"]
        now = self.clock.now()
        self._require_active(member_id)
        campaign = self._campaign()
        self._expire_open(member_id, now)

        open_attempt = self._open_attempt(member_id)
        if open_attempt is not None:
            self.db.commit()
            return self._attempt_out(open_attempt)

        run = self._find_active_run(member_id, campaign)
        self._check_playable(campaign, run.current_level if run else 1, level, now)
        self._check_pace(member_id, now)

        # Never hold the database across an RPC call: a worker waiting for a reply while
        # holding a connection can starve the very workers whose messages keep that reply
        # out (nameko's prefetch is shared with the reply queue). Commit (the expiry above,
        # if any), which releases the connection, then draw, then write.
        self.db.commit()
        paper = self.question_bank.draw_paper(campaign.campaign_id, level)

        now = self.clock.now()  # the member's time starts when the paper exists
        run = self._active_run(member_id, campaign, now)
        self._check_playable(campaign, run.current_level, level, now)
        limit_s = paper["time_limit_s"]
        attempt = Attempt(
            id=str(uuid.uuid4()), run_id=run.id, member_id=run.member_id,
            campaign_id=campaign.campaign_id, level=level, time_limit_s=limit_s,
            started_at=now, deadline=rules.deadline_of(now, limit_s), status="open",
            total=len(paper["questions"]), questions=paper["questions"], key=paper["key"],
        )
        self.db.add(attempt)
        self.events.emit("attempt_started", {
            "attempt_id": attempt.id, "member_id": attempt.member_id,
            "campaign_id": attempt.campaign_id, "run_id": run.id, "level": attempt.level,
            "started_at": attempt.started_at, "deadline": attempt.deadline,
        })
        self._note_exposure(attempt, paper.get("bank_size"), now)
        self.db.commit()  # a start that raced this one meets the unique indexes: retried
        return self._attempt_out(attempt)

    def _check_pace(self, member_id, now):
        """R20: a bot harvesting the bank needs many attempts fast; a person does not."""
        per_hour = setting(self.config, "ATTEMPT_STARTS_PER_HOUR", 30, int)
        if per_hour > 0:
            recent = self.db.scalars(select(Attempt.started_at).where(
                Attempt.member_id == member_id, Attempt.started_at > now - conduct.HOUR)).all()
            wait = conduct.start_wait(list(recent), now, per_hour)
            if wait:
                raise RateLimited(f"at most {per_hour} attempts an hour; the next in {wait} s",
                                  retry_after=wait, reason="starts_per_hour")
        pause = setting(self.config, "ATTEMPT_WAIT_AFTER_FAILURE_SECONDS", 0.0, float)
        if pause > 0:  # off by default: no query on the start path then
            last_failed = self.db.scalars(
                select(Attempt.submitted_at).where(Attempt.member_id == member_id,
                                                   Attempt.status == "failed")
                .order_by(Attempt.submitted_at.desc()).limit(1)).first()
            wait = conduct.failure_wait(last_failed, now, pause)
            if wait:
                raise RateLimited(f"take a moment after a failed attempt: the next in {wait} s",
                                  retry_after=wait, reason="wait_after_failure")

    def _note_exposure(self, attempt, bank_size, now):
        """Count the questions of the level this member has now seen; flag once at the
        configured share of the bank."""
        if not bank_size:
            return
        key = (attempt.member_id, attempt.campaign_id, attempt.level)
        row = self.db.get(Exposure, key)
        if row is None:
            row = Exposure(member_id=key[0], campaign_id=key[1], level=key[2], seen=[],
                           bank_size=bank_size)
            self.db.add(row)
        seen = set(row.seen) | set(attempt.key)
        if len(seen) != len(row.seen):
            row.seen = sorted(seen)
        row.bank_size = bank_size
        detail = conduct.exposure(len(seen), bank_size,
                                  setting(self.config, "FLAG_BANK_SHARE", 0.8, float),
                                  attempt.total)
        if detail and row.flagged_at is None:
            row.flagged_at = now
            self._flag(attempt, "bank_exposure", dict(detail, level=attempt.level), now)

    def _flag(self, attempt, reason, detail, now):
        self.db.add(Flag(attempt_id=attempt.id, member_id=attempt.member_id,
                         campaign_id=attempt.campaign_id, level=attempt.level, reason=reason,
                         detail=detail, flagged_at=now))
        self.events.emit("attempt_flagged", {"attempt_id": attempt.id,
                                             "member_id": attempt.member_id,
                                             "reason": reason, "detail": detail})

    def _check_playable(self, campaign, current_level, level, now):
        levels = _levels(campaign)
        if level != current_level:
            raise Conflict(f"your run is at level {current_level}, not level {level}",
                           fields={"level": [f"expected {current_level}"]},
                           reason="not_current_level")
        if level > len(levels):
            raise Conflict("every level of this run is passed; start a new run",
                           reason="run_complete")
        opens_at = rules.level_opens(levels, level)
        if now < opens_at:
            raise Conflict(f"level {level} opens at {opens_at.isoformat()}",
                           reason="level_not_open")
        if now > campaign.ends_at:
            raise Conflict("the campaign has ended", reason="campaign_ended")

    @rpc
    def submit_attempt(self, member_id, attempt_id, answers):
        """Grade on the server, by the server's clock; submitting twice returns the first result."""
        args = load(SubmitIn(), {"member_id": member_id, "attempt_id": attempt_id,
                                 "answers": answers})
        self._require_active(args["member_id"])  # before the event voids the attempt
        now = self.clock.now()
        attempt = self.db.get(Attempt, args["attempt_id"], with_for_update=True)
        if attempt is None or attempt.member_id != args["member_id"]:
            raise NotFound("no such attempt")
        if attempt.status == "open":
            unknown = set(args["answers"]) - set(attempt.key)
            if unknown:
                raise BadInput("answers name questions that are not on this paper",
                               fields={"answers": sorted(unknown)})
            correct, wrong = rules.grade(attempt.key, args["answers"])
            outcome = rules.judge(attempt.started_at, attempt.deadline, now, self._grace(),
                                  attempt.time_limit_s, correct, attempt.total)
            self._close(attempt, outcome, now, args["answers"], correct, wrong)
            self.db.commit()
        return self._result_out(attempt)

    @rpc
    def restart_run(self, member_id):
        """R14: start again from level 1 once the active run has passed every level open
        now (or all of them); the old run is kept, frozen, with its score."""
        now = self.clock.now()
        self._require_active(member_id)
        campaign = self._campaign()
        self._expire_open(member_id, now)
        if self._open_attempt(member_id) is not None:
            raise Conflict("finish the attempt you have open before starting again",
                           reason="attempt_open")
        run = self.db.scalars(
            select(Run).where(Run.member_id == member_id,
                              Run.campaign_id == campaign.campaign_id,
                              Run.active.is_(True)).with_for_update()
        ).first()
        levels = _levels(campaign)
        if run is None or not rules.may_restart(run.levels_passed, levels, now,
                                                campaign.ends_at):
            opened = rules.open_levels(levels, now, campaign.ends_at)
            needed = max(opened) if opened else 0
            raise Conflict(f"pass every level open now (up to level {needed}) before "
                           "starting again from level 1", reason="restart_not_allowed")
        run.active = False
        new = Run(id=str(uuid.uuid4()), member_id=member_id,
                  campaign_id=campaign.campaign_id, run_number=run.run_number + 1,
                  active=True, current_level=1, levels_passed=0, total_ms=0, pending_ms=0,
                  started_at=now)
        self.db.add(new)
        self.events.emit("run_started", {
            "run_id": new.id, "member_id": member_id, "campaign_id": campaign.campaign_id,
            "run_number": new.run_number, "started_at": now,
        })
        try:
            self.db.commit()
        except IntegrityError:  # a second restart raced this one and won
            self.db.rollback()
            raise Conflict("a new run has just been started", reason="run_just_started") from None
        return RunOut().dump(new)

    @rpc
    def count_passes(self, campaign_id, until):
        """Passes submitted at or before `until` (ranking checks it holds them all)."""
        until = load(UntilIn(), {"until": until})["until"]
        return self.db.scalar(
            select(func.count()).select_from(Attempt).where(
                Attempt.campaign_id == campaign_id, Attempt.status == "passed",
                Attempt.submitted_at <= until)
        )

    @rpc
    def export_passes(self, campaign_id, after=None, limit=1000):
        """Every pass as its `attempt_passed` data, in submission order, a page at a time
        (`after` is the previous page's `next`), for rebuilding ranking."""
        args = load(ExportIn(), {"after": after, "limit": limit})
        query = (select(Attempt, Run.run_number).join(Run, Run.id == Attempt.run_id)
                 .where(Attempt.campaign_id == campaign_id, Attempt.status == "passed"))
        if args["after"]:
            at, attempt_id = args["after"].split("|", 1)
            at = datetime.fromisoformat(at)
            query = query.where((Attempt.submitted_at > at)
                                | ((Attempt.submitted_at == at) & (Attempt.id > attempt_id)))
        rows = self.db.execute(query.order_by(Attempt.submitted_at, Attempt.id)
                               .limit(args["limit"])).all()
        passes = [PassOut().dump(_pass_data(attempt, number)) for attempt, number in rows]
        last = rows[-1][0] if rows else None
        return {"passes": passes,
                "next": f"{last.submitted_at.isoformat()}|{last.id}" if last else None}

    @timer_from_config("ATTEMPTS_EXPIRY_CHECK_SECONDS", 5)
    def expire_overdue(self):
        """Attempts never submitted fail at deadline + grace (reason `expired`)."""
        now = self.clock.now()
        overdue = self.db.scalars(
            select(Attempt)
            .where(Attempt.status == "open", Attempt.deadline < now - self._grace())
            .limit(500)
            .with_for_update(skip_locked=True)
        ).all()
        for attempt in overdue:
            self._close(attempt, rules.expired(attempt.time_limit_s), now, None, 0, None)
        self.db.commit()
        return len(overdue)

    # -- queries ---------------------------------------------------------------------------

    @rpc
    def progress(self, member_id):
        """My runs and my open attempt (R8: the best run is my result)."""
        runs = self.db.scalars(
            select(Run).where(Run.member_id == member_id).order_by(Run.run_number)
        ).all()
        open_attempt = self._open_attempt(member_id)
        best = max(runs, key=_run_order, default=None)
        active = next((r for r in runs if r.active), None)
        return {
            "member_id": member_id,
            "active_run": RunOut().dump(active) if active else None,
            "best_run": RunOut().dump(best) if best and best.levels_passed else None,
            "runs": RunOut(many=True).dump(runs),
            "open_attempt": (
                {"attempt_id": open_attempt.id, "level": open_attempt.level,
                 "deadline": open_attempt.deadline.isoformat()}
                if open_attempt is not None else None
            ),
        }

    @rpc
    def my_attempts(self, member_id, limit=20, offset=0):
        args = load(PageIn(), {"member_id": member_id, "limit": limit, "offset": offset})
        query = select(Attempt).where(Attempt.member_id == args["member_id"])
        total = self.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.db.scalars(
            query.order_by(Attempt.started_at.desc()).limit(args["limit"])
            .offset(args["offset"])
        ).all()
        return {"total": total, "items": HistoryOut(many=True).dump(rows)}

    @rpc
    def participants(self, campaign_id):
        """Members with at least one attempt in the campaign (R18's participation), each
        with their attempts and the most levels any of their runs has passed."""
        attempts = dict(self.db.execute(
            select(Attempt.member_id, func.count()).where(Attempt.campaign_id == campaign_id)
            .group_by(Attempt.member_id)).all())
        best = dict(self.db.execute(
            select(Run.member_id, func.max(Run.levels_passed))
            .where(Run.campaign_id == campaign_id).group_by(Run.member_id)).all())
        return [{"member_id": member_id, "attempts": count,
                 "levels_passed": best.get(member_id) or 0}
                for member_id, count in sorted(attempts.items())]

    @rpc
    def flags(self, visible=None, limit=50, offset=0, reviewed=None):
        """Flagged play for review, newest first; `visible` (org unit ids) keeps the members
        inside an administrator's part of the tree (None: everyone)."""
        args = load(FlagPageIn(), {"limit": limit, "offset": offset, "reviewed": reviewed})
        stmt = select(Flag, MemberReplica.org_path).outerjoin(
            MemberReplica, MemberReplica.member_id == Flag.member_id)
        if args["reviewed"] is not None:
            stmt = stmt.where(Flag.reviewed_at.is_not(None) if args["reviewed"]
                              else Flag.reviewed_at.is_(None))
        rows = self.db.execute(stmt.order_by(Flag.flagged_at.desc(), Flag.id.desc())).all()
        if visible is not None:
            inside = set(visible)
            rows = [r for r in rows if inside & set(r.org_path or [])]
        page = rows[args["offset"]:args["offset"] + args["limit"]]
        return {"total": len(rows), "items": [_flag_out(flag) for flag, _ in page]}

    @rpc
    def review_flag(self, actor, flag_id, note, visible=None):
        """An administrator's conclusion on a flag (disqualifying is roster's, R20)."""
        args = load(ReviewIn(), {"note": note})
        flag = self.db.get(Flag, flag_id) if isinstance(flag_id, int) else None
        if flag is None:
            raise NotFound("no such flag")
        member = self.db.get(MemberReplica, flag.member_id)
        if visible is not None and not set(visible) & set((member and member.org_path) or []):
            raise Forbidden("that member is outside your part of the organisation")
        flag.reviewed_at, flag.reviewed_by = self.clock.now(), actor
        flag.review_note = args["note"]
        self.db.commit()
        return _flag_out(flag)

    # -- internals -------------------------------------------------------------------------

    def _grace(self) -> timedelta:
        return timedelta(seconds=setting(self.config, "CHALLENGE_GRACE_SECONDS", 10.0, float))

    def _reveal(self) -> str:
        policy = setting(self.config, "ATTEMPTS_REVEAL", "count")
        return policy if policy in conduct.REVEAL_POLICIES else "count"

    def _require_active(self, member_id):
        member = self.db.get(MemberReplica, member_id)
        if member is None or member.status == "unknown":  # roster's event is on its way
            raise Forbidden("this member may not play (unknown)", reason="may_not_play")
        refusal = rules.play_refusal(member.status, member.disqualified)
        if refusal is not None:
            raise refusal

    def _campaign(self) -> CampaignReplica:
        campaign = self.db.scalars(
            select(CampaignReplica).order_by(CampaignReplica.starts_at.desc()).limit(1)
        ).first()
        if campaign is None:
            raise NotFound("no campaign has been published")
        return campaign

    def _open_attempt(self, member_id):
        return self.db.scalars(
            select(Attempt).where(Attempt.member_id == member_id, Attempt.status == "open")
        ).first()

    def _expire_open(self, member_id, now):
        attempt = self._open_attempt(member_id)
        if attempt is not None and rules.is_overdue(attempt.deadline, self._grace(), now):
            self._close(attempt, rules.expired(attempt.time_limit_s), now, None, 0, None)

    def _find_active_run(self, member_id, campaign) -> Run | None:
        return self.db.scalars(
            select(Run).where(Run.member_id == member_id,
                              Run.campaign_id == campaign.campaign_id,
                              Run.active.is_(True))
        ).first()

    def _active_run(self, member_id, campaign, now) -> Run:
        """The member's active run; the first attempt opens run 1."""
        run = self._find_active_run(member_id, campaign)
        if run is not None:
            return run
        run = Run(id=str(uuid.uuid4()), member_id=member_id,
                  campaign_id=campaign.campaign_id, run_number=1, active=True,
                  current_level=1, levels_passed=0, total_ms=0, pending_ms=0,
                  started_at=now)
        self.db.add(run)
        self.events.emit("run_started", {
            "run_id": run.id, "member_id": member_id, "campaign_id": campaign.campaign_id,
            "run_number": run.run_number, "started_at": now,
        })
        return run

    def _close(self, attempt, outcome, now, answers, correct, wrong):
        run = self.db.get(Run, attempt.run_id, with_for_update=True)
        score = rules.RunScore(run.current_level, run.levels_passed, run.total_ms,
                               run.pending_ms, run.last_pass_at)
        score.record(attempt.level, outcome, now)
        run.current_level, run.levels_passed = score.current_level, score.levels_passed
        run.total_ms, run.pending_ms = score.total_ms, score.pending_ms
        run.last_pass_at = score.last_pass_at

        attempt.status = "passed" if outcome.passed else "failed"
        attempt.reason = outcome.reason
        attempt.duration_ms = outcome.duration_ms
        attempt.submitted_at = now
        attempt.answers = answers
        attempt.correct = correct
        attempt.wrong_question_ids = wrong
        attempt.run_levels_passed, attempt.run_total_ms = run.levels_passed, run.total_ms

        data = _pass_data(attempt, run.run_number)
        if outcome.passed:
            self.events.emit("attempt_passed", data)
            fast = conduct.fast_pass(outcome.duration_ms, attempt.total, setting(
                self.config, "FLAG_MIN_MS_PER_QUESTION", 1500, int))
            if fast:
                self._flag(attempt, "fast_pass", dict(fast, level=attempt.level), now)
        else:
            data.update(correct=correct, total=attempt.total, reason=outcome.reason)
            self.events.emit("attempt_failed", data)

    def _attempt_out(self, attempt):
        out = AttemptOut().dump(attempt)
        out["server_now"] = self.clock.now().isoformat()
        return out

    def _result_out(self, attempt):
        run = self.db.get(Run, attempt.run_id)
        result = {
            "attempt_id": attempt.id,
            "level": attempt.level,
            "passed": attempt.status == "passed",
            "reason": attempt.reason,
            "correct": attempt.correct,
            "total": attempt.total,
            "duration_ms": attempt.duration_ms,
            "submitted_at": attempt.submitted_at.isoformat(),
            "run": {"run_id": run.id, "levels_passed": run.levels_passed,
                    "total_ms": run.total_ms, "current_level": run.current_level},
        }
        if attempt.status == "failed":
            result.update(conduct.revealed(self._reveal(), attempt.questions, attempt.key,
                                           attempt.wrong_question_ids or []))
        return result


def _pass_data(attempt, run_number) -> dict:
    """An attempt's `attempt_passed` data (attempt_failed adds correct, total, reason)."""
    return {
        "attempt_id": attempt.id, "member_id": attempt.member_id,
        "campaign_id": attempt.campaign_id, "run_id": attempt.run_id,
        "run_number": run_number, "level": attempt.level,
        "started_at": attempt.started_at, "submitted_at": attempt.submitted_at,
        "duration_ms": attempt.duration_ms, "run_levels_passed": attempt.run_levels_passed,
        "run_total_ms": attempt.run_total_ms,
        "question_ids": list(attempt.key),
        "wrong_question_ids": list(attempt.wrong_question_ids or []),
    }


def _flag_out(flag) -> dict:
    return {"flag_id": flag.id, "attempt_id": flag.attempt_id, "member_id": flag.member_id,
            "campaign_id": flag.campaign_id, "level": flag.level, "reason": flag.reason,
            "detail": flag.detail, "flagged_at": flag.flagged_at.isoformat(),
            "reviewed_at": flag.reviewed_at.isoformat() if flag.reviewed_at else None,
            "reviewed_by": flag.reviewed_by, "review_note": flag.review_note}


def _levels(campaign):
    return [dict(level, opens_at=datetime.fromisoformat(level["opens_at"]))
            for level in campaign.levels]


def _run_order(run):
    """R13: more levels, then less time, then the earlier last pass."""
    last = run.last_pass_at.timestamp() if run.last_pass_at else float("inf")
    return (run.levels_passed, -run.total_ms, -last)
