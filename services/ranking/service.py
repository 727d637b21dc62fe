"""ranking: live boards for every scope of the tree (R8, R13), fed by attempts' passes;
month cutoffs, closes and immutable snapshots (R15); rebuild from attempts' export."""
import logging
import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import event_handler, rpc, timer_from_config
from kernel.errors import BadInput, Conflict, NotFound, load
from kernel.inbox import handles_once
from kernel.outbox import Outbox
from kernel.rpc import TimedRpcProxy
from kernel.settings import setting
from kernel.logs import WorkerContext

from . import rules
from .models import (
    Base, CampaignReplica, Member, MemberScope, MonthClose, PassRecord, SnapshotEntry, Standing,
)
from .schemas import BoardIn, EntryOut, MonthIn

log = logging.getLogger(__name__)

SYSTEM = "system"  # the scope of the whole tree


class RankingService(entrypoints.Answers):
    name = "ranking"
    logs = WorkerContext()  # the correlation id and service in every log line

    db = Database("ranking", Base)
    events = Outbox()
    clock = Clock()
    config = Config()
    attempts = TimedRpcProxy("attempts")

    # -- replica of question_bank's campaigns ------------------------------------------------

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
        campaign.starts_at, campaign.ends_at = data["starts_at"], data["ends_at"]

    # -- replica of roster's members -------------------------------------------------------

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, event):
        self._replicate(event["data"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, event):
        self._replicate(event["data"])

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_member_deactivated(self, event):
        member = self.db.get(Member, event["data"]["member_id"])
        if member is not None:
            member.active = False

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
        member.active = data["status"] == "active"  # a reactivation puts them back
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
        self._record(data)
        self._restate(data["campaign_id"], data["member_id"])

    def _record(self, data):
        key = (data["run_id"], data["run_levels_passed"])
        if self.db.get(PassRecord, key) is None:
            self.db.add(PassRecord(
                run_id=data["run_id"], levels=data["run_levels_passed"],
                member_id=data["member_id"], campaign_id=data["campaign_id"],
                total_ms=data["run_total_ms"], at=data["submitted_at"],
                attempt_id=data["attempt_id"],
            ))
            self.db.flush()

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
    def leaderboard(self, scope_id, campaign_id=None, limit=50, offset=0, month=None):
        """The live board of a scope, or a closed month's snapshot, paged, in the order of
        rules.Result."""
        args = load(BoardIn(), {"scope_id": scope_id, "campaign_id": campaign_id,
                                "limit": limit, "offset": offset, "month": month})
        campaign_id = args["campaign_id"] or self._latest_campaign()
        if campaign_id is None:
            return {"scope_id": args["scope_id"], "campaign_id": None, "total": 0,
                    "entries": [], "month": args["month"]}
        if args["month"]:
            return self._snapshot_board(campaign_id, args)
        board = (
            select(Standing, Member)
            .join(Member, Member.member_id == Standing.member_id)
            .join(MemberScope, MemberScope.member_id == Standing.member_id)
            .where(Standing.campaign_id == campaign_id,
                   MemberScope.scope_id == args["scope_id"],
                   Member.active.is_(True))  # the disqualified stay, marked (R20)
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
                "month": None, "entries": EntryOut(many=True).dump(entries)}

    def _snapshot_board(self, campaign_id, args):
        close = self._closed(campaign_id, args["month"])
        if close is None:
            raise Conflict(f"{args['month']} is not closed yet; its board is the live one "
                           "until the month is closed", fields={"month": [args["month"]]})
        board = select(SnapshotEntry).where(SnapshotEntry.snapshot_id == close.snapshot_id,
                                            SnapshotEntry.scope_id == args["scope_id"])
        total = self.db.scalar(select(func.count()).select_from(board.subquery()))
        rows = self.db.scalars(board.order_by(SnapshotEntry.position)
                               .limit(args["limit"]).offset(args["offset"])).all()
        entries = [{"rank": r.rank, "member_id": r.member_id, "name": r.name,
                    "unit_name": r.unit_name, "phone_masked": r.phone_masked,
                    "levels": r.levels, "total_ms": r.total_ms, "at": r.at,
                    "disqualified": r.disqualified} for r in rows]
        return {"scope_id": args["scope_id"], "campaign_id": campaign_id, "total": total,
                "month": args["month"], "snapshot_id": close.snapshot_id,
                "cutoff": close.cutoff.isoformat(),
                "entries": EntryOut(many=True).dump(entries)}

    # -- months (R15) ------------------------------------------------------------------------

    @timer_from_config("MONTH_CLOSE_CHECK_SECONDS", 30)
    def close_due_months(self):
        """Close every month whose cutoff plus the settle delay has passed, in order, once
        ranking holds every pass up to the cutoff (it waits, and says so, while it does not)."""
        now = self.clock.now()
        settle = timedelta(seconds=setting(self.config, "CHALLENGE_SETTLE_SECONDS", 300.0,
                                           float))
        closed = []
        for campaign in self.db.scalars(select(CampaignReplica)).all():
            for month in rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone):
                if rules.cutoff(month, campaign.time_zone) + settle > now:
                    break
                if self._closed(campaign.campaign_id, month) is not None:
                    continue
                try:
                    closed.append(self._close(campaign.campaign_id, month, "timer"))
                except Conflict as behind:
                    log.error("month %s of campaign %s is due but not closed: %s", month,
                              campaign.campaign_id, behind.message)
                    break  # a later month never closes before an earlier one
        self.db.commit()
        return closed

    @rpc
    def close_month(self, campaign_id, month, actor=None):
        """Close a month now (an administrator): the timer's path, idempotent; refused
        before the month's cutoff, and while ranking lacks passes attempts has."""
        args = load(MonthIn(), {"campaign_id": campaign_id, "month": month})
        campaign = self._campaign(args["campaign_id"])
        if args["month"] not in rules.months(campaign.starts_at, campaign.ends_at,
                                             campaign.time_zone):
            raise BadInput(f"{args['month']} is not a month of this campaign",
                           fields={"month": [args["month"]]})
        cut = rules.cutoff(args["month"], campaign.time_zone)
        if self.clock.now() <= cut:
            raise Conflict(f"{args['month']} runs until {cut.isoformat()}; it can be closed "
                           "after that", fields={"month": ["not over yet"]})
        done = self._closed(campaign.campaign_id, args["month"])
        if done is None:
            for earlier in rules.months(campaign.starts_at, campaign.ends_at,
                                        campaign.time_zone):
                if earlier >= args["month"]:
                    break
                if self._closed(campaign.campaign_id, earlier) is None:
                    raise Conflict(f"close {earlier} first", fields={"month": [earlier]})
            return self._close(campaign.campaign_id, args["month"], actor or "admin")
        return _close_out(done)

    @rpc
    def months(self, campaign_id=None):
        """The campaign's months: cutoff, and for closed ones when, by whom, the snapshot."""
        campaign = self._campaign(campaign_id or self._latest_campaign())
        closes = {c.month: c for c in self.db.scalars(
            select(MonthClose).where(MonthClose.campaign_id == campaign.campaign_id))}
        return [dict(_close_out(closes[m]) if m in closes else {
            "campaign_id": campaign.campaign_id, "month": m, "closed": False,
            "cutoff": rules.cutoff(m, campaign.time_zone).isoformat()})
            for m in rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone)]

    def _close(self, campaign_id, month, by):
        campaign = self._campaign(campaign_id)
        cut = rules.cutoff(month, campaign.time_zone)
        self.db.commit()  # never hold a transaction across an RPC call
        expected = self.attempts.count_passes(campaign_id, cut.isoformat())
        records = self.db.scalars(select(PassRecord).where(
            PassRecord.campaign_id == campaign_id, PassRecord.at <= cut)).all()
        if len(records) < expected:
            raise Conflict(f"ranking holds {len(records)} of the {expected} passes submitted "
                           f"by the cutoff of {month}; waiting for the rest")
        if len(records) > expected:
            log.error("ranking holds %d passes up to %s but attempts counts %d: closing with "
                      "what ranking holds", len(records), cut, expected)
        results = rules.standings_at(
            [rules.Result(r.member_id, r.levels, r.total_ms, r.at, r.run_id) for r in records],
            cut)
        members = {m.member_id: m for m in self.db.scalars(
            select(Member).where(Member.member_id.in_(list(results))))} if results else {}
        # the month's board is the live board at its close: inactive members are off it
        results = {m: r for m, r in results.items() if m not in members or members[m].active}
        by_scope: dict = {}
        for member_id, result in results.items():
            member = members.get(member_id)
            for scope in dict.fromkeys([SYSTEM, *(member.org_path if member else [])]):
                by_scope.setdefault(scope, []).append(result)
        disqualified = {m for m, member in members.items() if member.disqualified}
        snapshot_id = str(uuid.uuid4())
        rows = []
        for scope, scope_results in by_scope.items():
            for position, entry in enumerate(rules.board(scope_results, disqualified), 1):
                member = members.get(entry["member_id"])
                rows.append({
                    "snapshot_id": snapshot_id, "scope_id": scope,
                    "member_id": entry["member_id"], "position": position,
                    "rank": entry["rank"], "levels": entry["levels"],
                    "total_ms": entry["total_ms"], "at": entry["at"], "run_id": entry["run_id"],
                    "name": member.name if member else None,
                    "unit_name": member.unit_name if member else None,
                    "phone_masked": member.phone_masked if member else None,
                    "disqualified": entry["disqualified"]})
        all_months = rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone)
        close = MonthClose(snapshot_id=snapshot_id, campaign_id=campaign_id, month=month,
                           cutoff=cut, closed_at=self.clock.now(), closed_by=by,
                           ranked_members=len(results), passes_counted=len(records),
                           final=month == all_months[-1])
        self.db.add(close)
        self.db.flush()  # the unique (campaign, month) first: a second closer stops here
        if rows:
            self.db.execute(insert(SnapshotEntry), rows)
        self.events.emit("month_closed", {
            "campaign_id": campaign_id, "month": month, "cutoff": cut,
            "snapshot_id": snapshot_id, "ranked_members": len(results)})
        if close.final:
            self.events.emit("campaign_closed", {"campaign_id": campaign_id,
                                                 "final_snapshot_id": snapshot_id})
        try:
            self.db.commit()
        except IntegrityError:
            self.db.rollback()
            done = self._closed(campaign_id, month)
            log.info("month %s of %s was closed by another replica", month, campaign_id)
            return _close_out(done)
        log.info("closed %s of campaign %s: %d ranked, snapshot %s", month, campaign_id,
                 len(results), snapshot_id)
        return _close_out(close)

    def _closed(self, campaign_id, month):
        return self.db.scalars(select(MonthClose).where(
            MonthClose.campaign_id == campaign_id, MonthClose.month == month)).first()

    def _campaign(self, campaign_id):
        campaign = self.db.get(CampaignReplica, campaign_id) if campaign_id else None
        if campaign is None:
            raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
        return campaign

    # -- rebuild -------------------------------------------------------------------------------

    @rpc
    def rebuild(self, campaign_id=None, page=1000):
        """Wipe the live projection of a campaign and replay it from attempts' export of
        passes (closed months' snapshots are immutable and stay)."""
        campaign_id = campaign_id or self._latest_campaign()
        self.db.execute(delete(Standing).where(Standing.campaign_id == campaign_id))
        self.db.execute(delete(PassRecord).where(PassRecord.campaign_id == campaign_id))
        self.db.commit()
        after, passes, members = None, 0, set()
        while True:
            chunk = self.attempts.with_timeout(120).export_passes(campaign_id, after, page)
            for data in chunk["passes"]:
                self._record(_as_event_data(data))
                members.add(data["member_id"])
            passes += len(chunk["passes"])
            self.db.commit()
            after = chunk["next"]
            if not chunk["passes"] or after is None:
                break
        for member_id in sorted(members):
            self._restate(campaign_id, member_id)
        self.db.commit()
        return {"campaign_id": campaign_id, "passes": passes, "members": len(members)}

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
            if standing and member and member.active and not member.disqualified:
                rank = 1 + self.db.scalar(
                    select(func.count())
                    .select_from(Standing)
                    .join(Member, Member.member_id == Standing.member_id)
                    .join(MemberScope, MemberScope.member_id == Standing.member_id)
                    .where(Standing.campaign_id == campaign_id,
                           MemberScope.scope_id == scope,
                           Member.disqualified.is_(False), Member.active.is_(True),
                           _ahead_of(standing))
                )
            out.append({"scope_id": scope, "rank": rank})
        return {"member_id": member_id, "campaign_id": campaign_id, "scopes": out}

    def _latest_campaign(self):
        return self.db.scalar(
            select(CampaignReplica.campaign_id).order_by(CampaignReplica.starts_at.desc())
            .limit(1)
        ) or self.db.scalar(
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


def _close_out(close) -> dict:
    return {"campaign_id": close.campaign_id, "month": close.month, "closed": True,
            "cutoff": close.cutoff.isoformat(), "closed_at": close.closed_at.isoformat(),
            "closed_by": close.closed_by, "snapshot_id": close.snapshot_id,
            "ranked_members": close.ranked_members, "passes": close.passes_counted,
            "final": close.final}


def _as_event_data(data) -> dict:
    """An exported pass (JSON) as the event handler sees one (aware datetimes)."""
    from datetime import datetime

    at = data["submitted_at"]
    return dict(data, submitted_at=datetime.fromisoformat(at) if isinstance(at, str) else at)
