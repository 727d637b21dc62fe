"""awards' queries, named for what they answer, over one unit of work's session."""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kernel.uow import Store

from .models import (
    SETTINGS_DEFAULTS, AnnualScore, Award, AwardPolicy, AwardSettings, BoardEntry, Disqualified,
    FlagReplica, GrantedPeriod, MemberReplica,
)

STANDING = ("held", "granted", "paid")  # an award not revoked
UNDER_REVIEW = ("open", "upheld")  # a flag that holds its member's unpaid awards


HOLDS_LOCK = 0x686F6C64  # pg_advisory_xact_lock's key for deciding holds ("hold")


class AwardsStore(Store):
    service = "awards"

    def lock_holds(self) -> None:
        """Serialise what decides whether an award is held (a month's grant, a flag raised
        or reviewed) until this transaction ends: otherwise a grant that has not yet seen a
        flag and the flag's hold that has not yet seen the grant's awards both commit, and
        a flagged member's award stays payable. A transaction-scoped advisory lock on
        PostgreSQL; SQLite has one writer at a time already."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(HOLDS_LOCK)))

    def granted_months(self, campaign_id: str) -> set[str]:
        """The periods of a campaign whose awards were granted."""
        return set(self.session.scalars(select(GrantedPeriod.period).where(
            GrantedPeriod.campaign_id == campaign_id)))

    def period_of_snapshot(self, campaign_id: str, snapshot_id: str) -> str | None:
        """The granted month whose snapshot this is (the campaign's last, for campaign_closed)."""
        return self.session.scalars(select(GrantedPeriod.period).where(
            GrantedPeriod.campaign_id == campaign_id,
            GrantedPeriod.snapshot_id == snapshot_id)).first()

    # -- flags (R20), from attempts' events ------------------------------------------------------

    def flag(self, flag_id: int, lock: bool = False) -> FlagReplica | None:
        return self.session.get(FlagReplica, flag_id, with_for_update=lock)

    def under_review(self, member_id: str) -> bool:
        """Whether the member has a flag open or upheld (their unpaid awards are held)."""
        return self.session.scalar(select(FlagReplica.flag_id).where(
            FlagReplica.member_id == member_id,
            FlagReplica.state.in_(UNDER_REVIEW)).limit(1)) is not None

    def flags_under_review(self, member_ids) -> dict[str, list[FlagReplica]]:
        """Each member's flags open or upheld, oldest first (why their awards are held)."""
        out: dict[str, list[FlagReplica]] = {}
        ids = sorted({m for m in member_ids if m})
        if ids:
            for flag in self.session.scalars(select(FlagReplica).where(
                    FlagReplica.member_id.in_(ids), FlagReplica.state.in_(UNDER_REVIEW))
                    .order_by(FlagReplica.flag_id)):
                out.setdefault(flag.member_id, []).append(flag)
        return out

    def member_awards(self, member_id: str, status: str) -> list[Award]:
        """A member's awards in one status, every period, oldest first."""
        return list(self.session.scalars(select(Award).where(
            Award.member_id == member_id, Award.status == status)
            .order_by(Award.granted_at, Award.id).with_for_update()))

    def awards_of_member(self, member_id: str, campaign_id: str) -> list[Award]:
        """A member's awards of a campaign in every status, newest period first."""
        return list(self.session.scalars(select(Award).where(
            Award.member_id == member_id, Award.campaign_id == campaign_id)
            .order_by(Award.period.desc(), Award.rank, Award.kind, Award.id)))

    # -- periods granted -------------------------------------------------------------------------

    def granted_period(self, campaign_id: str, period: str, lock: bool = False):
        return self.session.get(GrantedPeriod, (campaign_id, period), with_for_update=lock)

    def claim_period(self, granted: GrantedPeriod, rows: list) -> bool:
        """Store a period's grant with its rows; False when another worker granted it first
        (the (campaign, period) key): the caller then discards its transaction."""
        self.session.add(granted)
        self.session.add_all(rows)
        try:
            self.session.flush()
        except IntegrityError:
            return False
        return True

    # -- policies --------------------------------------------------------------------------------

    def policy(self, campaign_id: str) -> list[AwardPolicy]:
        """A campaign's policy lines as an administrator reads them."""
        return list(self.session.scalars(select(AwardPolicy).where(
            AwardPolicy.campaign_id == campaign_id).order_by(
            AwardPolicy.period, AwardPolicy.scope, AwardPolicy.place_from)))

    def monthly_lines(self, campaign_id: str) -> list[AwardPolicy]:
        """The monthly lines in the order they were set (a later line of the same kind and
        scope overrides an earlier one's places when allocating)."""
        return list(self.session.scalars(select(AwardPolicy).where(
            AwardPolicy.campaign_id == campaign_id, AwardPolicy.period == "monthly")
            .order_by(AwardPolicy.id)))

    def has_policy(self, campaign_id: str) -> bool:
        return self.session.scalar(select(AwardPolicy.id).where(
            AwardPolicy.campaign_id == campaign_id).limit(1)) is not None

    def drop_policy(self, campaign_id: str) -> None:
        self.session.execute(delete(AwardPolicy).where(AwardPolicy.campaign_id == campaign_id))

    def settings(self, campaign_id: str) -> dict:
        """The campaign's award settings (eligibility, R18's numbers), defaults filled in."""
        row = self.session.get(AwardSettings, campaign_id)
        if row is None:
            return dict(SETTINGS_DEFAULTS, campaign_id=campaign_id)
        return {"campaign_id": campaign_id, "updated_at": row.updated_at,
                "updated_by": row.updated_by,
                **{key: getattr(row, key) for key in SETTINGS_DEFAULTS}}

    def settings_row(self, campaign_id: str) -> AwardSettings:
        """The settings row to change (created with the defaults when there is none)."""
        row = self.session.get(AwardSettings, campaign_id, with_for_update=True)
        if row is None:
            row = AwardSettings(campaign_id=campaign_id, **SETTINGS_DEFAULTS)
            self.session.add(row)
        return row

    # -- boards kept from ranking's snapshots ----------------------------------------------------

    def board_entries(self, campaign_id: str, period: str) -> list[BoardEntry]:
        """A granted period's boards, each scope in board order."""
        return list(self.session.scalars(select(BoardEntry).where(
            BoardEntry.campaign_id == campaign_id, BoardEntry.period == period)
            .order_by(BoardEntry.scope_id, BoardEntry.position)))

    def periods_with(self, member_id: str) -> list[tuple[str, str]]:
        """The (campaign, period) boards the member is on, in order."""
        return sorted(set(self.session.execute(
            select(BoardEntry.campaign_id, BoardEntry.period)
            .where(BoardEntry.member_id == member_id)).tuples()))

    # -- who members are (roster's events) ------------------------------------------------------

    def member_display(self, member_id: str) -> dict | None:
        member = self.session.get(MemberReplica, member_id)
        return member.display if member is not None else None

    def keep_member_display(self, member_id: str, display: dict, now) -> None:
        member = self.session.get(MemberReplica, member_id)
        if member is None:
            member = MemberReplica(member_id=member_id)
            self.session.add(member)
        member.display, member.updated_at = display, now

    def board_display(self, campaign_id: str, period: str, member_id: str) -> dict | None:
        """Who a member was on a granted period's boards (the snapshot's names), for a
        member roster has not told us about since this replica began."""
        entry = self.session.scalars(select(BoardEntry).where(
            BoardEntry.campaign_id == campaign_id, BoardEntry.period == period,
            BoardEntry.member_id == member_id).limit(1)).first()
        return None if entry is None or entry.name is None else {
            "name": entry.name, "phone_masked": entry.phone_masked}

    # -- R20 -------------------------------------------------------------------------------------

    def disqualified(self) -> set[str]:
        return set(self.session.scalars(select(Disqualified.member_id)))

    def is_disqualified(self, member_id: str) -> bool:
        return self.session.get(Disqualified, member_id) is not None

    def disqualify(self, member_id: str, since) -> None:
        self.session.add(Disqualified(member_id=member_id, since=since))
        self.session.flush()

    def reinstate(self, member_id: str) -> None:
        self.session.execute(delete(Disqualified).where(Disqualified.member_id == member_id))
        self.session.flush()

    # -- awards ----------------------------------------------------------------------------------

    def award(self, award_id: str) -> Award | None:
        return self.session.get(Award, award_id)

    def standing_awards(self, campaign_id: str, period: str) -> list[Award]:
        """The period's awards not revoked (held, granted or paid)."""
        return list(self.session.scalars(select(Award).where(
            Award.campaign_id == campaign_id, Award.period == period,
            Award.status.in_(STANDING))))

    def awards_of_period(self, campaign_id: str, period: str) -> list[dict]:
        """Every award of a period, revoked ones too, as column → value (so a board's
        figures can be added to each)."""
        return [dict(row) for row in self.session.execute(
            select(*Award.__table__.c)
            .where(Award.campaign_id == campaign_id, Award.period == period)
            .order_by(Award.scope_id, Award.rank, Award.kind, Award.granted_at)).mappings()]

    def annual_scores(self, campaign_id: str) -> list[AnnualScore]:
        return list(self.session.scalars(select(AnnualScore).where(
            AnnualScore.campaign_id == campaign_id).order_by(AnnualScore.kind,
                                                             AnnualScore.rank)))
