"""attempts' queries, named for what they answer, over one session (the unit of work's).

Every `select(` of the service is here; the use cases (play.py, watch.py, records.py,
replicas.py) ask these and never see SQL. `lock=True` takes the row for the rest of the
transaction (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer anyway).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, func, select

from kernel import campaigns
from kernel.uow import Store

from .models import Attempt, CampaignReplica, Exposure, Flag, MemberReplica, Run


class AttemptsStore(Store):
    service = "attempts"

    # -- replicas --------------------------------------------------------------------------

    def member(self, member_id) -> MemberReplica | None:
        return self.session.get(MemberReplica, member_id)

    def campaign(self, campaign_id) -> CampaignReplica | None:
        return self.session.get(CampaignReplica, campaign_id)

    def current_campaign(self) -> CampaignReplica | None:
        return self.session.scalars(
            campaigns.current(select(CampaignReplica), CampaignReplica.starts_at)).first()

    # -- play, a statement per request (issue 20) ------------------------------------------
    # A start, a save and a submit read what they check in one statement each: the objects
    # stay in the session's identity map while the use case holds them, so `campaign()`,
    # `run()` and `member()` (lock=False) find them there without a query.

    def start_context(self, member_id) -> tuple[MemberReplica | None, CampaignReplica | None,
                                                Run | None, Attempt | None]:
        """(the member's replica, the current campaign, the member's active run in it, the
        member's open attempt), each None when missing."""
        query = (select(CampaignReplica, Run, MemberReplica, Attempt)
                 .select_from(CampaignReplica)
                 .outerjoin(Run, (Run.campaign_id == CampaignReplica.campaign_id)
                            & (Run.member_id == member_id) & Run.active.is_(True))
                 .outerjoin(MemberReplica, MemberReplica.member_id == member_id)
                 .outerjoin(Attempt, (Attempt.member_id == member_id)
                            & (Attempt.status == "open")))
        row = self.session.execute(campaigns.current(query, CampaignReplica.starts_at)).first()
        if row is None:  # no campaign published
            return self.member(member_id), None, None, self.open_attempt(member_id)
        campaign, run, member, attempt = row
        return member, campaign, run, attempt

    def campaign_and_run(self, campaign_id, member_id) -> tuple[CampaignReplica | None,
                                                                 Run | None]:
        """(the campaign, the member's active run in it)."""
        row = self.session.execute(
            select(CampaignReplica, Run)
            .outerjoin(Run, (Run.campaign_id == CampaignReplica.campaign_id)
                       & (Run.member_id == member_id) & Run.active.is_(True))
            .where(CampaignReplica.campaign_id == campaign_id)).first()
        return (row[0], row[1]) if row is not None else (None, None)

    def attempt_in_play(self, attempt_id, member_id, with_run=False) -> tuple[
            Attempt, MemberReplica | None, CampaignReplica | None, Run | None] | None:
        """(the attempt, taken for update; the replica of `member_id`, who asks; the
        attempt's campaign; `with_run`, its run, taken for update too), or None when there is
        no such attempt."""
        query = (select(Attempt, MemberReplica, CampaignReplica).select_from(Attempt)
                 .outerjoin(MemberReplica, MemberReplica.member_id == member_id)
                 .outerjoin(CampaignReplica,
                            CampaignReplica.campaign_id == Attempt.campaign_id))
        if with_run:
            query = query.add_columns(Run).join(Run, Run.id == Attempt.run_id)
        row = self.session.execute(query.where(Attempt.id == attempt_id).with_for_update(
            of=(Attempt, Run) if with_run else Attempt)).first()
        if row is None:
            return None
        return (*row, None) if not with_run else tuple(row)

    # -- attempts and runs -----------------------------------------------------------------

    def attempt(self, attempt_id, lock=False) -> Attempt | None:
        """`lock`: read again, as it stands now, even when the session holds it already."""
        return self.session.get(Attempt, attempt_id, with_for_update=lock,
                                populate_existing=lock)

    def open_attempt(self, member_id, lock=False) -> Attempt | None:
        query = select(Attempt).where(Attempt.member_id == member_id, Attempt.status == "open")
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def overdue(self, before: datetime, limit: int = 500) -> list[Attempt]:
        """Open attempts whose deadline is before `before`; rows another worker is closing
        are skipped, not waited for."""
        return list(self.session.scalars(
            select(Attempt).where(Attempt.status == "open", Attempt.deadline < before)
            .limit(limit).with_for_update(skip_locked=True)))

    def run(self, run_id, lock=False) -> Run | None:
        """`lock`: read again, as it stands now, even when the session holds it already."""
        return self.session.get(Run, run_id, with_for_update=lock, populate_existing=lock)

    def active_run(self, member_id, campaign_id, lock=False) -> Run | None:
        query = select(Run).where(Run.member_id == member_id, Run.campaign_id == campaign_id,
                                  Run.active.is_(True))
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def runs_of(self, member_id) -> list[Run]:
        return list(self.session.scalars(
            select(Run).where(Run.member_id == member_id).order_by(Run.run_number)))

    def history(self, member_id, limit: int, offset: int) -> tuple[int, list[Attempt]]:
        """(how many attempts the member has, a page of them, newest first)."""
        query = select(Attempt).where(Attempt.member_id == member_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        page = self.session.scalars(
            query.order_by(Attempt.started_at.desc()).limit(limit).offset(offset)).all()
        return total, list(page)

    # -- regrades (regrade.py) -------------------------------------------------------------

    def drawn_attempts(self, campaign_id, question_id) -> list[Attempt]:
        """The attempts of the campaign whose paper may have drawn the question (at whatever
        level it stood then), oldest first: their key's JSON text names it (the regrade
        checks each key itself)."""
        return list(self.session.scalars(
            select(Attempt).where(
                Attempt.campaign_id == campaign_id,
                cast(Attempt.key, String).contains(f'"{question_id}"', autoescape=True))
            .order_by(Attempt.started_at, Attempt.id)))

    def run_attempts(self, run_id) -> list[Attempt]:
        """A run's attempts in the order they were played."""
        return list(self.session.scalars(
            select(Attempt).where(Attempt.run_id == run_id)
            .order_by(Attempt.started_at, Attempt.id)))

    def member_passes(self, member_id, campaign_id) -> list[Attempt]:
        """The member's passes (each a run's score after it, R13), superseded ones left out."""
        return list(self.session.scalars(select(Attempt).where(
            Attempt.member_id == member_id, Attempt.campaign_id == campaign_id,
            Attempt.status == "passed", Attempt.superseded.is_(False))))

    def graded_before(self, member_id, campaign_id, level, started_at) -> int:
        """The member's graded (passed or failed) attempts at a level started up to
        `started_at`: an attempt's place among them, as statistics counted them."""
        return self.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.member_id == member_id, Attempt.campaign_id == campaign_id,
            Attempt.level == level, Attempt.status.in_(("passed", "failed")),
            Attempt.started_at <= started_at))

    # -- R20's pace ------------------------------------------------------------------------

    def recent_starts(self, member_id, since: datetime) -> list[datetime]:
        return list(self.session.scalars(select(Attempt.started_at).where(
            Attempt.member_id == member_id, Attempt.started_at > since)))

    def last_failure(self, member_id) -> datetime | None:
        """When the member's latest failed attempt was submitted (or expired)."""
        return self.session.scalars(
            select(Attempt.submitted_at).where(Attempt.member_id == member_id,
                                               Attempt.status == "failed")
            .order_by(Attempt.submitted_at.desc()).limit(1)).first()

    def exposure(self, member_id, campaign_id, level) -> Exposure | None:
        return self.session.get(Exposure, (member_id, campaign_id, level))

    # -- flags -----------------------------------------------------------------------------

    def flag(self, flag_id) -> Flag | None:
        return self.session.get(Flag, flag_id)

    def flags_with_org(self, reviewed: bool | None) -> list[tuple[Flag, list | None]]:
        """Every flag (reviewed or not, or both when None), newest first, with its member's
        org path (None when the member's registration has not arrived)."""
        query = select(Flag, MemberReplica.org_path).outerjoin(
            MemberReplica, MemberReplica.member_id == Flag.member_id)
        if reviewed is not None:
            query = query.where(Flag.reviewed_at.is_not(None) if reviewed
                                else Flag.reviewed_at.is_(None))
        return [tuple(row) for row in self.session.execute(
            query.order_by(Flag.flagged_at.desc(), Flag.id.desc()))]

    def flags_of(self, member_id) -> list[Flag]:
        """A member's flags, newest first (a reviewer sees them all at once)."""
        return list(self.session.scalars(select(Flag).where(Flag.member_id == member_id)
                                         .order_by(Flag.flagged_at.desc(), Flag.id.desc())))

    # -- an administrator's review (review.py) ----------------------------------------------

    def attempts_of(self, member_id, limit: int) -> list[Attempt]:
        """The member's newest `limit` attempts, every campaign's, newest first."""
        return list(self.session.scalars(
            select(Attempt).where(Attempt.member_id == member_id)
            .order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(limit)))

    def players(self, campaign_id, level: int | None, since: datetime | None) -> list[str]:
        """Members with an attempt in the campaign (at `level`; started since `since`)."""
        query = select(Attempt.member_id).where(Attempt.campaign_id == campaign_id)
        if level is not None:
            query = query.where(Attempt.level == level)
        if since is not None:
            query = query.where(Attempt.started_at >= since)
        return sorted(set(self.session.scalars(query.distinct())))

    # -- what other services ask -----------------------------------------------------------

    def passes_until(self, campaign_id, until: datetime) -> int:
        return self.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.campaign_id == campaign_id, Attempt.status == "passed",
            Attempt.superseded.is_(False), Attempt.submitted_at <= until))

    def passes_after(self, campaign_id, after: tuple[datetime, str] | None,
                     limit: int) -> list[tuple[Attempt, int]]:
        """(pass, its run's number) in submission order, from just after `after`
        (submitted_at, attempt id) on."""
        query = (select(Attempt, Run.run_number).join(Run, Run.id == Attempt.run_id)
                 .where(Attempt.campaign_id == campaign_id, Attempt.status == "passed",
                        Attempt.superseded.is_(False)))
        if after is not None:
            at, attempt_id = after
            query = query.where((Attempt.submitted_at > at)
                                | ((Attempt.submitted_at == at) & (Attempt.id > attempt_id)))
        return [tuple(row) for row in self.session.execute(
            query.order_by(Attempt.submitted_at, Attempt.id).limit(limit))]

    def attempts_per_member(self, campaign_id) -> dict[str, int]:
        return dict(self.session.execute(
            select(Attempt.member_id, func.count()).where(Attempt.campaign_id == campaign_id)
            .group_by(Attempt.member_id)).all())

    def first_start_per_member(self, campaign_id) -> dict:
        """When each member first started an attempt in the campaign (R19's month by month)."""
        return dict(self.session.execute(
            select(Attempt.member_id, func.min(Attempt.started_at))
            .where(Attempt.campaign_id == campaign_id).group_by(Attempt.member_id)).all())

    def most_levels_per_member(self, campaign_id) -> dict[str, int]:
        return dict(self.session.execute(
            select(Run.member_id, func.max(Run.levels_passed))
            .where(Run.campaign_id == campaign_id).group_by(Run.member_id)).all())
