"""awards: award policies per campaign and the awards granted under them (R16–R18, R20).

A closed month's awards are granted once, from ranking's snapshot; a disqualification
revokes the member's unpaid awards and moves the next eligible member up; a paid award is
never changed silently but marked for an administrator's attention.

Entrypoints only: the use cases are `grants.py` (months, R20, the policy) and `results.py`
(the annual results, the spreadsheets); the queries are `store.py`. What other services
know is asked between two transactions, never inside one."""
from kernel import entrypoints
from kernel import events as contract
from kernel.entrypoints import event_handler, rpc
from kernel.logs import WorkerContext
from kernel.rpc import TimedRpcProxy
from kernel.uow import UnitOfWork, handles_once

from . import grants, results
from .models import Base
from .results import annual_xlsx as annual_results_xlsx  # `results` is a parameter below
from kernel import audit
from kernel.errors import Conflict

from .schemas import (
    AnnualResultsOut, AnnualXlsxIn, AwardOut, CampaignIn, GrantIn, GrantOut,
    LedgerIn, MarkPaidIn, MissingIn, ParticipationOut, PeriodAwardOut, PeriodQuery, PolicyIn,
    PolicyLine, SetSettingsIn, SettingsOut, XlsxOut,
)
from .schemas import MemberAwardOut, MemberAwardsIn  # a member's own (issue 21)
from . import reports
from .schemas import ShortlistIn, ShortlistOut, UnitReportOut
from .store import AwardsStore

SLOW = 120  # seconds for roster's and attempts' whole-campaign answers


class AwardsService(entrypoints.Answers):
    name = "awards"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("awards", Base, store=AwardsStore)
    ranking = TimedRpcProxy("ranking")
    roster = TimedRpcProxy("roster")
    attempts = TimedRpcProxy("attempts")
    question_bank = TimedRpcProxy("question_bank")

    # -- annual results (R17, R18) ---------------------------------------------------------------

    @event_handler("ranking", "campaign_closed")
    def on_campaign_closed(self, body):
        """The champion and the excellent units and organ branches, once per campaign."""
        data = contract.parse(body)["data"]
        campaign_id, snapshot_id = data["campaign_id"], data["final_snapshot_id"]
        with self.uow as tx:
            if not results.annual_pending(tx, campaign_id):
                return
            month = tx.store.period_of_snapshot(campaign_id, snapshot_id)  # granted here
        if month is None:  # the last month's grant is missing: ask ranking which it was
            month = results.final_month(self.ranking.months(campaign_id), snapshot_id)
        final = self._board(campaign_id, month, "system", 10 ** 9)
        nodes, roster, played, total_levels = self._organisations(campaign_id)
        attempted = {p["member_id"] for p in played}
        campaign = self.question_bank.get_campaign(campaign_id)  # R18: who left, and when
        removals = self.roster.with_timeout(SLOW).scoring_removals(
            since=campaign["starts_at"], until=campaign["ends_at"])
        with self.uow as tx:
            results.publish_annual(tx, campaign_id, snapshot_id, final, nodes, roster,
                                   attempted, total_levels, removals)

    @rpc(args=CampaignIn, result=ParticipationOut)
    def participation(self, campaign_id):
        """R19, live: each unit's and organ branch's members expected, played, and the score
        R18 would give them now."""
        return results.participation(campaign_id, *self._organisations(campaign_id))

    # -- what organisers hand on (issue 23) -------------------------------------------------------

    @rpc(args=ShortlistIn, result=ShortlistOut)
    def shortlist(self, campaign_id, month=None):
        """R6/R17: the live contest's shortlist, the first `shortlist_size` eligible members
        of the whole tree's live board, or of a closed month's snapshot."""
        with self.uow as tx:
            settings = tx.store.settings(campaign_id)
        eligibility, size = reports.contest_eligibility(settings), settings["shortlist_size"]
        entries = grants.read_board(lambda limit, offset: self.ranking.leaderboard(
            "system", campaign_id, limit, offset, month), size, eligibility)
        return {"size": size, "entries": reports.shortlist(entries, eligibility, size)}

    @rpc(args=CampaignIn, result=UnitReportOut)
    def unit_report(self, campaign_id):
        """R19: each unit's and organ branch's figures now and at every closed month's
        cutoff, and the expected members who have not played yet."""
        months = self.ranking.with_timeout(SLOW).month_levels(campaign_id)
        return reports.unit_report(campaign_id, *self._organisations(campaign_id), months)

    def _organisations(self, campaign_id):
        """The org tree, the roster to score, who played the campaign and its level count."""
        nodes = self.roster.with_timeout(SLOW).org_tree()
        roster = self.roster.with_timeout(SLOW).roster_for_scoring()
        played = self.attempts.with_timeout(SLOW).participants(campaign_id)
        total_levels = len(self.question_bank.get_campaign(campaign_id)["levels"])
        return nodes, roster, played, total_levels

    @rpc(args=AnnualXlsxIn, result=XlsxOut)
    def annual_xlsx(self, campaign_id, names=None, champion_name=None, results=None):
        """The annual results as XLSX (base64), org unit names from the caller; `results`
        as `annual_results` gives them, or the part of them the caller's reader may see
        (the gateway scopes them as it scopes the JSON)."""
        if results is None:
            results = self.annual_results(campaign_id)
        return annual_results_xlsx(results, names, champion_name)

    @rpc(args=CampaignIn, result=AnnualResultsOut)
    def annual_results(self, campaign_id):
        """The champion and each organisation's score with every figure behind it."""
        with self.uow as tx:
            return results.annual_results(tx, campaign_id)

    # -- monthly awards (R16) ------------------------------------------------------------------

    @event_handler("ranking", "month_closed")
    def on_month_closed(self, body):
        """Grant the month's awards once (a redelivered or repeated event grants nothing
        more): from the boards' heads the event carries (`tops`) when they reach deep
        enough, else read from ranking between the check and the grant."""
        data = contract.parse(body)["data"]
        self._grant(data["campaign_id"], data["month"], data["snapshot_id"], data.get("tops"))

    def _grant(self, campaign_id, month, snapshot_id, tops=None, actor=None) -> bool:
        with self.uow as tx:
            lines = grants.policy_to_grant(tx, campaign_id, month)
            settings = grants.eligibility(tx.store.settings(campaign_id))
        if lines is None:
            return False
        boards = grants.boards_from_tops(tops, lines, settings)
        if boards is None:
            boards = {scope: self._board(campaign_id, month, scope, needed, settings)
                      for scope, needed in grants.boards_wanted(lines).items()}
        with self.uow as tx:
            return grants.grant_month(tx, campaign_id, month, snapshot_id, lines, boards,
                                      settings, actor)

    def _board(self, campaign_id, month, scope, eligible_needed, settings=None):
        return grants.read_board(lambda limit, offset: self.ranking.leaderboard(
            scope, campaign_id, limit, offset, month), eligible_needed, settings)

    @rpc(args=GrantIn, result=GrantOut)
    def grant_month(self, actor, campaign_id, month):
        """Grant a closed month's awards from its snapshot if they are missing (a
        month_closed lost or dead-lettered); idempotent: a granted month is left as it is."""
        closed = {m["month"]: m for m in self.ranking.months(campaign_id) if m.get("closed")}
        if month not in closed:
            raise Conflict(f"{month} is not closed", reason="month_not_closed")
        done = self._grant(campaign_id, month, closed[month]["snapshot_id"], None, actor)
        with self.uow as tx:
            awards = tx.store.standing_awards(campaign_id, month)
            return {"month": month, "granted": done, "awards": len(awards),
                    "held": sum(1 for a in awards if a.status == "held")}

    @rpc(args=MissingIn)
    def missing_months(self, campaign_id, months):
        """Of ranking's closed months, those whose awards were never granted."""
        with self.uow as tx:
            return grants.missing_months(tx, campaign_id, months)

    # -- held for review (R20): attempts' flags --------------------------------------------------

    @event_handler("attempts", "attempt_flagged")
    @handles_once
    def on_attempt_flagged(self, tx, event):
        grants.flag_raised(tx, event["data"])

    @event_handler("attempts", "flag_reviewed")
    @handles_once
    def on_flag_reviewed(self, tx, event):
        grants.flag_reviewed(tx, event["data"])

    # -- the eligibility settings (R16, R18, R20) ----------------------------------------------

    @rpc(args=CampaignIn, result=SettingsOut)
    def settings(self, campaign_id):
        with self.uow as tx:
            return grants.settings(tx, campaign_id)

    @rpc(args=SetSettingsIn, result=SettingsOut)
    def set_settings(self, actor, campaign_id, changes):
        """Change who is eligible and R18's numbers (months granted keep their settings)."""
        with self.uow as tx:
            return grants.set_settings(tx, actor, campaign_id, changes)

    @rpc(args=audit.AuditLogIn, result=audit.AuditPageOut)
    def audit_log(self, visible=None, limit=50, offset=0):
        """Every change to money (grant, hold, release, pay, settings), newest first (the
        entries are not scoped to a part of the tree: `visible` other than None reads none)."""
        with self.uow as tx:
            return tx.store.audit_log(visible, limit, offset)

    @rpc(args=PeriodQuery, result=PeriodAwardOut(many=True))
    def awards_of_period(self, campaign_id, period):
        """Every award of a period (revoked ones too), with what the board showed."""
        with self.uow as tx:
            return grants.awards_of_period(tx, campaign_id, period)

    @rpc(args=MemberAwardsIn, result=MemberAwardOut(many=True))
    def awards_of_member(self, member_id, campaign_id):
        """A member's own awards of a campaign (revoked ones too), newest period first."""
        with self.uow as tx:
            return grants.awards_of_member(tx, member_id, campaign_id)

    @rpc(args=LedgerIn, result=XlsxOut)
    def ledger(self, campaign_id, period, departments=None):
        """The month's ledger for finance as XLSX (Chinese headers, totals), base64."""
        awards = self.awards_of_period(campaign_id, period)
        return results.month_ledger(period, awards, departments)

    @rpc(args=MarkPaidIn, result=AwardOut)
    def mark_paid(self, actor, award_id):
        """Finance has paid it: a paid award is never revoked silently afterwards."""
        with self.uow as tx:
            return grants.mark_paid(tx, actor, award_id)

    # -- R20 -------------------------------------------------------------------------------------

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, tx, event):
        grants.remember_member(tx, event["data"])
        grants.disqualify(tx, event["data"]["member_id"], event["data"]["decided_at"],
                          event["data"].get("decided_by"))

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, tx, event):
        grants.remember_member(tx, event["data"])
        grants.reinstate(tx, event["data"]["member_id"], event["data"].get("decided_by"))

    # -- who members are: the winners named in the awards' events ---------------------------

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, tx, event):
        grants.remember_member(tx, event["data"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, tx, event):
        grants.remember_member(tx, event["data"])

    # -- the policy ------------------------------------------------------------------------------

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, tx, event):
        """A new campaign gets the seed's default policy, unless it already has one."""
        data = event["data"]
        grants.adopt_default_policy(tx, data["campaign_id"], data.get("organisation_id"))

    @rpc(args=CampaignIn, result=PolicyLine(many=True))
    def policies(self, campaign_id):
        with self.uow as tx:
            return tx.store.policy(campaign_id)

    @rpc(args=PolicyIn, result=PolicyLine(many=True))
    def set_policies(self, campaign_id, lines, actor=None):
        """Replace a campaign's policy (months already closed keep the awards they got),
        audited with who changed it, the lines before and after."""
        with self.uow as tx:
            return grants.set_policy(tx, campaign_id, lines, actor)
