"""awards: award policies per campaign and the awards granted under them (R16–R18, R20).

A closed month's awards are granted once, from ranking's snapshot; a disqualification
revokes the member's unpaid awards and moves the next eligible member up; a paid award is
never changed silently but marked for an administrator's attention."""
import logging
import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from kernel import entrypoints
from kernel import events as contract
from kernel.clock import Clock
from kernel.db import Database
from kernel.entrypoints import event_handler, rpc
from kernel.errors import Conflict, NotFound, load
from kernel.inbox import handles_once
from kernel.outbox import Outbox
from kernel.rpc import TimedRpcProxy
from kernel.logs import WorkerContext

from . import annual
from .models import (
    AnnualScore, Award, AwardPolicy, Base, BoardEntry, Disqualified, GrantedPeriod,
)
from .policy import allocate, default_policy, depth
from .schemas import AwardOut, PeriodQuery, PolicyLine

log = logging.getLogger(__name__)
BOARD_MARGIN = 200  # entries kept below the last awarded place, for places that move up
ANNUAL = "annual"  # the period of R17/R18's awards
ANNUAL_TOP = 3  # excellent organisations per kind (R18: "the best"; the design's default)


class AwardsService(entrypoints.Answers):
    name = "awards"
    logs = WorkerContext()  # the correlation id and service in every log line

    db = Database("awards", Base)
    events = Outbox()
    clock = Clock()
    ranking = TimedRpcProxy("ranking")
    roster = TimedRpcProxy("roster")
    attempts = TimedRpcProxy("attempts")
    question_bank = TimedRpcProxy("question_bank")

    # -- annual results (R17, R18) ---------------------------------------------------------------

    @event_handler("ranking", "campaign_closed")
    def on_campaign_closed(self, body):
        """The champion and the excellent units and organ branches, once per campaign; the
        inputs are gathered over RPC first, outside any transaction."""
        data = contract.parse(body)["data"]
        campaign_id = data["campaign_id"]
        if self.db.get(GrantedPeriod, (campaign_id, ANNUAL)) is not None:
            self.db.rollback()
            return
        self.db.rollback()
        final_month = next(m["month"] for m in self.ranking.months(campaign_id)
                           if m.get("snapshot_id") == data["final_snapshot_id"])
        final = self._board(campaign_id, final_month, "system", 10 ** 9)
        levels = {e["member_id"]: e["levels"] for e in final}
        nodes = self.roster.with_timeout(120).org_tree()
        roster = self.roster.with_timeout(120).roster_for_scoring()
        attempted = {p["member_id"] for p in
                     self.attempts.with_timeout(120).participants(campaign_id)}
        total_levels = len(self.question_bank.get_campaign(campaign_id)["levels"])
        top = ANNUAL_TOP
        tables = annual.excellence(nodes, roster, attempted, levels, total_levels, top)
        champion = annual.champion(final)
        now = self.clock.now()
        self.db.add(GrantedPeriod(campaign_id=campaign_id, period=ANNUAL,
                                  snapshot_id=data["final_snapshot_id"],
                                  policy=[{"kind": "annual", "top": top,
                                           "levels": total_levels}], granted_at=now))
        try:
            self.db.flush()
        except IntegrityError:
            self.db.rollback()
            return
        winners = {}
        for kind, rows in tables.items():
            for row in annual.as_json(rows):
                self.db.add(AnnualScore(campaign_id=campaign_id, kind=kind,
                                        org_unit_id=row["org_unit_id"], rank=row["rank"],
                                        figures=row))
                if row["excellent"]:
                    winners.setdefault(kind, []).append(row["org_unit_id"])
                    self._grant_annual(campaign_id, f"excellent_{kind}", row["rank"],
                                       org_unit_id=row["org_unit_id"], now=now)
        if champion:
            self._grant_annual(campaign_id, "annual_champion", 1, member_id=champion, now=now)
        self.events.emit("annual_results_published", {
            "campaign_id": campaign_id, "champion_member_id": champion,
            "excellent_units": winners.get("unit", []),
            "excellent_branches": winners.get("branch", [])})
        self.db.commit()

    @rpc
    def participation(self, campaign_id):
        """R19, live: each unit's and organ branch's members expected to play, how many have
        played, and the score R18 would give them if the campaign closed now (levels from
        each participant's best run so far)."""
        nodes = self.roster.with_timeout(120).org_tree()
        roster = self.roster.with_timeout(120).roster_for_scoring()
        played = self.attempts.with_timeout(120).participants(campaign_id)
        levels = {p["member_id"]: p["levels_passed"] for p in played}
        total_levels = len(self.question_bank.get_campaign(campaign_id)["levels"])
        tables = annual.excellence(nodes, roster, set(levels), levels, total_levels, top=0)
        return {"campaign_id": campaign_id, "levels": total_levels,
                "units": annual.as_json(tables["unit"]),
                "branches": annual.as_json(tables["branch"])}

    def _grant_annual(self, campaign_id, kind, rank, now, member_id=None, org_unit_id=None):
        award = Award(id=str(uuid.uuid4()), campaign_id=campaign_id, period=ANNUAL, kind=kind,
                      rank=rank, amount_cny=None, member_id=member_id,
                      org_unit_id=org_unit_id, scope_id=None, status="granted",
                      granted_at=now)
        self.db.add(award)
        data = {"award_id": award.id, "campaign_id": campaign_id, "period": ANNUAL,
                "kind": kind, "rank": rank, "amount_cny": None}
        data.update({"member_id": member_id} if member_id else {"org_unit_id": org_unit_id})
        self.events.emit("award_granted", data)

    @rpc
    def annual_xlsx(self, campaign_id, names=None, champion_name=None, results=None):
        """The annual results as XLSX (base64), org unit names from the caller; `results`
        as `annual_results` gives them, or the part of them the caller's reader may see
        (the gateway scopes them as it scopes the JSON)."""
        import base64

        from .ledger import annual_workbook

        if results is None:
            results = self.annual_results(campaign_id)
        data = annual_workbook(results, names or {}, champion_name)
        return {"filename": "annual-results.xlsx",
                "content_b64": base64.b64encode(data).decode()}

    @rpc
    def annual_results(self, campaign_id):
        """The champion and each organisation's score with every figure behind it."""
        awards = self.db.scalars(select(Award).where(Award.campaign_id == campaign_id,
                                                     Award.period == ANNUAL)).all()
        scores = self.db.scalars(select(AnnualScore).where(
            AnnualScore.campaign_id == campaign_id).order_by(AnnualScore.kind,
                                                             AnnualScore.rank)).all()
        if not scores and not awards:
            raise NotFound("no annual results yet: they follow the campaign's last month")
        return {"campaign_id": campaign_id,
                "champion_member_id": next((a.member_id for a in awards
                                            if a.kind == "annual_champion"), None),
                "units": [s.figures for s in scores if s.kind == "unit"],
                "branches": [s.figures for s in scores if s.kind == "branch"]}

    # -- monthly awards (R16) ------------------------------------------------------------------

    @event_handler("ranking", "month_closed")
    def on_month_closed(self, body):
        """Grant the month's awards once (a redelivered or repeated event grants nothing
        more): the snapshot is read from ranking first, outside any transaction."""
        data = contract.parse(body)["data"]
        campaign_id, month = data["campaign_id"], data["month"]
        if self.db.get(GrantedPeriod, (campaign_id, month)) is not None:
            self.db.rollback()
            return
        lines = [PolicyLine().dump(line) for line in self.db.scalars(
            select(AwardPolicy).where(AwardPolicy.campaign_id == campaign_id,
                                      AwardPolicy.period == "monthly"))]
        self.db.rollback()  # never hold the database across an RPC call
        boards = {scope: self._board(campaign_id, month, scope, depth(lines) + BOARD_MARGIN)
                  for scope in {line["scope"] for line in lines}}
        self.db.add(GrantedPeriod(campaign_id=campaign_id, period=month,
                                  snapshot_id=data["snapshot_id"], policy=lines,
                                  granted_at=self.clock.now()))
        for scope, entries in boards.items():
            for position, entry in enumerate(entries, 1):
                self.db.add(BoardEntry(
                    campaign_id=campaign_id, period=month, scope_id=scope,
                    member_id=entry["member_id"], position=position, levels=entry["levels"],
                    total_ms=entry["total_ms"], name=entry["name"],
                    unit_name=entry["unit_name"], phone_masked=entry["phone_masked"],
                    disqualified=entry["disqualified"]))
        try:
            self.db.flush()  # the (campaign, month) key: a concurrent grant stops here
        except IntegrityError:
            self.db.rollback()
            return
        self._reconcile(campaign_id, month, f"{month} closed")
        self.db.commit()

    def _board(self, campaign_id, month, scope, eligible_needed):
        entries, offset = [], 0
        while True:
            page = self.ranking.leaderboard(scope, campaign_id, 200, offset, month)
            entries.extend(page["entries"])
            offset += len(page["entries"])
            eligible = sum(1 for e in entries if not e["disqualified"])
            if not page["entries"] or offset >= page["total"] or eligible >= eligible_needed:
                return entries

    def _reconcile(self, campaign_id, period, why):
        """Make the awards of a granted month what its policy and boards say now: grant the
        missing, revoke the unpaid ones no longer earned, flag the paid ones."""
        granted = self.db.get(GrantedPeriod, (campaign_id, period), with_for_update=True)
        boards = {}
        for entry in self.db.scalars(select(BoardEntry).where(
                BoardEntry.campaign_id == campaign_id, BoardEntry.period == period)
                .order_by(BoardEntry.scope_id, BoardEntry.position)):
            boards.setdefault(entry.scope_id, []).append(
                {"member_id": entry.member_id, "disqualified": entry.disqualified})
        disqualified = set(self.db.scalars(select(Disqualified.member_id)))
        wanted = allocate(granted.policy, boards, disqualified)
        now = self.clock.now()
        for award in self.db.scalars(select(Award).where(
                Award.campaign_id == campaign_id, Award.period == period,
                Award.status.in_(["granted", "paid"]))):
            key = (award.kind, award.scope_id, award.member_id)
            if wanted.get(key) == (award.rank, award.amount_cny):
                wanted.pop(key)
                continue
            if award.status == "paid":
                award.attention = (f"paid, but no longer earned as granted ({why}); "
                                   "review by hand")
                wanted.pop(key, None)
                continue
            reason = ("disqualified (R20)" if award.member_id in disqualified
                      else f"place changed ({why})")
            award.status, award.revoked_at, award.reason = "revoked", now, reason
            self.events.emit("award_revoked", {"award_id": award.id, "reason": reason})
        for (kind, scope, member_id), (place, amount) in sorted(
                wanted.items(), key=lambda item: (item[0][1], item[1][0], item[0][0])):
            award = Award(id=str(uuid.uuid4()), campaign_id=campaign_id, period=period,
                          kind=kind, rank=place, amount_cny=amount, member_id=member_id,
                          scope_id=scope, status="granted", granted_at=now)
            self.db.add(award)
            self.events.emit("award_granted", {
                "award_id": award.id, "campaign_id": campaign_id, "period": period,
                "kind": kind, "rank": place, "amount_cny": amount, "member_id": member_id})

    # -- R20 -------------------------------------------------------------------------------------

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, event):
        member_id = event["data"]["member_id"]
        if self.db.get(Disqualified, member_id) is None:
            self.db.add(Disqualified(member_id=member_id, since=event["data"]["decided_at"]))
            self.db.flush()
        self._reconcile_member(member_id, "a disqualification")

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, event):
        member_id = event["data"]["member_id"]
        self.db.execute(delete(Disqualified).where(Disqualified.member_id == member_id))
        self.db.flush()
        self._reconcile_member(member_id, "a reinstatement")

    def _reconcile_member(self, member_id, why):
        periods = set(self.db.execute(select(BoardEntry.campaign_id, BoardEntry.period)
                                      .where(BoardEntry.member_id == member_id)).all())
        for campaign_id, period in sorted(periods):
            self._reconcile(campaign_id, period, why)

    @rpc
    def mark_paid(self, actor, award_id):
        """Finance has paid it: a paid award is never revoked silently afterwards."""
        award = self.db.get(Award, award_id) if isinstance(award_id, str) else None
        if award is None:
            raise NotFound("no such award")
        if award.status != "granted":
            raise Conflict(f"the award is {award.status}; only a granted award is paid")
        award.status, award.paid_at, award.paid_by = "paid", self.clock.now(), actor
        self.db.commit()
        return AwardOut().dump(award)

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, event):
        """A new campaign gets the seed's default policy, unless it already has one."""
        data = event["data"]
        campaign_id = data["campaign_id"]
        exists = self.db.scalar(
            select(AwardPolicy.id).where(AwardPolicy.campaign_id == campaign_id).limit(1)
        )
        if exists is None:
            organisation_id = data.get("organisation_id") or "federation"
            for line in default_policy(campaign_id, organisation_id):
                self.db.add(AwardPolicy(**line))

    @rpc
    def policies(self, campaign_id):
        rows = self.db.scalars(
            select(AwardPolicy)
            .where(AwardPolicy.campaign_id == campaign_id)
            .order_by(AwardPolicy.period, AwardPolicy.scope, AwardPolicy.place_from)
        ).all()
        return PolicyLine(many=True).dump(rows)

    @rpc
    def set_policies(self, campaign_id, lines):
        """Replace a campaign's policy (months already closed keep the awards they got)."""
        lines = [load(PolicyLine(), dict(line, campaign_id=campaign_id), "policy line")
                 for line in lines]
        self.db.execute(delete(AwardPolicy).where(AwardPolicy.campaign_id == campaign_id))
        for line in lines:
            self.db.add(AwardPolicy(**line))
        self.db.commit()
        return self.policies(campaign_id)

    @rpc
    def awards_of_period(self, campaign_id, period):
        """Every award of a period (revoked ones too), with what the board showed."""
        query = load(PeriodQuery(), {"campaign_id": campaign_id, "period": period})
        rows = self.db.scalars(
            select(Award)
            .where(Award.campaign_id == query["campaign_id"],
                   Award.period == query["period"])
            .order_by(Award.scope_id, Award.rank, Award.kind, Award.granted_at)
        ).all()
        boards = {(e.scope_id, e.member_id): e for e in self.db.scalars(select(BoardEntry).where(
            BoardEntry.campaign_id == query["campaign_id"], BoardEntry.period == query["period"]))}
        out = []
        for award in rows:
            entry = boards.get((award.scope_id, award.member_id))
            out.append(dict(AwardOut().dump(award), **({
                "name": entry.name, "unit_name": entry.unit_name,
                "phone_masked": entry.phone_masked, "levels": entry.levels,
                "total_ms": entry.total_ms} if entry else {})))
        return out

    @rpc
    def ledger(self, campaign_id, period, departments=None):
        """The month's ledger for finance as XLSX (Chinese headers, totals), base64."""
        import base64

        from .ledger import workbook

        awards = self.awards_of_period(campaign_id, period)
        data = workbook(period, awards, departments or {})
        return {"filename": f"awards-{period}.xlsx",
                "content_b64": base64.b64encode(data).decode(), "rows": len(awards)}
