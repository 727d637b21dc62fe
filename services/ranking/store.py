"""ranking's queries, named for what they answer, over one unit of work's session."""
from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from kernel import campaigns, r13
from kernel.uow import Store

from .models import (
    CampaignReplica, Member, MemberRole, MemberScope, MonthClose, PassRecord, SnapshotEntry,
    Standing,
)

# R13's fields as the live board's columns
STANDING = {"levels": Standing.levels, "total_ms": Standing.total_ms, "at": Standing.at,
            "member_id": Standing.member_id}


class RankingStore(Store):

    # -- replicas ------------------------------------------------------------------------

    def campaign(self, campaign_id) -> CampaignReplica | None:
        return self.session.get(CampaignReplica, campaign_id) if campaign_id else None

    def campaigns(self) -> list[CampaignReplica]:
        return list(self.session.scalars(select(CampaignReplica)))

    def current_campaign_id(self) -> str | None:
        """The current campaign; before any is replicated, the one with the latest result."""
        return self.session.scalar(
            campaigns.current(select(CampaignReplica.campaign_id), CampaignReplica.starts_at)
        ) or self.session.scalar(
            select(Standing.campaign_id).order_by(Standing.at.desc()).limit(1)
        )

    def member(self, member_id) -> Member | None:
        return self.session.get(Member, member_id)

    def members(self, member_ids) -> dict[str, Member]:
        if not member_ids:
            return {}
        return {m.member_id: m for m in self.session.scalars(
            select(Member).where(Member.member_id.in_(list(member_ids))))}

    def role(self, member_id, role, org_unit_id) -> MemberRole | None:
        return self.session.get(MemberRole, (member_id, role, org_unit_id))

    def holders(self, roles) -> set[str]:
        """The members holding one of `roles` anywhere (administrators: a handful)."""
        return set(self.session.scalars(select(MemberRole.member_id).where(
            MemberRole.role.in_(list(roles)))))

    def scopes_of(self, member_id) -> set[str]:
        return set(self.session.scalars(
            select(MemberScope.scope_id).where(MemberScope.member_id == member_id)))

    def join_scope(self, scope_id, member_id) -> None:
        self.session.add(MemberScope(scope_id=scope_id, member_id=member_id))

    def leave_scope(self, scope_id, member_id) -> None:
        self.session.delete(self.session.get(MemberScope, (scope_id, member_id)))

    # -- passes and standings ------------------------------------------------------------

    def pass_record(self, run_id, levels) -> PassRecord | None:
        return self.session.get(PassRecord, (run_id, levels))

    def add_pass(self, record: PassRecord) -> None:
        self.session.add(record)
        self.session.flush()  # the member's standing is restated from the records next

    def passes_of(self, campaign_id, member_id) -> list[PassRecord]:
        return list(self.session.scalars(select(PassRecord).where(
            PassRecord.campaign_id == campaign_id, PassRecord.member_id == member_id)))

    def passes_until(self, campaign_id, until) -> list[PassRecord]:
        return list(self.session.scalars(select(PassRecord).where(
            PassRecord.campaign_id == campaign_id, PassRecord.at <= until)))

    def standing(self, campaign_id, member_id, lock=False) -> Standing | None:
        """`lock`: hold the row until commit, so two passes of one member are applied one
        after the other, each seeing the other's record."""
        return self.session.get(Standing, (campaign_id, member_id), with_for_update=lock)

    def wipe_live(self, campaign_id) -> None:
        """The live projection of a campaign (its standings and pass records), gone."""
        self.session.execute(delete(Standing).where(Standing.campaign_id == campaign_id))
        self.session.execute(delete(PassRecord).where(PassRecord.campaign_id == campaign_id))

    # -- the live board ------------------------------------------------------------------

    def _board(self, campaign_id, scope_id):
        return (
            select(Standing, Member)
            .join(Member, Member.member_id == Standing.member_id)
            .join(MemberScope, MemberScope.member_id == Standing.member_id)
            .where(Standing.campaign_id == campaign_id, MemberScope.scope_id == scope_id,
                   Member.active.is_(True))  # the disqualified stay, marked (R20)
        )

    def live_board(self, campaign_id, scope_id, limit, offset):
        """(how many are on the board, one page of (standing, member) in R13's order)."""
        board = self._board(campaign_id, scope_id)
        total = self.session.scalar(select(func.count()).select_from(board.subquery()))
        rows = self.session.execute(
            board.order_by(*r13.order_by(STANDING)).limit(limit).offset(offset)).all()
        return total, [tuple(row) for row in rows]

    def placed_ahead(self, campaign_id, scope_id, standing) -> int:
        """How many on the scope's board take a place (not disqualified) ahead of
        `standing`: its place is one more."""
        board = self._board(campaign_id, scope_id).where(
            Member.disqualified.is_(False), r13.ahead_of(STANDING, standing))
        return self.session.scalar(select(func.count()).select_from(board.subquery()))

    # -- months and snapshots (R15) ------------------------------------------------------

    def month_close(self, campaign_id, month) -> MonthClose | None:
        return self.session.scalars(select(MonthClose).where(
            MonthClose.campaign_id == campaign_id, MonthClose.month == month)).first()

    def month_closes(self, campaign_id) -> dict[str, MonthClose]:
        return {c.month: c for c in self.session.scalars(
            select(MonthClose).where(MonthClose.campaign_id == campaign_id))}

    def add_close(self, close: MonthClose, entries: list[dict]) -> None:
        """The close first (its unique (campaign, month) stops a second closer here), then
        the snapshot's rows."""
        self.session.add(close)
        self.session.flush()
        if entries:
            self.session.execute(insert(SnapshotEntry), entries)

    def snapshot_board(self, snapshot_id, scope_id, limit, offset):
        """(how many are on the snapshot's board for the scope, one page in its order)."""
        board = select(SnapshotEntry).where(SnapshotEntry.snapshot_id == snapshot_id,
                                            SnapshotEntry.scope_id == scope_id)
        total = self.session.scalar(select(func.count()).select_from(board.subquery()))
        rows = self.session.scalars(board.order_by(SnapshotEntry.position)
                                    .limit(limit).offset(offset))
        return total, list(rows)
