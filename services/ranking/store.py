"""ranking's queries, named for what they answer, over one unit of work's session."""
from __future__ import annotations

from sqlalchemy import (
    and_, case, delete, false, func, insert, literal, select, text, true, union,
)

from kernel import campaigns, r13
from kernel.uow import Store

from .ingest_sql import record_passes

from .models import (
    CampaignReplica, Member, MemberRole, MemberScope, MonthClose, PassRecord, SnapshotEntry,
    Standing,
)

# R13's fields as the live board's columns
STANDING = {"levels": Standing.levels, "total_ms": Standing.total_ms, "at": Standing.at,
            "member_id": Standing.member_id}
# (snapshot, scope) -> how many are on that closed board: snapshots never change
_SNAPSHOT_TOTALS: dict = {}



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

    def record_passes(self, passes, consumer=None, now=None) -> int:
        """Passes in (dicts: event_id, run_id, levels, member_id, campaign_id, total_ms, at,
        attempt_id): each event claimed for `consumer` (None: no claim), its pass record
        added unless the (run, levels) is held, and each member's standing raised to the
        best record added when that is ahead of it (R8, R13). One statement on PostgreSQL;
        returns how many records were added."""
        return record_passes(self.session, passes, consumer, now)

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
        return total, self.live_page(campaign_id, scope_id, limit, offset)

    def live_page(self, campaign_id, scope_id, limit, offset):
        """One page of the board, (standing, member) in R13's order (the index's)."""
        rows = self.session.execute(self._board(campaign_id, scope_id).order_by(
            *r13.order_by(STANDING)).limit(limit).offset(offset)).all()
        return [tuple(row) for row in rows]

    def scope_size(self, scope_id) -> int:
        """How many members count in the scope (its key's prefix: no join)."""
        return self.session.scalar(select(func.count()).where(
            MemberScope.scope_id == scope_id))

    def board_places(self, campaign_id, scope_id) -> tuple[int, dict[str, int]]:
        """(how many are on the scope's board, {member: how many take a place ahead of
        them}): one pass over the board in its order (the index's), for the board cache
        (boards.BoardCache); ids and flags only, nothing else converted."""
        ahead, placed = {}, 0
        if self.session.get_bind().dialect.name == "postgresql":  # sort 100k in memory
            self.session.execute(text("SET LOCAL work_mem = '64MB'"))
        for member_id, disqualified, levels, total_ms, at in self.session.execute(
                self._board(campaign_id, scope_id).with_only_columns(
                    Standing.member_id, Member.disqualified, Standing.levels,
                    Standing.total_ms, Standing.at)
                .order_by(*r13.order_by(STANDING))):
            # with the result it was counted for: a member whose standing has changed
            # since is counted afresh (boards.BoardCache.placed_ahead)
            ahead[member_id] = (placed, (levels, total_ms, at))
            placed += not disqualified
        return len(ahead), ahead

    def placed_ahead(self, campaign_id, scope_id, standing) -> int:
        """How many on the scope's board take a place (not disqualified) ahead of
        `standing`: its place is one more."""
        # the scope's members first (a small board: boards.BoardCache takes the large
        # ones), so PostgreSQL looks each one's standing up instead of walking the
        # campaign's standings in order to find the scope's
        scoped = select(MemberScope.member_id).where(MemberScope.scope_id == scope_id).cte(
            "scoped").prefix_with("MATERIALIZED", dialect="postgresql")
        return self.session.scalar(
            select(func.count()).select_from(scoped)
            .join(Standing, and_(Standing.campaign_id == campaign_id,
                                 Standing.member_id == scoped.c.member_id))
            .join(Member, Member.member_id == scoped.c.member_id)
            .where(Member.active.is_(True), Member.disqualified.is_(False),
                   r13.ahead_of(STANDING, standing)))

    # -- months and snapshots (R15) ------------------------------------------------------

    def month_close(self, campaign_id, month) -> MonthClose | None:
        return self.session.scalars(select(MonthClose).where(
            MonthClose.campaign_id == campaign_id, MonthClose.month == month)).first()

    def month_closes(self, campaign_id) -> dict[str, MonthClose]:
        return {c.month: c for c in self.session.scalars(
            select(MonthClose).where(MonthClose.campaign_id == campaign_id))}

    def add_close(self, close: MonthClose) -> None:
        """The close, flushed first: its unique (campaign, month) stops a second closer
        here, before the snapshot's rows are written."""
        self.session.add(close)
        self.session.flush()

    def passes_counted(self, campaign_id, until) -> tuple[int, int]:
        """(passes submitted by `until`, members with one) of the campaign."""
        counted, members = self.session.execute(
            select(func.count(), func.count(PassRecord.member_id.distinct())).where(
                PassRecord.campaign_id == campaign_id, PassRecord.at <= until)).one()
        return counted, members

    def write_snapshot(self, snapshot_id, campaign_id, until, month_after, system,
                       admin_roles) -> None:
        """A closed month's boards in one INSERT … SELECT (R8, R13, R15, R20, issue 18):
        each member's best pass by `until`, in every scope they count in (`system` and
        their member_scopes), positioned in R13's order per scope, placed among the
        eligible (neither disqualified nor inactive), with the marks eligibility depends
        on. `month_after`: (instant, inclusive) where the month begins, for
        passed_in_month. Nothing is loaded into Python: 100k members are one statement."""
        p = PassRecord
        since, inclusive = month_after
        inside = and_(p.at >= since if inclusive else p.at > since, p.at <= until)
        ranked = select(
            p.member_id, p.levels, p.total_ms, p.at, p.run_id,
            func.row_number().over(partition_by=p.member_id, order_by=(
                p.levels.desc(), p.total_ms, p.at, p.run_id)).label("n"),
            func.max(case((inside, 1), else_=0)).over(partition_by=p.member_id)
            .label("played"),
        ).where(p.campaign_id == campaign_id, p.at <= until).subquery("ranked")
        best = select(ranked).where(ranked.c.n == 1).cte("best")
        scoped = union(
            select(MemberScope.scope_id, MemberScope.member_id)
            .join(best, best.c.member_id == MemberScope.member_id),
            select(literal(system).label("scope_id"), best.c.member_id),
        ).subquery("scoped")
        disqualified = func.coalesce(Member.disqualified, false())
        active = func.coalesce(Member.active, true())
        eligible = and_(disqualified == false(), active == true())
        order = (best.c.levels.desc(), best.c.total_ms, best.c.at, best.c.member_id)
        admins = select(MemberRole.member_id).where(MemberRole.role.in_(list(admin_roles)))
        rows = (
            select(
                literal(snapshot_id).label("snapshot_id"), scoped.c.scope_id,
                best.c.member_id,
                func.row_number().over(partition_by=scoped.c.scope_id, order_by=order)
                .label("position"),
                case((eligible, func.row_number().over(
                    partition_by=(scoped.c.scope_id, eligible), order_by=order)),
                    else_=None).label("rank"),
                best.c.levels, best.c.total_ms, best.c.at, best.c.run_id,
                Member.name, Member.unit_name, Member.phone_masked,
                disqualified.label("disqualified"), active.label("active"),
                Member.participation, best.c.member_id.in_(admins).label("bank_admin"),
                (best.c.played == 1).label("passed_in_month"),
            )
            .select_from(scoped)
            .join(best, best.c.member_id == scoped.c.member_id)
            .outerjoin(Member, Member.member_id == best.c.member_id)
        )
        columns = ["snapshot_id", "scope_id", "member_id", "position", "rank", "levels",
                   "total_ms", "at", "run_id", "name", "unit_name", "phone_masked",
                   "disqualified", "active", "participation", "bank_admin",
                   "passed_in_month"]
        self.session.execute(insert(SnapshotEntry).from_select(columns, rows))

    def snapshot_heads(self, snapshot_id, scope_ids, depth) -> dict[str, tuple[int, list]]:
        """Per scope: (how many on its snapshot board, its first `depth` rows in order)."""
        e = SnapshotEntry
        totals = dict(self.session.execute(
            select(e.scope_id, func.count()).where(
                e.snapshot_id == snapshot_id, e.scope_id.in_(scope_ids)).group_by(e.scope_id)
        ).all())
        heads: dict = {scope: [] for scope in scope_ids}
        for row in self.session.scalars(select(e).where(
                e.snapshot_id == snapshot_id, e.scope_id.in_(scope_ids), e.position <= depth)
                .order_by(e.scope_id, e.position)):
            heads[row.scope_id].append(row)
        return {scope: (totals.get(scope, 0), heads[scope]) for scope in scope_ids}

    def snapshot_board(self, snapshot_id, scope_id, limit, offset):
        """(how many are on the snapshot's board for the scope, one page in its order).
        Positions are 1..n per scope, so a page is a range of them (no rows skipped), and
        the total of an immutable snapshot is counted once per process."""
        e = SnapshotEntry
        key = (snapshot_id, scope_id)
        total = _SNAPSHOT_TOTALS.get(key)
        if total is None:
            total = self.session.scalar(select(func.count()).where(
                e.snapshot_id == snapshot_id, e.scope_id == scope_id))
            if len(_SNAPSHOT_TOTALS) > 10_000:
                _SNAPSHOT_TOTALS.clear()
            _SNAPSHOT_TOTALS[key] = total
        rows = self.session.scalars(select(e).where(
            e.snapshot_id == snapshot_id, e.scope_id == scope_id,
            e.position > offset, e.position <= offset + limit).order_by(e.position))
        return total, list(rows)

    def snapshot_levels(self, snapshot_id, scope_id) -> dict[str, int]:
        """{member id: levels} on a snapshot's board of one scope (R19's month by month)."""
        return dict(self.session.execute(
            select(SnapshotEntry.member_id, SnapshotEntry.levels).where(
                SnapshotEntry.snapshot_id == snapshot_id,
                SnapshotEntry.scope_id == scope_id)).all())
