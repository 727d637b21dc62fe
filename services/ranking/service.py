"""ranking: live boards for every scope of the tree (R8, R13), fed by attempts' passes."""
from sqlalchemy import and_, func, or_, select

from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import event_handler, rpc
from kernel.errors import load
from kernel.inbox import handles_once
from kernel.outbox import Outbox

from . import rules
from .models import Base, Member, MemberScope, PassRecord, Standing
from .schemas import BoardIn, EntryOut

SYSTEM = "system"  # the scope of the whole tree


class RankingService(entrypoints.Answers):
    name = "ranking"

    db = Database("ranking", Base)
    events = Outbox()
    clock = Clock()

    # -- replica of roster's members -------------------------------------------------------

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, event):
        self._replicate(event["data"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, event):
        self._replicate(event["data"])

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, event):
        self._set_disqualified(event["data"]["member_id"], True)

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, event):
        self._set_disqualified(event["data"]["member_id"], False)

    def _replicate(self, data):
        member = self.db.get(Member, data["member_id"])
        if member is None:
            member = Member(member_id=data["member_id"], disqualified=False)
            self.db.add(member)
        member.name = data["name"]
        member.unit_name = data.get("unit_name")
        member.phone_masked = data.get("phone_masked")
        member.org_path = list(data["org_path"])
        scopes = {SYSTEM, *data["org_path"]}
        have = set(self.db.scalars(
            select(MemberScope.scope_id).where(MemberScope.member_id == member.member_id)
        ))
        for scope in have - scopes:
            self.db.delete(self.db.get(MemberScope, (scope, member.member_id)))
        for scope in scopes - have:
            self.db.add(MemberScope(scope_id=scope, member_id=member.member_id))

    def _set_disqualified(self, member_id, flag):
        member = self.db.get(Member, member_id)
        if member is not None:
            member.disqualified = flag

    # -- passes ------------------------------------------------------------------------------

    @event_handler("attempts", "attempt_passed")
    @handles_once
    def on_attempt_passed(self, event):
        """One record per (run, levels passed): duplicates and any order give the same board."""
        data = event["data"]
        key = (data["run_id"], data["run_levels_passed"])
        if self.db.get(PassRecord, key) is None:
            self.db.add(PassRecord(
                run_id=data["run_id"], levels=data["run_levels_passed"],
                member_id=data["member_id"], campaign_id=data["campaign_id"],
                total_ms=data["run_total_ms"], at=data["submitted_at"],
                attempt_id=data["attempt_id"],
            ))
            self.db.flush()
        self._restate(data["campaign_id"], data["member_id"])

    def _restate(self, campaign_id, member_id):
        # lock the member's standing first, so two passes of one member applied at once
        # are applied one after the other, each seeing the other's record
        standing = self.db.get(Standing, (campaign_id, member_id), with_for_update=True)
        records = self.db.scalars(
            select(PassRecord).where(PassRecord.campaign_id == campaign_id,
                                     PassRecord.member_id == member_id)
        ).all()
        top = rules.best(
            rules.Result(r.member_id, r.levels, r.total_ms, r.at, r.run_id) for r in records
        )
        if standing is None:  # a concurrent first insert fails, and handles_once runs us again
            standing = Standing(campaign_id=campaign_id, member_id=member_id)
            self.db.add(standing)
        standing.levels, standing.total_ms = top.levels, top.total_ms
        standing.at, standing.run_id = top.at, top.run_id

    # -- boards ------------------------------------------------------------------------------

    @rpc
    def leaderboard(self, scope_id, campaign_id=None, limit=50, offset=0):
        """The live board of a scope, paged, in the order of rules.Result."""
        args = load(BoardIn(), {"scope_id": scope_id, "campaign_id": campaign_id,
                                "limit": limit, "offset": offset})
        campaign_id = args["campaign_id"] or self._latest_campaign()
        if campaign_id is None:
            return {"scope_id": args["scope_id"], "campaign_id": None, "total": 0,
                    "entries": []}
        board = (
            select(Standing, Member)
            .join(Member, Member.member_id == Standing.member_id)
            .join(MemberScope, MemberScope.member_id == Standing.member_id)
            .where(Standing.campaign_id == campaign_id,
                   MemberScope.scope_id == args["scope_id"])
        )
        total = self.db.scalar(select(func.count()).select_from(board.subquery()))
        rows = self.db.execute(
            board.order_by(Standing.levels.desc(), Standing.total_ms, Standing.at,
                           Standing.member_id)
            .limit(args["limit"]).offset(args["offset"])
        ).all()
        first_place = 1 + self._eligible_before(board, rows, args["offset"])
        entries = rules.place(
            [_entry(standing, member) for standing, member in rows], first_place
        )
        return {"scope_id": args["scope_id"], "campaign_id": campaign_id, "total": total,
                "entries": EntryOut(many=True).dump(entries)}

    @rpc
    def my_rank(self, member_id, campaign_id=None):
        """My place in every scope above me (None where I have no result yet)."""
        campaign_id = campaign_id or self._latest_campaign()
        member = self.db.get(Member, member_id)
        standing = campaign_id and self.db.get(Standing, (campaign_id, member_id))
        scopes = [SYSTEM, *(member.org_path if member else [])]
        out = []
        for scope in dict.fromkeys(scopes):
            rank = None
            if standing and member and not member.disqualified:
                rank = 1 + self.db.scalar(
                    select(func.count())
                    .select_from(Standing)
                    .join(Member, Member.member_id == Standing.member_id)
                    .join(MemberScope, MemberScope.member_id == Standing.member_id)
                    .where(Standing.campaign_id == campaign_id,
                           MemberScope.scope_id == scope,
                           Member.disqualified.is_(False),
                           _ahead_of(standing))
                )
            out.append({"scope_id": scope, "rank": rank})
        return {"member_id": member_id, "campaign_id": campaign_id, "scopes": out}

    def _latest_campaign(self):
        return self.db.scalar(
            select(Standing.campaign_id).order_by(Standing.at.desc()).limit(1)
        )

    def _eligible_before(self, board, rows, offset):
        if offset == 0 or not rows:
            return 0
        first = rows[0][0]
        return self.db.scalar(
            select(func.count()).select_from(
                board.where(Member.disqualified.is_(False), _ahead_of(first)).subquery()
            )
        )


def _ahead_of(standing):
    """Rows that come before `standing` in the board's order."""
    return or_(
        Standing.levels > standing.levels,
        and_(Standing.levels == standing.levels, Standing.total_ms < standing.total_ms),
        and_(Standing.levels == standing.levels, Standing.total_ms == standing.total_ms,
             Standing.at < standing.at),
        and_(Standing.levels == standing.levels, Standing.total_ms == standing.total_ms,
             Standing.at == standing.at, Standing.member_id < standing.member_id),
    )


def _entry(standing, member):
    return {
        "member_id": member.member_id, "name": member.name, "unit_name": member.unit_name,
        "phone_masked": member.phone_masked, "levels": standing.levels,
        "total_ms": standing.total_ms, "at": standing.at,
        "disqualified": member.disqualified,
    }
